import { TtlCache, type RetrievedSource } from '@aidoc/core';

/** A guideline passage as the offline model reads it back from a tool result. */
export type ParsedSource = Omit<RetrievedSource, 'pointId'>;

/** A sentence taken verbatim from a retrieved source. */
export interface Quote {
  readonly source: ParsedSource;
  readonly sentence: string;
}

export interface QuoteRequest {
  /** Lower-case phrases a good sentence contains. */
  readonly keywords: readonly string[];
  /** Sources retrieved for this very question (preferred). */
  readonly preferred: readonly ParsedSource[];
  /** Any other retrieved sources (used when the preferred ones offer nothing). */
  readonly others: readonly ParsedSource[];
  /** Sentences already quoted elsewhere in the briefing. */
  readonly exclude: ReadonlySet<string>;
}

const MIN_SENTENCE_LENGTH = 25;
const MAX_SENTENCE_LENGTH = 450;
const ACTION_WORDS = /\b(offer|reduce|stop|avoid|recheck|check|halve|add|increase|withhold|review|consider|use|aim|do not|start|omit|refer|pause|measure|monitor)\b/i;

/**
 * Text addressed to a model rather than to a clinician (a prompt injection planted in a document,
 * or markup). Such sentences are never quoted: the briefing carries guideline prose only.
 */
const NOT_GUIDANCE = /\b(ignore|disregard|forget)\b[^.]*\b(instructions?|prompts?|rules)\b|\bsystem prompt\b|\b(cite|citing)\s+S\d+\b|\bS\d+\b|<\/?[a-z_][\w-]*[^>]*>|\byou are (an?|the) (assistant|model|ai)\b/i;

/**
 * Picks the sentence that best supports a recommendation: two points per keyword hit, one for
 * an instruction-like verb, two for coming from a preferred source. Preferred sources need one
 * hit, others two. Ties go to the higher-scoring source, then the lower source id, then the
 * earlier sentence, so the choice is deterministic.
 */
export function selectQuote(request: QuoteRequest): Quote | undefined {
  let chosen: { quote: Quote; order: readonly number[] } | undefined;
  const candidates = [...request.preferred.map((source) => ({ source, preferred: true })), ...request.others.map((source) => ({ source, preferred: false }))];
  for (const { source, preferred } of candidates) {
    for (const { sentence, lower, index, actionLike } of quotableSentences(source.text)) {
      if (request.exclude.has(sentence)) continue;
      const hits = request.keywords.filter((keyword) => lower.includes(keyword)).length;
      if (hits < (preferred ? 1 : 2)) continue;
      const score = hits * 2 + (actionLike ? 1 : 0) + (preferred ? 2 : 0);
      const order = [-score, -source.score, sourceNumber(source.id), index];
      if (chosen === undefined || compareOrder(order, chosen.order) < 0) chosen = { quote: { source, sentence }, order };
    }
  }
  return chosen?.quote;
}

/** The first quotable sentence of the best-scoring source: the last resort for a briefing. */
export function firstQuotableSentence(sources: readonly ParsedSource[]): Quote | undefined {
  const ordered = [...sources].sort((left, right) => right.score - left.score || sourceNumber(left.id) - sourceNumber(right.id));
  for (const source of ordered) {
    const first = quotableSentences(source.text)[0];
    if (first !== undefined) return { source, sentence: first.sentence };
  }
  return undefined;
}

/** Sentences of a passage, without Markdown heading lines or list markers. */
export function splitSentences(text: string): string[] {
  return text
    .split(/\n+/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith('#'))
    .map((line) => line.replace(/^(?:[-*+]|\d+[.)])\s+/, '').replace(/^_(.*)_$/, '$1'))
    .flatMap((line) => line.split(/(?<=[.!?])\s+(?=["'(A-Z0-9])/))
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence.length > 0);
}

interface QuotableSentence {
  readonly sentence: string;
  readonly lower: string;
  /** Position among all the passage's sentences (ties go to the earlier one). */
  readonly index: number;
  readonly actionLike: boolean;
}

/**
 * The same guideline passages come back in briefing after briefing; splitting and screening
 * them once per distinct text keeps the offline model's CPU per briefing low under load.
 */
const quotableByText = new TtlCache<string, readonly QuotableSentence[]>({ maxEntries: 4096, ttlMs: 3_600_000 });

function quotableSentences(text: string): readonly QuotableSentence[] {
  let sentences = quotableByText.get(text);
  if (sentences === undefined) {
    sentences = splitSentences(text).flatMap((sentence, index) =>
      isQuotable(sentence) ? [{ sentence, lower: sentence.toLowerCase(), index, actionLike: ACTION_WORDS.test(sentence) }] : [],
    );
    quotableByText.set(text, sentences);
  }
  return sentences;
}

function isQuotable(sentence: string): boolean {
  return sentence.length >= MIN_SENTENCE_LENGTH && sentence.length <= MAX_SENTENCE_LENGTH && !NOT_GUIDANCE.test(sentence) && !/not medical advice/i.test(sentence);
}

/** 3 for "S3"; unknown shapes sort last. */
export function sourceNumber(id: string): number {
  const match = /^S(\d+)$/.exec(id);
  return match === null ? Number.MAX_SAFE_INTEGER : Number(match[1]);
}

function compareOrder(left: readonly number[], right: readonly number[]): number {
  for (let index = 0; index < left.length; index++) {
    const difference = left[index]! - right[index]!;
    if (difference !== 0) return difference;
  }
  return 0;
}

/** Whether a source's text mentions any of the terms (case-insensitive, on word boundaries). */
export function mentionsAny(source: ParsedSource, terms: readonly string[]): boolean {
  let text = lowerByText.get(source.text);
  if (text === undefined) {
    text = source.text.toLowerCase();
    lowerByText.set(source.text, text);
  }
  return terms.some((term) => wordPattern(term).test(text));
}

const lowerByText = new TtlCache<string, string>({ maxEntries: 4096, ttlMs: 3_600_000 });

const wordPatterns = new TtlCache<string, RegExp>({ maxEntries: 1024, ttlMs: 3_600_000 });

/** `term` on word boundaries, case-insensitive; compiled once per term. */
function wordPattern(term: string): RegExp {
  let pattern = wordPatterns.get(term);
  if (pattern === undefined) {
    pattern = new RegExp(`(^|[^a-z0-9])${escapeRegExp(term.toLowerCase())}($|[^a-z0-9])`);
    wordPatterns.set(term, pattern);
  }
  return pattern;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
