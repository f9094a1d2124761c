// Okapi BM25 over an in-memory inverted index: the lexical baseline the hashing embedder is
// measured against. Terms come from the caller's tokeniser (the embedder's own), so the two
// differ only in how they weigh terms, not in what a term is.

export interface Bm25Options {
  /** Term-frequency saturation. @default 1.2 */
  readonly k1?: number;
  /** Length normalisation (0: none, 1: full). @default 0.75 */
  readonly b?: number;
}

export interface Bm25Index {
  readonly documentCount: number;
  /** The BM25 score of every document for `terms` (each distinct query term counted once). */
  scoreAll(terms: readonly string[]): Float64Array;
}

interface Posting {
  /** Inverse document frequency, Lucene's form: ln(1 + (N - df + 0.5) / (df + 0.5)), never negative. */
  readonly idf: number;
  readonly documents: Int32Array;
  readonly frequencies: Int32Array;
}

export function buildBm25Index(documents: readonly (readonly string[])[], options: Bm25Options = {}): Bm25Index {
  const k1 = options.k1 ?? 1.2;
  const b = options.b ?? 0.75;
  const count = documents.length;
  const lengths = new Float64Array(count);
  const lists = new Map<string, { documents: number[]; frequencies: number[] }>();
  documents.forEach((terms, documentId) => {
    lengths[documentId] = terms.length;
    const frequencies = new Map<string, number>();
    for (const term of terms) frequencies.set(term, (frequencies.get(term) ?? 0) + 1);
    for (const [term, frequency] of frequencies) {
      let list = lists.get(term);
      if (list === undefined) lists.set(term, (list = { documents: [], frequencies: [] }));
      list.documents.push(documentId);
      list.frequencies.push(frequency);
    }
  });
  const averageLength = lengths.reduce((sum, length) => sum + length, 0) / Math.max(1, count);
  // The length part of the denominator, k1 * (1 - b + b * dl / avgdl), once per document.
  const lengthNorm = lengths.map((length) => k1 * (1 - b + (b * length) / (averageLength || 1)));
  const postings = new Map<string, Posting>();
  for (const [term, list] of lists) {
    const frequency = list.documents.length;
    postings.set(term, {
      idf: Math.log(1 + (count - frequency + 0.5) / (frequency + 0.5)),
      documents: Int32Array.from(list.documents),
      frequencies: Int32Array.from(list.frequencies),
    });
  }
  return {
    documentCount: count,
    scoreAll(terms) {
      const scores = new Float64Array(count);
      for (const term of new Set(terms)) {
        const posting = postings.get(term);
        if (posting === undefined) continue;
        for (let index = 0; index < posting.documents.length; index++) {
          const documentId = posting.documents[index]!;
          const frequency = posting.frequencies[index]!;
          scores[documentId] = scores[documentId]! + (posting.idf * frequency * (k1 + 1)) / (frequency + lengthNorm[documentId]!);
        }
      }
      return scores;
    },
  };
}
