// The exact-search kernel of the file vector store: dot products of unit vectors over a slice of
// the row-major matrix, keeping each query's best `limit` rows in a small binary min-heap.
// It runs on the calling thread for small scans and on worker threads for large ones
// (file-vector-store-scan-worker.ts), so it imports nothing and takes only cloneable data.

/** One search of a scan. */
export interface ScanQuery {
  /** The L2-normalised query. Float64 so the inner loop converts only the stored float32 side. */
  readonly vector: Float64Array;
  /** Best rows to keep (at most the rows in the slice are returned). */
  readonly limit: number;
  /** Rows the query's filter allows (non-zero = allowed), indexed from the slice's `start`; undefined allows every row. */
  readonly mask: Uint8Array | undefined;
}

/** A slice of the matrix and the searches to run over it. */
export interface ScanRequest {
  /** The matrix: `dimensions` float32 components per row, row after row. */
  readonly buffer: SharedArrayBuffer | ArrayBuffer;
  readonly dimensions: number;
  /** First row of the slice. */
  readonly start: number;
  /** Row after the last row of the slice. */
  readonly end: number;
  readonly queries: readonly ScanQuery[];
}

/** The best rows of one query in a slice, best first (ties: lower row first). */
export interface ScanHits {
  readonly rows: Int32Array;
  readonly scores: Float64Array;
}

/**
 * Scores every row of the slice against each query and returns each query's best rows. Queries
 * run one after another, each as one tight pass over the rows: at 768 dimensions the multiplies,
 * not memory, bound the scan, so sharing row reads between queries would gain little.
 */
export function scanVectors(request: ScanRequest): ScanHits[] {
  return request.queries.map((query) => scanQuery(request, query));
}

function scanQuery({ buffer, dimensions, start, end }: ScanRequest, { vector: query, limit, mask }: ScanQuery): ScanHits {
  const best = new TopRows(Math.max(0, Math.min(limit, end - start)));
  const rowBytes = dimensions * 4;
  // Dimensions past the last multiple of four are summed after the unrolled loop.
  const unrolled = dimensions - (dimensions % 4);
  for (let row = start; row < end; row++) {
    if (mask !== undefined && mask[row - start] === 0) continue;
    // A fixed-length view per row: V8 compiles indexed access to it far better than to one
    // view over the whole (growable) buffer (measured: 50 ms against over 1 s at 100k x 768).
    const vector = new Float32Array(buffer, row * rowBytes, dimensions);
    // Four independent sums, so the multiplies pipeline.
    let sum0 = 0;
    let sum1 = 0;
    let sum2 = 0;
    let sum3 = 0;
    for (let index = 0; index < unrolled; index += 4) {
      sum0 += vector[index]! * query[index]!;
      sum1 += vector[index + 1]! * query[index + 1]!;
      sum2 += vector[index + 2]! * query[index + 2]!;
      sum3 += vector[index + 3]! * query[index + 3]!;
    }
    for (let index = unrolled; index < dimensions; index++) sum0 += vector[index]! * query[index]!;
    best.offer(sum0 + sum1 + sum2 + sum3, row);
  }
  return best.sorted();
}

/** A binary min-heap of (score, row) holding the best `capacity` rows offered so far. */
class TopRows {
  readonly #scores: Float64Array;
  readonly #rows: Int32Array;
  #size = 0;

  constructor(capacity: number) {
    this.#scores = new Float64Array(capacity);
    this.#rows = new Int32Array(capacity);
  }

  offer(score: number, row: number): void {
    const capacity = this.#scores.length;
    if (this.#size < capacity) {
      this.#siftUp(this.#size++, score, row);
    } else if (capacity > 0 && score > this.#scores[0]!) {
      // Rows arrive in ascending order, so on a tie the earlier (lower) row stays.
      this.#siftDown(score, row);
    }
  }

  /** The kept rows, best first; ties in ascending row order. */
  sorted(): ScanHits {
    const order = Array.from({ length: this.#size }, (_, index) => index);
    order.sort((a, b) => this.#scores[b]! - this.#scores[a]! || this.#rows[a]! - this.#rows[b]!);
    return {
      rows: Int32Array.from(order, (index) => this.#rows[index]!),
      scores: Float64Array.from(order, (index) => this.#scores[index]!),
    };
  }

  /** True when the entry at `a` must sit above the entry at `b` (lower score; on a tie, the higher row is evicted first). */
  #before(scoreA: number, rowA: number, scoreB: number, rowB: number): boolean {
    return scoreA < scoreB || (scoreA === scoreB && rowA > rowB);
  }

  #siftUp(position: number, score: number, row: number): void {
    const scores = this.#scores;
    const rows = this.#rows;
    while (position > 0) {
      const parent = (position - 1) >> 1;
      if (!this.#before(score, row, scores[parent]!, rows[parent]!)) break;
      scores[position] = scores[parent]!;
      rows[position] = rows[parent]!;
      position = parent;
    }
    scores[position] = score;
    rows[position] = row;
  }

  /** Replaces the root (the worst kept row) and restores the heap. */
  #siftDown(score: number, row: number): void {
    const scores = this.#scores;
    const rows = this.#rows;
    const size = this.#size;
    let position = 0;
    for (;;) {
      let child = 2 * position + 1;
      if (child >= size) break;
      const right = child + 1;
      if (right < size && this.#before(scores[right]!, rows[right]!, scores[child]!, rows[child]!)) child = right;
      if (!this.#before(scores[child]!, rows[child]!, score, row)) break;
      scores[position] = scores[child]!;
      rows[position] = rows[child]!;
      position = child;
    }
    scores[position] = score;
    rows[position] = row;
  }
}
