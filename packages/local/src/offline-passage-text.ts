import { memoiseText } from '@aidoc/core';
import { BoundedCache, memoise } from './offline-memo.ts';

/** A sentence of a passage that the offline model may quote. */
export interface QuotableSentence {
  readonly sentence: string;
  readonly lower: string;
  /** Position among all the passage's sentences (ties go to the earlier one). */
  readonly index: number;
  readonly actionLike: boolean;
}

const MIN_SENTENCE_LENGTH = 25;
const MAX_SENTENCE_LENGTH = 450;
const ACTION_WORDS = /\b(offer|reduce|stop|avoid|recheck|check|halve|add|increase|withhold|review|consider|use|aim|do not|start|omit|refer|pause|measure|monitor)\b/i;

/**
 * Text addressed to a model rather than to a clinician (a prompt injection planted in a document,
 * or markup). Such sentences are never quoted: the briefing carries guideline prose only.
 */
const NOT_GUIDANCE = /\b(ignore|disregard|forget)\b[^.]*\b(instructions?|prompts?|rules)\b|\bsystem prompt\b|\b(cite|citing)\s+S\d+\b|\bS\d+\b|<\/?[a-z_][\w-]*[^>]*>|\byou are (an?|the) (assistant|model|ai)\b/i;

/** Keyword sets and terms remembered per passage (the oldest dropped first past this). */
const MAX_LOOKUPS_PER_PASSAGE = 64;
/** Passages remembered (the oldest dropped first past this). */
const MAX_PASSAGES = 2048;

/** Phrases to look for in sentences, with a key naming the list (results are remembered by it). */
export interface KeywordSet {
  readonly keywords: readonly string[];
  readonly key: string;
}

const keywordSets = new WeakMap<readonly string[], KeywordSet>();

/**
 * The keyword set of a list, one per list object: findings are shared by every briefing on the
 * same record, so their lists (and the key strings, hashed once) are too.
 */
export function keywordSet(keywords: readonly string[]): KeywordSet {
  let set = keywordSets.get(keywords);
  if (set === undefined) {
    set = { keywords, key: JSON.stringify(keywords) };
    keywordSets.set(keywords, set);
  }
  return set;
}

/** A quotable sentence and how many of a keyword set's keywords it contains. */
export interface KeywordMatch {
  readonly sentence: QuotableSentence;
  readonly hits: number;
}

/**
 * What the offline rules read from one guideline passage: its quotable sentences, and (asked
 * lazily, remembered) which sentences contain a set of keywords and whether the passage mentions
 * a term. It depends on the text alone, so one instance serves every source with that text.
 */
export class PassageText {
  readonly quotable: readonly QuotableSentence[];
  readonly #lower: string;
  readonly #matches = new BoundedCache<readonly KeywordMatch[]>(MAX_LOOKUPS_PER_PASSAGE);
  readonly #mentions = new BoundedCache<boolean>(MAX_LOOKUPS_PER_PASSAGE);

  constructor(text: string) {
    this.quotable = splitSentences(text).flatMap((sentence, index) =>
      isQuotable(sentence) ? [{ sentence, lower: sentence.toLowerCase(), index, actionLike: ACTION_WORDS.test(sentence) }] : [],
    );
    this.#lower = text.toLowerCase();
  }

  /**
   * The quotable sentences that contain at least one of the keywords (in the passage's order),
   * each with how many it contains (a keyword listed twice counts twice).
   */
  matching({ keywords, key }: KeywordSet): readonly KeywordMatch[] {
    let matches = this.#matches.get(key);
    if (matches === undefined) {
      matches = this.quotable.flatMap((sentence) => {
        const hits = keywords.filter((keyword) => sentence.lower.includes(keyword)).length;
        return hits === 0 ? [] : [{ sentence, hits }];
      });
      this.#matches.set(key, matches);
    }
    return matches;
  }

  /** Whether the passage mentions any of the terms (case-insensitive, on word boundaries). */
  mentionsAny(terms: readonly string[]): boolean {
    for (const term of terms) if (this.#mentionsTerm(term)) return true;
    return false;
  }

  #mentionsTerm(term: string): boolean {
    let found = this.#mentions.get(term);
    if (found === undefined) {
      found = wordPattern(term).test(this.#lower);
      this.#mentions.set(term, found);
    }
    return found;
  }
}

/**
 * The reading of a passage text. The same guideline passages come back in briefing after
 * briefing, so each distinct text is split and screened once.
 */
export const passageText: (text: string) => PassageText = memoiseText((text) => new PassageText(text), MAX_PASSAGES);

/** Sentences of a passage, without Markdown heading lines or list markers. */
function splitSentences(text: string): string[] {
  return text
    .split(/\n+/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith('#'))
    .map((line) => line.replace(/^(?:[-*+]|\d+[.)])\s+/, '').replace(/^_(.*)_$/, '$1'))
    .flatMap((line) => line.split(/(?<=[.!?])\s+(?=["'(A-Z0-9])/))
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence.length > 0);
}

function isQuotable(sentence: string): boolean {
  return sentence.length >= MIN_SENTENCE_LENGTH && sentence.length <= MAX_SENTENCE_LENGTH && !NOT_GUIDANCE.test(sentence) && !/not medical advice/i.test(sentence);
}

/** `term` on word boundaries, case-insensitive; compiled once per term. */
const wordPattern: (term: string) => RegExp = memoise((term) => new RegExp(`(^|[^a-z0-9])${escapeRegExp(term.toLowerCase())}($|[^a-z0-9])`), 1024);

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
