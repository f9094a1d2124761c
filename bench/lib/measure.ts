import { performance } from 'node:perf_hooks';

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Nanoseconds per call of `fn`, timed over `iterations` sequential awaited calls. */
async function timePerCall(fn: () => Promise<unknown>, iterations: number): Promise<number> {
  const start = performance.now();
  for (let index = 0; index < iterations; index++) await fn();
  return ((performance.now() - start) * 1e6) / iterations;
}

/**
 * Times several variants of the same work in one run, interleaved round by round so that
 * machine noise (the other core, turbo, GC) hits every variant alike; returns the median
 * nanoseconds per call of each. Warms each variant up first so the JIT has settled.
 */
export async function compareVariants(
  variants: Readonly<Record<string, () => Promise<unknown>>>,
  options: { iterations: number; rounds: number },
): Promise<Record<string, number>> {
  const names = Object.keys(variants);
  for (const name of names) await timePerCall(variants[name]!, options.iterations);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < options.rounds; round++) {
    // Rotate the order each round: no variant always runs first (or right after a GC).
    const order = names.map((_, index) => names[(index + round) % names.length]!);
    for (const name of order) samples[name]!.push(await timePerCall(variants[name]!, options.iterations));
  }
  return Object.fromEntries(names.map((name) => [name, median(samples[name]!)]));
}

export const round = (value: number, digits = 2): number => Number(value.toFixed(digits));
