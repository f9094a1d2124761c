/**
 * Cosine similarity of two vectors of equal length, clamped to `[-1, 1]` against rounding; `0`
 * when either vector is all zeros (no direction to compare).
 */
export function cosineSimilarity(left: ArrayLike<number>, right: ArrayLike<number>): number {
  let dot = 0;
  let leftNorm = 0;
  let rightNorm = 0;
  const length = Math.min(left.length, right.length);
  for (let index = 0; index < length; index++) {
    const a = left[index] ?? 0;
    const b = right[index] ?? 0;
    dot += a * b;
    leftNorm += a * a;
    rightNorm += b * b;
  }
  return cosineFromDot(dot, Math.sqrt(leftNorm), Math.sqrt(rightNorm));
}

/** Cosine similarity from a dot product and the two norms, for callers that keep norms. */
export function cosineFromDot(dot: number, leftNorm: number, rightNorm: number): number {
  if (leftNorm === 0 || rightNorm === 0) return 0;
  return Math.min(1, Math.max(-1, dot / (leftNorm * rightNorm)));
}
