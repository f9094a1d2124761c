import { DEFAULT_POOLS, type DefaultPoolName } from '../default-pools.ts';
import type { Embedder } from '../../contracts/embedder.ts';
import { assertSpecification } from '../../contracts/specification.ts';
import type { VectorStore } from '../../contracts/vector-store.ts';
import { MAX_TIMER_DELAY_MS, expectPositiveInteger, invalidOption } from '../../errors/validate-option.ts';
import type { ConcurrencyPool } from '../../executor/pool.ts';
import { getPool } from '../../executor/pool-registry.ts';
import { validateRetryOptions, type RetryOptions } from '../../executor/retry.ts';
import { defaultChunkingOptions, validateChunkingOptions, type ChunkingOptions } from './chunker.ts';
import type { IngestProgressListener } from './ingest-progress.ts';
import type { IngestReport } from './ingest-report.ts';
import { IngestRun } from './ingest-run.ts';
import { validateSources, type IngestSource } from './ingest-sources.ts';

/** Settings of `createIngestPipeline`. Numbers are checked p-queue style (a `TypeError` naming the option). */
export interface IngestPipelineOptions {
  readonly embedder: Embedder;
  readonly vectorStore: VectorStore;
  /** The collection the chunks go to; created (with the embedder's dimensions) when missing. */
  readonly collection: string;
  /**
   * How documents are cut; see `ChunkingOptions`. `maxTokens` may not exceed the embedder's
   * `maxTokensPerBatch`.
   * @default { maxTokens: 512, overlapTokens: maxTokens / 8 }
   */
  readonly chunking?: Partial<ChunkingOptions>;
  /**
   * Most texts per `embed` call; never more than the embedder's `maxBatchSize`. Batches are also
   * cut so their estimated tokens stay within the embedder's `maxTokensPerBatch`.
   * @default embedder.maxBatchSize
   */
  readonly batchSize?: number;
  /**
   * Embedding batches in flight at once, in a rolling window: when any batch ends, the next one
   * starts. 1 when the embedder does not support parallel calls. The shared pool (`pools.embedder`)
   * bounds embedding calls across the whole process on top of this.
   * @default 4
   */
  readonly concurrency?: number;
  /**
   * Most points per `upsert` call; never more than the store's `maxUpsertBatchSize`.
   * @default vectorStore.maxUpsertBatchSize
   */
  readonly upsertBatchSize?: number;
  /**
   * The shared pools (names registered with `definePools`, or pools) the adapter calls run in.
   * The default names are created on first use when nobody defined them, with the sizes of
   * `DEFAULT_POOLS` (shared with the briefing pipeline); a name you pass must be defined.
   * @default { embedder: 'embedder', vectorStore: 'vectorStore' }
   */
  readonly pools?: { readonly embedder?: string | ConcurrencyPool; readonly vectorStore?: string | ConcurrencyPool };
  /**
   * Retries of each adapter call (RATE_LIMITED, UPSTREAM_UNAVAILABLE, TIMEOUT), with backoff
   * and `Retry-After` honoured; see `withRetry`.
   * @default { attempts: 5 }
   */
  readonly retry?: RetryOptions;
  /**
   * Deadline of each attempt of each adapter call, in milliseconds (`Infinity`: none).
   * @default 60_000
   */
  readonly timeoutMs?: number;
  /**
   * Documents loaded, parsed and chunked at once (PDF parsing is further bounded by the worker
   * threads of core's `offload`).
   * @default 8
   */
  readonly loadConcurrency?: number;
  /**
   * Files larger than this fail unread ("file too large").
   * @default 67_108_864 (64 MiB)
   */
  readonly maxFileBytes?: number;
  /**
   * Files are named in the store (`source`) by their path relative to this folder, so the same
   * file keeps its points however it was passed. Keep it fixed between runs.
   * @default process.cwd() when `ingest` is called
   */
  readonly sourceRoot?: string;
}

/** Options of one `ingest` call. */
export interface IngestOptions {
  /** Cancels the run: every call in flight is aborted and `ingest` rejects with ABORTED (see `ingest`). */
  readonly signal?: AbortSignal;
  /** Progress snapshots, at most one per 100 ms plus a final one. */
  readonly onProgress?: IngestProgressListener;
  /**
   * Load, parse, chunk and compare with the store, but embed, write and delete nothing: the
   * report says what a real run would do.
   * @default false
   */
  readonly dryRun?: boolean;
}

/** Loads documents into a vector store; see `createIngestPipeline`. */
export interface IngestPipeline {
  /**
   * Ingests files, folders (walked recursively for `.md`, `.markdown`, `.txt`, `.pdf`) and inline
   * documents, and resolves with a report. A document that cannot be read or parsed is reported
   * as failed with its reason; the others go on. Re-running is cheap and safe: unchanged chunks
   * are skipped, changed ones replaced, and chunks that no longer exist deleted.
   *
   * Rejects with an AidocError when the run itself fails: ABORTED when `signal` fires, or the
   * code of an adapter call that ran out of retries. Its `details.report` (an `IngestReport`)
   * and `details.progress` (the final `IngestProgress`) say what was done; everything done is
   * consistent, and running again completes the job.
   */
  ingest(sources: readonly IngestSource[], options?: IngestOptions): Promise<IngestReport>;
}

const DEFAULT_CONCURRENCY = 4;
const DEFAULT_LOAD_CONCURRENCY = 8;
const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;
const DEFAULT_RETRY: RetryOptions = { attempts: 5 };
/** Payload fields the collection indexes: `source` is what re-runs filter on. */
const PAYLOAD_INDEXES = ['source'] as const;

/**
 * Creates the ingestion pipeline: load → parse (PDFs on worker threads) → chunk (heading- and
 * paragraph-aware) → embed in batches, several in flight → upsert in batches, pipelined with
 * embedding → report. Point ids are UUIDv5 of each chunk's source and content, so a re-run
 * embeds only what changed and deletes only what disappeared.
 *
 * Checks both adapters' `specificationVersion` and every option here, so a bad configuration
 * fails at start-up.
 *
 * @example
 * ```ts
 * const pipeline = createIngestPipeline({ embedder, vectorStore, collection: 'guidelines' });
 * const report = await pipeline.ingest(['docs/guidelines'], { signal, onProgress: console.log });
 * console.log(report.totals); // { documents: 12, ingested: 3, unchanged: 9, embedded: 41, skipped: 380, ... }
 * ```
 */
export function createIngestPipeline(options: IngestPipelineOptions): IngestPipeline {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options);
  const { embedder, vectorStore, collection } = options;
  assertSpecification('embedder', embedder);
  assertSpecification('vector store', vectorStore);
  if (typeof collection !== 'string' || collection === '') throw invalidOption('collection', 'a non-empty string', collection);
  expectPositiveInteger('embedder.dimensions', embedder.dimensions);
  expectPositiveInteger('embedder.maxBatchSize', embedder.maxBatchSize);
  if (embedder.maxTokensPerBatch !== undefined) expectPositiveInteger('embedder.maxTokensPerBatch', embedder.maxTokensPerBatch);
  expectPositiveInteger('vectorStore.maxUpsertBatchSize', vectorStore.maxUpsertBatchSize);

  const chunking = resolveChunking(options.chunking, embedder.maxTokensPerBatch);
  const batchSize = optionalPositiveInteger('batchSize', options.batchSize) ?? embedder.maxBatchSize;
  const concurrency = optionalPositiveInteger('concurrency', options.concurrency) ?? DEFAULT_CONCURRENCY;
  const upsertBatchSize = optionalPositiveInteger('upsertBatchSize', options.upsertBatchSize) ?? vectorStore.maxUpsertBatchSize;
  const loadConcurrency = optionalPositiveInteger('loadConcurrency', options.loadConcurrency) ?? DEFAULT_LOAD_CONCURRENCY;
  const maxFileBytes = optionalPositiveInteger('maxFileBytes', options.maxFileBytes) ?? DEFAULT_MAX_FILE_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(typeof timeoutMs === 'number' && timeoutMs > 0 && (timeoutMs <= MAX_TIMER_DELAY_MS || timeoutMs === Infinity))) {
    throw invalidOption('timeoutMs', `a positive number of milliseconds up to ${MAX_TIMER_DELAY_MS}, or Infinity`, timeoutMs);
  }
  const retry: RetryOptions = { ...DEFAULT_RETRY, ...options.retry };
  validateRetryOptions(retry);
  const pools = options.pools ?? {};
  checkPoolOption('pools.embedder', pools.embedder);
  checkPoolOption('pools.vectorStore', pools.vectorStore);
  const sourceRoot = options.sourceRoot;
  if (sourceRoot !== undefined && (typeof sourceRoot !== 'string' || sourceRoot === '')) {
    throw invalidOption('sourceRoot', 'a non-empty path', sourceRoot);
  }

  return {
    async ingest(sources, ingestOptions = {}) {
      validateSources(sources);
      const { signal, onProgress, dryRun = false } = ingestOptions;
      if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidOption('signal', 'an AbortSignal', signal);
      if (onProgress !== undefined && typeof onProgress !== 'function') throw invalidOption('onProgress', 'a function', onProgress);
      if (typeof dryRun !== 'boolean') throw invalidOption('dryRun', 'a boolean', dryRun);
      const run = new IngestRun({
        embedder,
        vectorStore,
        collection,
        chunking,
        batchLimits: { maxBatchSize: Math.min(batchSize, embedder.maxBatchSize), maxTokensPerBatch: embedder.maxTokensPerBatch },
        batchConcurrency: embedder.supportsParallelCalls ? concurrency : 1,
        upsertBatchSize: Math.min(upsertBatchSize, vectorStore.maxUpsertBatchSize),
        // Resolved per run: pools may be (re)defined after the pipeline was created.
        embedPolicy: { pool: resolvePool(pools.embedder, 'embedder'), retry, timeoutMs },
        storePolicy: { pool: resolvePool(pools.vectorStore, 'vectorStore'), retry, timeoutMs },
        loadConcurrency,
        maxFileBytes,
        sourceRoot: sourceRoot ?? process.cwd(),
        payloadIndexes: PAYLOAD_INDEXES,
        dryRun,
        signal,
        onProgress,
      });
      return run.execute(sources);
    },
  };
}

function resolveChunking(given: Partial<ChunkingOptions> | undefined, maxTokensPerBatch: number | undefined): ChunkingOptions {
  if (given !== undefined && (typeof given !== 'object' || given === null)) throw invalidOption('chunking', 'an object', given);
  const defaults = defaultChunkingOptions(maxTokensPerBatch);
  const maxTokens = given?.maxTokens ?? defaults.maxTokens;
  const chunking = { maxTokens, overlapTokens: given?.overlapTokens ?? Math.floor(maxTokens / 8) };
  validateChunkingOptions(chunking);
  if (maxTokensPerBatch !== undefined && chunking.maxTokens > maxTokensPerBatch) {
    throw invalidOption('chunking.maxTokens', `at most the embedder's maxTokensPerBatch (${maxTokensPerBatch})`, chunking.maxTokens);
  }
  return chunking;
}

function optionalPositiveInteger(name: string, value: number | undefined): number | undefined {
  if (value !== undefined) expectPositiveInteger(name, value);
  return value;
}

function checkPoolOption(name: string, value: unknown): void {
  if (value === undefined) return;
  const valid = (typeof value === 'string' && value !== '') || (typeof value === 'object' && value !== null && 'run' in value);
  if (!valid) throw invalidOption(name, 'a pool name or a ConcurrencyPool', value);
}

/** A pool given by name must be defined, except the default names, created on first use. */
function resolvePool(given: string | ConcurrencyPool | undefined, defaultName: DefaultPoolName): ConcurrencyPool {
  if (given !== undefined && typeof given !== 'string') return given;
  const name = given ?? defaultName;
  const defaults = name === defaultName ? DEFAULT_POOLS[defaultName] : undefined;
  return getPool(name, defaults);
}
