import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createOffloader, type Offloader } from '@aidoc/core';
import type { VectorMatrix } from './file-vector-store-matrix.ts';
import { scanVectors, type ScanHits, type ScanQuery, type ScanRequest } from './file-vector-store-scan.ts';

/** The worker module beside this one: `.ts` when run from source, `.js`/`.cjs` when built. */
const WORKER_FILE = new URL(
  `./file-vector-store-scan-worker${extname(fileURLToPath(import.meta.url))}`,
  import.meta.url,
);

export interface VectorScannerOptions {
  /** Worker threads a large scan is split across; 0 scans on the calling thread. */
  readonly threads: number;
  /** Scans below this many multiply-adds (rows x dimensions x queries) stay on the calling thread. */
  readonly workerThreshold: number;
}

/**
 * Runs exact searches over a matrix. A large scan is split into one contiguous slice of rows per
 * worker thread (the matrix is a SharedArrayBuffer, so nothing is copied but the queries), each
 * slice returns its best rows, and the slices' results are merged here; the event loop stays
 * free meanwhile. A small scan runs inline: a worker round trip would cost more than it.
 */
export class VectorScanner {
  readonly #options: VectorScannerOptions;
  #offloader: Offloader<ScanRequest, ScanHits[]> | undefined;

  constructor(options: VectorScannerOptions) {
    this.#options = options;
  }

  /** Each query's best rows among the matrix's rows in use; `mask`s cover all those rows. */
  async scan(matrix: VectorMatrix, queries: readonly ScanQuery[]): Promise<ScanHits[]> {
    const rows = matrix.rowCount;
    const request = { buffer: matrix.buffer, dimensions: matrix.dimensions, start: 0, end: rows, queries };
    const { threads, workerThreshold } = this.#options;
    const slices = Math.min(threads, rows);
    if (slices === 0 || rows * matrix.dimensions * queries.length < workerThreshold) return scanVectors(request);

    // Threads stay until destroy(): a fresh one costs about 150 ms (start, load, JIT warm-up),
    // which a query after a quiet spell should not pay. Idle threads do not hold the process open.
    this.#offloader ??= createOffloader<ScanRequest, ScanHits[]>({ filename: WORKER_FILE, maxThreads: threads, idleTimeoutMs: Infinity });
    const offloader = this.#offloader;
    const jobs = Array.from({ length: slices }, (_, slice) => {
      const start = Math.floor((rows * slice) / slices);
      const end = Math.floor((rows * (slice + 1)) / slices);
      return offloader.run({
        ...request,
        start,
        end,
        // A job copies its masks, so it gets its slice only.
        queries: queries.map((query) => ({ ...query, mask: query.mask?.slice(start, end) })),
      });
    });
    const results = await Promise.all(jobs);
    return queries.map((query, index) => merge(results.map((result) => result[index]!), query.limit));
  }

  /** Stops the worker threads (a later scan starts new ones). */
  async destroy(): Promise<void> {
    const offloader = this.#offloader;
    this.#offloader = undefined;
    await offloader?.destroy();
  }
}

/** The best `limit` of several slices' hits, best first; ties in row order, as within a slice. */
function merge(slices: readonly ScanHits[], limit: number): ScanHits {
  const candidates: { row: number; score: number }[] = [];
  for (const { rows, scores } of slices) {
    for (let index = 0; index < rows.length; index++) candidates.push({ row: rows[index]!, score: scores[index]! });
  }
  candidates.sort((a, b) => b.score - a.score || a.row - b.row);
  const best = candidates.slice(0, limit);
  return { rows: Int32Array.from(best, ({ row }) => row), scores: Float64Array.from(best, ({ score }) => score) };
}
