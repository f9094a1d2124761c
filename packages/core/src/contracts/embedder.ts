import type { CallOptions, SpecificationVersion } from './call-options.ts';

/**
 * Retrieval models embed questions and passages differently (Vertex `RETRIEVAL_QUERY` vs
 * `RETRIEVAL_DOCUMENT`); the caller says which it is embedding.
 */
export type EmbeddingKind = 'query' | 'document';

export interface EmbedOptions extends CallOptions {
  readonly kind: EmbeddingKind;
}

/**
 * Turns texts into vectors. Core reads the capability fields to size batches and concurrency;
 * an adapter only translates one call.
 */
export interface Embedder {
  readonly specificationVersion: SpecificationVersion;
  /** For traces and errors, e.g. `local-hashing`, `vertex`. */
  readonly provider: string;
  readonly model: string;
  /** Length of every vector `embed` returns. */
  readonly dimensions: number;
  /** Most texts one `embed` call accepts (Vertex text-embedding-005: 250). */
  readonly maxBatchSize: number;
  /**
   * Token budget of one call, when the upstream has one (Vertex: 20,000). Core splits batches by
   * an estimate that stays under it (`estimateTokens`).
   */
  readonly maxTokensPerBatch?: number;
  /** Whether several `embed` calls may run at once (false: core serialises them). */
  readonly supportsParallelCalls: boolean;
  /**
   * Embeds `texts` in order: result `i` is the vector of `texts[i]`. Rejects with an AidocError:
   * `RATE_LIMITED` (with `retryAfterMs` when known), `UPSTREAM_UNAVAILABLE`, `INVALID_INPUT`
   * (e.g. more texts than `maxBatchSize`), `ABORTED`.
   */
  embed(texts: readonly string[], options: EmbedOptions): Promise<Float32Array[]>;
}
