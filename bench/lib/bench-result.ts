/** One row of the benchmark report. */
export interface BenchResult {
  /** What was measured, e.g. "3-task graph, spans off". */
  readonly name: string;
  /** The figure compared with the target, e.g. "ours / raw Promise.all". */
  readonly metric: string;
  readonly value: number;
  /** Lower is better unless `higherIsBetter`. */
  readonly target: number;
  readonly higherIsBetter?: boolean;
  readonly unit?: string;
  /** Raw figures behind the ratio (times, counts), kept in the JSON report. */
  readonly details: Readonly<Record<string, number | string>>;
}

export function passes(result: BenchResult): boolean {
  return result.higherIsBetter === true ? result.value >= result.target : result.value <= result.target;
}

/** A benchmark: a name and a function that measures and returns its rows. */
export interface Benchmark {
  readonly name: string;
  run(scale: BenchScale): Promise<BenchResult[]>;
}

/** `full` is the documented run; `quick` is a smoke-sized run (CI, development). */
export type BenchScale = 'full' | 'quick';
