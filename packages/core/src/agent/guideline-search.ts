import type { Embedder } from '../contracts/embedder.ts';
import type { Filter, ScoredPoint, VectorQuery, VectorStore } from '../contracts/vector-store.ts';
import { callUpstream, type CallPolicy } from '../executor/call-policy.ts';
import { Coalescer } from '../executor/coalesce.ts';
import { gather } from '../executor/gather.ts';
import { MicroBatcher } from '../executor/micro-batcher.ts';
import { memoiseText } from '../executor/text-memo.ts';
import { TtlCache } from '../executor/ttl-cache.ts';

export interface GuidelineSearchOptions {
  readonly embedder: Embedder;
  readonly vectorStore: VectorStore;
  readonly collection: string;
  /** Restricts every search (e.g. to one guideline set). */
  readonly filter?: Filter;
  readonly embedderPolicy: CallPolicy;
  readonly vectorStorePolicy: CallPolicy;
  /**
   * Query embeddings kept for reuse: the same questions recur across patients.
   * @default { maxEntries: 1000, ttlMs: 600_000 }
   */
  readonly queryCache?: { readonly maxEntries: number; readonly ttlMs: number };
}

/** Upstream calls one run made (for usage reporting). */
export interface SearchCounters {
  embeddingCalls: number;
  vectorStoreCalls: number;
}

/** Searches for one briefing run: a run's concurrent searches share batched upstream calls. */
export interface RunSearch {
  search(query: string, limit: number, signal: AbortSignal | undefined): Promise<ScoredPoint[]>;
  readonly counters: SearchCounters;
}

/**
 * The search tool's engine: embed the query, then search the vector store. Per pipeline, query
 * embeddings are cached (TTL/LRU) and identical concurrent queries, from any request, share one
 * embedding. Per run, the searches of one turn become at most ONE embedding call and ONE
 * vector-store round trip (`queryBatch` where the store has it, parallel `query` calls otherwise),
 * however their embeddings arrive, so k searches cost 2 round trips instead of 2k, and every call
 * lands in that request's trace.
 */
export class GuidelineSearch {
  readonly #options: GuidelineSearchOptions;
  readonly #cache: TtlCache<string, Float32Array>;
  readonly #inFlight = new Coalescer<Float32Array>();

  constructor(options: GuidelineSearchOptions) {
    this.#options = options;
    this.#cache = new TtlCache(options.queryCache ?? { maxEntries: 1000, ttlMs: 600_000 });
  }

  /** Starts the search state of one run. */
  forRun(): RunSearch {
    const { embedder, vectorStore, collection, filter, embedderPolicy, vectorStorePolicy } = this.#options;
    const counters: SearchCounters = { embeddingCalls: 0, vectorStoreCalls: 0 };
    const embeddings = new MicroBatcher<string, Float32Array>({
      maxBatchSize: embedder.maxBatchSize,
      execute: (texts, signal) => {
        counters.embeddingCalls++;
        return callUpstream('embedder.embed', embedderPolicy, signal, (attemptSignal) =>
          embedder.embed(texts, { kind: 'query', signal: attemptSignal }),
        );
      },
    });
    const searches = new MicroBatcher<VectorQuery, ScoredPoint[]>({
      maxBatchSize: 64,
      execute: (queries, signal) => {
        if (vectorStore.supportsQueryBatch && vectorStore.queryBatch !== undefined) {
          counters.vectorStoreCalls++;
          const queryBatch = vectorStore.queryBatch.bind(vectorStore);
          return callUpstream('vectorStore.queryBatch', vectorStorePolicy, signal, (attemptSignal) =>
            queryBatch(collection, queries, { signal: attemptSignal }),
          );
        }
        counters.vectorStoreCalls += queries.length;
        return gather(
          queries.map((query) => () =>
            callUpstream('vectorStore.query', vectorStorePolicy, signal, (attemptSignal) =>
              vectorStore.query(collection, query, { signal: attemptSignal }),
            ),
          ),
          { signal, trace: false },
        );
      },
    });

    const embed = async (query: string, signal: AbortSignal | undefined): Promise<Float32Array> => {
      const key = normaliseQuery(query);
      const cached = this.#cache.get(key);
      if (cached !== undefined) return cached;
      const vector = await this.#inFlight.run(key, (sharedSignal) => embeddings.load(query.trim(), { signal: sharedSignal }), { signal });
      this.#cache.set(key, vector);
      return vector;
    };

    return {
      counters,
      search: async (query, limit, signal) => {
        // The turn's searches wait for each other: their embeddings may come back from different
        // calls (cached, shared with another request, or this run's), a few ticks apart.
        const done = searches.announce();
        try {
          const vector = await embed(query, signal);
          const hits = searches.load({ vector, limit, ...(filter === undefined ? {} : { filter }) }, { signal });
          done();
          return await hits;
        } finally {
          done();
        }
      },
    };
  }
}

/**
 * Queries differing only in case or spacing are the same question. Remembered per query text:
 * the same questions recur across briefings, and folding one costs a regex pass and two copies.
 */
export const normaliseQuery = memoiseText((query: string): string => query.trim().replace(/\s+/g, ' ').toLowerCase(), 1024);
