import { keywordSet, type QuotableSentence } from './offline-passage-text.ts';
import { byRank, type ParsedSource } from './offline-sources.ts';

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
  /** Every retrieved source: those not preferred are the others, used when the preferred offer nothing. */
  readonly all: readonly ParsedSource[];
  /** Sentences already quoted elsewhere in the briefing. */
  readonly exclude: ReadonlySet<string>;
}

/**
 * Picks the sentence that best supports a recommendation: two points per keyword hit, one for
 * an instruction-like verb, two for coming from a preferred source. Preferred sources need one
 * hit, others two. Ties go to the higher-scoring source, then the lower source id, then the
 * earlier sentence, so the choice is deterministic.
 */
export function selectQuote(request: QuoteRequest): Quote | undefined {
  const keywords = keywordSet(request.keywords);
  const best = new BestQuote();
  const consider = (source: ParsedSource, preferred: boolean): void => {
    for (const { sentence, hits } of source.passage.matching(keywords)) {
      if (hits < (preferred ? 1 : 2) || request.exclude.has(sentence.sentence)) continue;
      best.offer(source, sentence, hits * 2 + (sentence.actionLike ? 1 : 0) + (preferred ? 2 : 0));
    }
  };
  for (const source of request.preferred) consider(source, true);
  const preferred = new Set(request.preferred);
  for (const source of request.all) if (!preferred.has(source)) consider(source, false);
  return best.quote();
}

/** The best candidate offered so far (kept in place: most sentences offered are not the best). */
class BestQuote {
  #source: ParsedSource | undefined;
  #sentence: QuotableSentence | undefined;
  #score = 0;

  offer(source: ParsedSource, sentence: QuotableSentence, score: number): void {
    if (this.#source !== undefined && !this.#ranksBefore(source, sentence, score)) return;
    this.#source = source;
    this.#sentence = sentence;
    this.#score = score;
  }

  quote(): Quote | undefined {
    return this.#source === undefined ? undefined : { source: this.#source, sentence: this.#sentence!.sentence };
  }

  /** Whether the offered sentence beats the best so far: higher score, then higher source score, then lower source id, then earlier sentence. */
  #ranksBefore(source: ParsedSource, sentence: QuotableSentence, score: number): boolean {
    const byScore = this.#score - score;
    if (byScore !== 0) return byScore < 0;
    // A NaN source score (a malformed result) ranks before nothing: NaN !== 0, and NaN < 0 is false.
    const bySourceScore = this.#source!.score - source.score;
    if (bySourceScore !== 0) return bySourceScore < 0;
    const bySourceId = source.number - this.#source!.number;
    if (bySourceId !== 0) return bySourceId < 0;
    return sentence.index < this.#sentence!.index;
  }
}

/** The first quotable sentence of the best-scoring source: the last resort for a briefing. */
export function firstQuotableSentence(sources: readonly ParsedSource[]): Quote | undefined {
  for (const source of [...sources].sort(byRank)) {
    const first = source.passage.quotable[0];
    if (first !== undefined) return { source, sentence: first.sentence };
  }
  return undefined;
}
