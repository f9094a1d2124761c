/**
 * A seedable `[0, 1)` generator (mulberry32): pass it as `random` to latency and faults so a
 * run draws the same jitter and fails the same calls every time.
 *
 * @example
 * ```ts
 * createMockEmbedder({ faults: { rateLimitRate: 0.2, random: seededRandom(42) } });
 * ```
 */
export function seededRandom(seed: number): () => number {
  return mulberry32(seed >>> 0);
}

export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** 32-bit FNV-1a hash of a string's UTF-16 code units. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
