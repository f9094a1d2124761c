/**
 * The text side of the hashing embedder: normalisation, word tokens, a tiny stopword list and a
 * light suffix stemmer. Kept apart from the hashing so that a lexical baseline (the BM25 of the
 * retrieval benchmark) tokenises exactly as the embedder does.
 */

/** How {@link tokenize} turns text into words. */
export interface TokenizeOptions {
  /** Drop the words of {@link STOPWORDS} (and, for a query, of {@link QUERY_FRAMING_WORDS}). */
  readonly stopwords: boolean;
  /** The text is a question or search rather than a passage. */
  readonly query?: boolean;
}

/**
 * Function words that carry no topic: articles, pronouns, auxiliaries, common prepositions and
 * the question words ("what", "how"). Negations ("no", "not", "without") stay: in clinical text
 * they change what a passage says.
 */
export const STOPWORDS: ReadonlySet<string> = new Set([
  'a', 'about', 'after', 'all', 'also', 'am', 'an', 'and', 'any', 'are', 'as', 'at', 'be', 'been',
  'being', 'but', 'by', 'can', 'could', 'did', 'do', 'does', 'for', 'from', 'had', 'has', 'have',
  'he', 'her', 'him', 'his', 'how', 'i', 'if', 'in', 'into', 'is', 'it', 'its', 'may', 'me',
  'might', 'my', 'of', 'on', 'or', 'our', 's', 'she', 'should', 'so', 'some', 'such', 't', 'than',
  'that', 'the', 'their', 'them', 'then', 'there', 'these', 'they', 'this', 'those', 'to', 'us',
  'was', 'we', 'were', 'what', 'when', 'where', 'which', 'while', 'who', 'whom', 'why', 'will',
  'with', 'would', 'you', 'your',
]);

/**
 * Words that frame a request rather than name its topic ("do you have information about
 * anaemia?", "please explain ..."). Dropped from queries only: in a passage they are ordinary
 * words.
 */
export const QUERY_FRAMING_WORDS: ReadonlySet<string> = new Set([
  'anything', 'describe', 'details', 'explain', 'information', 'know', 'learn', 'please', 'tell', 'want',
]);

// A letter or digit, then letters, combining marks and digits; everything else separates words.
const WORD = /[\p{L}\p{N}][\p{L}\p{M}\p{N}]*/gu;
// English possessives and contractions ("Alzheimer's", "doesn't") end the word at the apostrophe.
const APOSTROPHE_SUFFIX = /['\u2019](?:s|t|re|ve|ll|d|m)(?![\p{L}\p{N}])/gu;

/**
 * Unicode NFKC (full-width forms, ligatures and superscripts fold to plain letters), then lower
 * case (locale-independent, so every machine gets the same result).
 */
export function normalizeText(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

/**
 * The words of `text` after {@link normalizeText}, in order, without punctuation. Filtering never
 * empties a text that has words: "what is it?" keeps all three rather than becoming nothing.
 */
export function tokenize(text: string, options: TokenizeOptions): string[] {
  const words = normalizeText(text).replace(APOSTROPHE_SUFFIX, '').match(WORD) ?? [];
  if (!options.stopwords) return words;
  const framing = options.query === true;
  const content = words.filter((word) => !STOPWORDS.has(word) && !(framing && QUERY_FRAMING_WORDS.has(word)));
  return content.length > 0 ? content : words;
}

/**
 * A light English stemmer for plain a-z words (anything else is returned as is). It folds
 * plurals, "-ed" and "-ing", a final "e" and a final "y" onto one stem, so "dose", "doses" and
 * "dosing" all give "dos", "therapy" and "therapies" give "therapi", "kidney" and "kidneys" give
 * "kidnei". Conservative: it keeps "-ss", "-us" and "-is" endings ("virus", "diagnosis") and words
 * in "-eed" ("bleed"), and strips "-ed" / "-ing" only when a vowel is left ("bring" stays).
 */
export function stem(word: string): string {
  if (word.length < 3 || !/^[a-z]+$/.test(word)) return word;
  let result = word;
  if (result.endsWith('ies') && result.length > 4) result = `${result.slice(0, -3)}y`;
  else if (/(?:sh|ch|[sxz])es$/.test(result)) result = result.slice(0, -2);
  else if (result.endsWith('s') && !/(?:ss|us|is)$/.test(result)) result = result.slice(0, -1);
  const inflection = /(?:ing|ed)$/.exec(result);
  if (inflection !== null && !result.endsWith('eed')) {
    const base = result.slice(0, inflection.index);
    // "stopped" -> "stop", but "swelling" -> "swell".
    if (base.length >= 2 && /[aeiouy]/.test(base)) result = /([bdgmnprt])\1$/.test(base) ? base.slice(0, -1) : base;
  }
  if (result.length >= 3 && result.endsWith('e')) result = result.slice(0, -1);
  else if (result.length >= 3 && result.endsWith('y')) result = `${result.slice(0, -1)}i`;
  return result;
}
