import { fnv1a, mulberry32 } from './seeded-random.ts';

/**
 * The mock's default embedding: each word (lower-cased letters and digits) hashes to a
 * pseudo-random direction; the text's vector is their normalised sum. Identical texts give
 * identical vectors, and texts sharing words score high cosine similarity.
 */
export function hashEmbedding(text: string, dimensions: number): Float32Array {
  let sum = new Float64Array(dimensions);
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [text];
  for (const word of words) {
    const next = mulberry32(fnv1a(word));
    sum = sum.map((value) => value + next() * 2 - 1);
  }
  let norm = 0;
  for (const value of sum) norm += value * value;
  norm = Math.sqrt(norm);
  if (norm === 0) return Float32Array.from(sum, (_value, index) => (index === 0 ? 1 : 0));
  return Float32Array.from(sum, (value) => value / norm);
}
