import { expectDelay, expectOptionalFunction, invalidOption } from '../errors/validate-option.ts';

/**
 * How long a mock takes to answer, modelled as a round trip plus work per item. Benchmarks use it
 * to make I/O waits visible (a pipeline that serialises independent calls shows it at once);
 * tests use it to keep calls in flight long enough to abort them.
 */
export interface SimulatedLatency {
  /**
   * The round trip every call pays, whatever its size.
   * @default 0
   */
  readonly fixedMs?: number;
  /**
   * A uniformly random extra delay in `[0, jitterMs)`, so concurrent calls finish out of order.
   * @default 0
   */
  readonly jitterMs?: number;
  /**
   * Work per item: per text for `embed`, per point for `upsert`, per query for `queryBatch`, per
   * output token for `generate`. A refused call (rate limited, unavailable) does not pay it.
   * @default 0
   */
  readonly perItemMs?: number;
  /**
   * Source of the jitter in `[0, 1)`; pass a seeded generator for reproducible runs.
   * @default Math.random
   */
  readonly random?: () => number;
}

/** Throws a p-queue style `TypeError` naming the first invalid field of `latency`. */
export function validateLatency(name: string, latency: SimulatedLatency | undefined): void {
  if (latency === undefined) return;
  if (typeof latency !== 'object' || latency === null) throw invalidOption(name, 'an object', latency);
  if (latency.fixedMs !== undefined) expectDelay(`${name}.fixedMs`, latency.fixedMs);
  if (latency.jitterMs !== undefined) expectDelay(`${name}.jitterMs`, latency.jitterMs);
  if (latency.perItemMs !== undefined) expectDelay(`${name}.perItemMs`, latency.perItemMs);
  expectOptionalFunction(`${name}.random`, latency.random);
}

/** The round-trip part of one call's delay: `fixedMs` plus a draw of jitter. */
export function roundTripMs(latency: SimulatedLatency | undefined): number {
  if (latency === undefined) return 0;
  const jitter = latency.jitterMs === undefined || latency.jitterMs === 0 ? 0 : (latency.random ?? Math.random)() * latency.jitterMs;
  return (latency.fixedMs ?? 0) + jitter;
}

/** The per-item part of one call's delay. */
export function itemsMs(latency: SimulatedLatency | undefined, items: number): number {
  return (latency?.perItemMs ?? 0) * items;
}
