import { parseSources, type RetrievedSource } from '@aidoc/core';
import { passageText, type PassageText } from './offline-passage-text.ts';

/** A guideline passage as the offline model reads it back from a tool result. */
export interface ParsedSource extends Omit<RetrievedSource, 'pointId'> {
  /** 3 for "S3", from the id; unknown shapes sort last. */
  readonly number: number;
  /** What the rules read from the text (shared by every source with the same text). */
  readonly passage: PassageText;
}

/** The sources of one `search_guidelines` result, as `formatSources` wrote them. */
export function readSources(content: string): ParsedSource[] {
  return parseSources(content).map((source) => ({ ...source, number: sourceNumber(source.id), passage: passageText(source.text) }));
}

/** 3 for "S3"; unknown shapes sort last. */
export function sourceNumber(id: string): number {
  const match = /^S(\d+)$/.exec(id);
  return match === null ? Number.MAX_SAFE_INTEGER : Number(match[1]);
}

/** Best-scoring first, then the lower source id. */
export function byRank(left: ParsedSource, right: ParsedSource): number {
  return right.score - left.score || left.number - right.number;
}
