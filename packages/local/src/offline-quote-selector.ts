import type { RetrievedSource } from '@aidoc/core';

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
    splitSentences(source.text).forEach((sentence, sentenceIndex) => {
      if (request.exclude.has(sentence) || !isQuotable(sentence)) return;
      const lower = sentence.toLowerCase();
      const hits = request.keywords.filter((keyword) => lower.includes(keyword)).length;
      if (hits < (preferred ? 1 : 2)) return;
      const score = hits * 2 + (ACTION_WORDS.test(sentence) ? 1 : 0) + (preferred ? 2 : 0);
      const order = [-score, -source.score, sourceNumber(source.id), sentenceIndex];
      if (chosen === undefined || compareOrder(order, chosen.order) < 0) chosen = { quote: { source, sentence }, order };
    });
  }
  return chosen?.quote;
}

/** The first quotable sentence of the best-scoring source: the last resort for a briefing. */
export function firstQuotableSentence(sources: readonly ParsedSource[]): Quote | undefined {
  const ordered = [...sources].sort((left, right) => right.score - left.score || sourceNumber(left.id) - sourceNumber(right.id));
  for (const source of ordered) {
    const sentence = splitSentences(source.text).find((candidate) => isQuotable(candidate));
    if (sentence !== undefined) return { source, sentence };
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
  const text = source.text.toLowerCase();
  return terms.some((term) => new RegExp(`(^|[^a-z0-9])${escapeRegExp(term.toLowerCase())}($|[^a-z0-9])`).test(text));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
