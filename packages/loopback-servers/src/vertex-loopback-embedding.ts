/**
 * The loopback Vertex server's stand-in for a text-embedding model: each word (lower-cased
 * letters and digits) seeds a pseudo-random sequence; the text's vector is the sum of the first
 * `dimensions` values of each, L2-normalised. A shorter `outputDimensionality` therefore gives a
 * prefix of the longer vector, renormalised, as Matryoshka models do. Identical texts give identical vectors, texts that
 * share words score a high cosine similarity, and a test can recompute any vector the server
 * returned.
 */
export function vertexLoopbackEmbedding(text: string, dimensions: number): number[] {
  const sum = new Float64Array(dimensions);
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [text];
  for (const word of words) {
    const next = mulberry32(fnv1a(word));
    for (let index = 0; index < dimensions; index++) sum[index] = sum[index]! + next() * 2 - 1;
  }
  let squares = 0;
  for (const value of sum) squares += value * value;
  if (squares === 0) return Array.from(sum, (_value, index) => (index === 0 ? 1 : 0));
  const scale = 1 / Math.sqrt(squares);
  return Array.from(sum, (value) => value * scale);
}

/** FNV-1a over UTF-16 code units, unsigned 32-bit. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193) >>> 0;
  return hash;
}

/** A small seeded generator of numbers in [0, 1). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}
