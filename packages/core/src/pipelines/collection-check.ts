import { performance } from 'node:perf_hooks';
import type { CollectionInfo } from '../contracts/vector-store.ts';
import { AidocError } from '../errors/aidoc-error.ts';
import { Coalescer } from '../executor/coalesce.ts';

/**
 * Whether the guideline collection is ready for briefings: it exists and holds points. A busy
 * service would otherwise ask the vector store on every briefing; a ready answer is remembered
 * for `ttlMs` and concurrent checks share one call. A missing or empty collection is never
 * remembered: the next briefing asks again (ingestion may have just run).
 */
export class CollectionCheck {
  readonly #collection: string;
  readonly #ttlMs: number;
  readonly #inFlight = new Coalescer<CollectionInfo>();
  /** `performance.now()` time until which the collection is known to be ready. */
  #readyUntil = Number.NEGATIVE_INFINITY;

  constructor(collection: string, ttlMs: number) {
    this.#collection = collection;
    this.#ttlMs = ttlMs;
  }

  /**
   * Resolves when the collection is ready, asking `fetchInfo` unless a ready answer is fresh;
   * rejects with `COLLECTION_EMPTY` (telling the user to run ingestion) when it is missing or empty.
   */
  async ensureReady(fetchInfo: (signal: AbortSignal) => Promise<CollectionInfo>, signal: AbortSignal | undefined): Promise<void> {
    if (performance.now() < this.#readyUntil) return;
    const info = await this.#inFlight.run(this.#collection, fetchInfo, signal === undefined ? {} : { signal });
    if (!info.exists || info.pointCount === 0) {
      throw new AidocError(
        'COLLECTION_EMPTY',
        `The guideline collection "${this.#collection}" is ${info.exists ? 'empty' : 'missing'}: run ingestion first (e.g. \`npm run ingest -- <guideline files>\`)`,
        { details: { collection: this.#collection } },
      );
    }
    if (this.#ttlMs > 0) this.#readyUntil = performance.now() + this.#ttlMs;
  }
}
