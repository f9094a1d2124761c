import type { Embedder } from '../../contracts/embedder.ts';
import type { Payload, PayloadValue, VectorPoint, VectorStore } from '../../contracts/vector-store.ts';
import { AidocError, type AidocErrorCode } from '../../errors/aidoc-error.ts';
import { toAidocError } from '../../errors/to-aidoc-error.ts';
import { linkSignal, throwIfAborted, type LinkedSignal } from '../../executor/abort.ts';
import { ConcurrencyPool } from '../../executor/pool.ts';
import type { Span, Trace } from '../../tracing/span.ts';
import { currentSpan, runInSpan, withSpan } from '../../tracing/trace-context.ts';
import { callUpstream, type CallPolicy } from '../../executor/call-policy.ts';
import { chunkDocument, type ChunkingOptions, type DocumentChunk } from './chunker.ts';
import { loadDocument } from './document-loader.ts';
import { EmbeddingBatcher, type BatchLimits } from './embedding-batches.ts';
import { ProgressReporter, type IngestProgress, type IngestProgressListener } from './ingest-progress.ts';
import type { DocumentReport, DocumentStatus, IngestReport } from './ingest-report.ts';
import { resolveSources, type IngestSource, type ResolvedSource } from './ingest-sources.ts';
import { pointId } from './point-id.ts';
import type { DocumentFormat } from './source-document.ts';

/** Everything a run needs, resolved and validated by `createIngestPipeline`. */
export interface IngestRunSettings {
  readonly embedder: Embedder;
  readonly vectorStore: VectorStore;
  readonly collection: string;
  readonly chunking: ChunkingOptions;
  readonly batchLimits: BatchLimits;
  /** Embedding batches in flight at once (1 when the embedder does not support parallel calls). */
  readonly batchConcurrency: number;
  readonly upsertBatchSize: number;
  readonly embedPolicy: CallPolicy;
  readonly storePolicy: CallPolicy;
  /** Documents loaded, parsed and chunked at once. */
  readonly loadConcurrency: number;
  readonly maxFileBytes: number;
  readonly sourceRoot: string;
  readonly payloadIndexes: readonly string[];
  readonly dryRun: boolean;
  readonly signal: AbortSignal | undefined;
  readonly onProgress: IngestProgressListener | undefined;
}

/** Scroll page size when reading a document's stored points. */
const SCROLL_PAGE_SIZE = 256;
/** Ids per `delete` call for stale points. */
const DELETE_BATCH_SIZE = 512;
/**
 * How long a partly filled batch may wait for more chunks while an embedding slot is free (as
 * Kafka's `linger.ms`): long enough that documents chunked in a burst share full batches,
 * short enough that a slow parse does not leave the embedder idle.
 */
const LINGER_MS = 50;

/** A chunk on its way to the store. */
interface PendingPoint {
  readonly document: DocumentState;
  readonly id: string;
  readonly text: string;
  readonly tokens: number;
  readonly payload: Payload;
}

class DocumentState {
  readonly source: string;
  status: DocumentStatus | 'pending' = 'pending';
  format: DocumentFormat | undefined;
  title: string | undefined;
  pages: number | undefined;
  chunks = 0;
  embedded = 0;
  skipped = 0;
  deleted = 0;
  hadPoints = false;
  /** Chunks still to be written before the stale points may go. */
  pending = 0;
  stale: readonly string[] = [];
  reason: string | undefined;
  errorCode: AidocErrorCode | undefined;

  constructor(source: string, format: DocumentFormat | undefined) {
    this.source = source;
    this.format = format;
  }

  toReport(): DocumentReport {
    const { source, format, title, pages, chunks, embedded, skipped, deleted, reason, errorCode } = this;
    const status = this.status === 'pending' ? 'failed' : this.status;
    const replaced = status === 'ingested' && this.hadPoints;
    return {
      source,
      status,
      format,
      title,
      pages,
      chunks,
      embedded,
      skipped,
      deleted,
      replaced,
      ...(reason === undefined ? {} : { reason }),
      ...(errorCode === undefined ? {} : { errorCode }),
    };
  }
}

/**
 * One call of `ingest`: a streaming pipeline. Documents are loaded, parsed (PDFs on worker
 * threads) and chunked `loadConcurrency` at a time; each document's stored points are read
 * (`scroll` on `source`) and compared by id and payload, so only new or changed chunks go on.
 * Those are packed into batches across documents; up to `batchConcurrency` batches embed at once
 * in a rolling window (a slot is refilled the moment any batch ends); each embedded batch is
 * upserted in `upsertBatchSize` groups while other batches embed. When the last new chunk of a
 * document is stored, its stale points are deleted: upsert before delete, with content-addressed
 * ids, so a run interrupted anywhere and run again converges on exactly the right points.
 *
 * The first failure that is not a document's own (an adapter call out of retries, an abort)
 * aborts everything in flight; the run then waits for those calls to settle and rejects.
 */
export class IngestRun {
  readonly #settings: IngestRunSettings;
  readonly #link: LinkedSignal;
  readonly #documents = new Map<string, DocumentState>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #batcher: EmbeddingBatcher<PendingPoint>;
  readonly #batchPool: ConcurrencyPool;
  readonly #progress: ProgressReporter;
  readonly #embeddingModel: string;
  #startedAt = 0;
  #span: Span | undefined;
  #trace: Trace | undefined;
  #error: AidocError | undefined;
  #producersDone = false;
  #lingerTimer: ReturnType<typeof setTimeout> | undefined;
  #documentsTotal = 0;
  #documentsDone = 0;
  #documentsChunked = 0;
  #failed = 0;
  #chunks = 0;
  #embedded = 0;
  #upserted = 0;
  #skipped = 0;
  #deleted = 0;

  constructor(settings: IngestRunSettings) {
    this.#settings = settings;
    this.#link = linkSignal(settings.signal);
    this.#batcher = new EmbeddingBatcher(settings.batchLimits);
    this.#batchPool = new ConcurrencyPool({ name: 'ingest:batches', concurrency: settings.batchConcurrency });
    this.#progress = new ProgressReporter(settings.onProgress, (final) => this.#snapshot(final), (error) => this.#fail(error));
    this.#embeddingModel = `${settings.embedder.provider}/${settings.embedder.model}`;
  }

  get #signal(): AbortSignal {
    return this.#link.signal;
  }

  async execute(sources: readonly IngestSource[]): Promise<IngestReport> {
    this.#startedAt = performance.now();
    this.#trace = currentSpan()?.trace;
    try {
      await withSpan('ingest', async (span) => {
        this.#span = span;
        span?.setAttribute('collection', this.#settings.collection);
        await this.#run(sources);
      });
      this.#throwIfFailed();
      this.#progress.finish();
      // The final event's listener may have thrown.
      this.#throwIfFailed();
      return this.#report();
    } catch (error) {
      this.#fail(error);
      await this.#drain();
      const failure = this.#error ?? toAidocError(error);
      const report = this.#report();
      const progress = this.#progress.finish();
      const verb = failure.code === 'ABORTED' ? 'aborted' : 'failed';
      throw new AidocError(
        failure.code,
        `Ingest ${verb}: ${failure.message} (${this.#upserted} chunks stored, ${this.#documentsDone} of ${this.#documentsTotal} documents done)`,
        { cause: failure, retryable: failure.retryable, retryAfterMs: failure.retryAfterMs, details: { report, progress } },
      );
    } finally {
      this.#clearLinger();
      this.#link.dispose();
    }
  }

  async #run(sources: readonly IngestSource[]): Promise<void> {
    throwIfAborted(this.#signal);
    const collectionExists = await this.#prepareCollection();
    const { entries, failures } = await resolveSources(sources, { sourceRoot: this.#settings.sourceRoot, signal: this.#signal });
    for (const entry of entries) this.#documents.set(entry.source, new DocumentState(entry.source, entry.format));
    const unreadable: [DocumentState, string][] = [];
    for (const failure of failures) {
      if (this.#documents.has(failure.source)) continue; // the same bad path, given twice
      const document = new DocumentState(failure.source, undefined);
      this.#documents.set(failure.source, document);
      unreadable.push([document, failure.reason]);
    }
    this.#documentsTotal = this.#documents.size;
    for (const [document, reason] of unreadable) this.#failDocument(document, reason);
    this.#progress.update();

    const documentPool = new ConcurrencyPool({ name: 'ingest:documents', concurrency: this.#settings.loadConcurrency });
    const loads = entries.map((entry) => this.#track(this.#ingestDocument(entry, collectionExists, documentPool)));
    await Promise.all(loads);
    this.#producersDone = true;
    this.#flushPartialBatch();
    await this.#drain();
  }

  /** Creates the collection when missing (a dry run only reads whether it exists). */
  async #prepareCollection(): Promise<boolean> {
    const { vectorStore, collection, embedder, storePolicy, payloadIndexes } = this.#settings;
    if (this.#settings.dryRun) {
      const info = await callUpstream('vectorStore.info', storePolicy, this.#signal, (signal) => vectorStore.info(collection, { signal }));
      if (info.exists && info.dimensions !== undefined && info.dimensions !== embedder.dimensions) {
        throw new AidocError(
          'INVALID_INPUT',
          `Collection "${collection}" holds ${info.dimensions}-dimensional vectors; the embedder makes ${embedder.dimensions}`,
          { details: { collection, dimensions: info.dimensions, embedderDimensions: embedder.dimensions } },
        );
      }
      return info.exists;
    }
    await callUpstream('vectorStore.ensureCollection', storePolicy, this.#signal, (signal) =>
      vectorStore.ensureCollection(collection, { dimensions: embedder.dimensions, distance: 'cosine', payloadIndexes }, { signal }),
    );
    return true;
  }

  /** A document's span covers its wait for a load slot (as queued time) and its processing. */
  #ingestDocument(entry: ResolvedSource, collectionExists: boolean, pool: ConcurrencyPool): Promise<void> {
    return withSpan('document', (span) => {
      span?.setAttribute('source', entry.source);
      return pool.run(() => this.#failFast(() => this.#processDocument(entry, collectionExists, span)), { signal: this.#signal, span });
    });
  }

  async #processDocument(entry: ResolvedSource, collectionExists: boolean, span: Span | undefined): Promise<void> {
    const document = this.#documents.get(entry.source)!;
    const outcome = await loadDocument(entry, { signal: this.#signal, maxFileBytes: this.#settings.maxFileBytes });
    if (!outcome.ok) {
      this.#failDocument(document, outcome.reason);
      return;
    }
    const loaded = outcome.document;
    document.title = loaded.title;
    document.pages = loaded.format === 'pdf' ? loaded.pages.length : undefined;
    const chunks = await chunkDocument(loaded, this.#settings.chunking, this.#signal);
    if (chunks.length === 0) {
      this.#failDocument(document, 'no text to ingest');
      return;
    }
    const points = this.#pendingPoints(document, loaded.format, chunks);
    document.chunks = points.length;
    this.#chunks += points.length;
    this.#documentsChunked += 1;
    span?.setAttribute('chunks', points.length);

    const stored = collectionExists ? await this.#storedPoints(document.source) : new Map<string, Payload>();
    const fresh = new Set(points.map((point) => point.id));
    const changed = points.filter((point) => {
      const payload = stored.get(point.id);
      return payload === undefined || !samePayload(payload, point.payload);
    });
    document.hadPoints = stored.size > 0;
    document.stale = [...stored.keys()].filter((id) => !fresh.has(id));
    document.skipped = points.length - changed.length;
    document.pending = changed.length;
    this.#skipped += document.skipped;
    this.#progress.update();

    if (this.#settings.dryRun) {
      document.embedded = changed.length;
      this.#embedded += changed.length;
      await this.#completeDocument(document);
      return;
    }
    if (changed.length === 0) {
      await this.#completeDocument(document);
      return;
    }
    throwIfAborted(this.#signal);
    for (const point of changed) {
      for (const batch of this.#batcher.add(point)) this.#dispatch(batch);
    }
    this.#flushPartialBatch();
  }

  #pendingPoints(document: DocumentState, format: DocumentFormat, chunks: readonly DocumentChunk[]): PendingPoint[] {
    const occurrences = new Map<string, number>();
    return chunks.map((chunk) => {
      const key = `${chunk.page ?? ''}:${chunk.contentHash}`;
      const occurrence = occurrences.get(key) ?? 0;
      occurrences.set(key, occurrence + 1);
      const payload: Record<string, PayloadValue> = {
        source: chunk.source,
        title: chunk.title,
        section: chunk.section,
        chunkIndex: chunk.index,
        contentHash: chunk.contentHash,
        format,
        embeddingModel: this.#embeddingModel,
        text: chunk.text,
      };
      if (chunk.page !== undefined) payload.page = chunk.page;
      return {
        document,
        id: pointId({ source: chunk.source, contentHash: chunk.contentHash, page: chunk.page, occurrence }),
        text: chunk.text,
        tokens: chunk.tokens,
        payload,
      };
    });
  }

  /** The points stored for `source` (ids and payloads), read page by page. */
  async #storedPoints(source: string): Promise<Map<string, Payload>> {
    const { vectorStore, collection, storePolicy } = this.#settings;
    const stored = new Map<string, Payload>();
    const filter = { must: [{ key: 'source', match: { value: source } }] };
    let offset: string | undefined;
    do {
      const page = await callUpstream('vectorStore.scroll', storePolicy, this.#signal, (signal) =>
        vectorStore.scroll(collection, { filter, limit: SCROLL_PAGE_SIZE, offset }, { signal }),
      );
      for (const point of page.points) stored.set(point.id, point.payload);
      offset = page.nextOffset;
    } while (offset !== undefined);
    return stored;
  }

  /**
   * Starts a batch in the rolling window; it runs as soon as a slot is free. Its `batch` span
   * (under the run's span) shows the wait for a slot as queued time, then the embed call.
   */
  #dispatch(batch: PendingPoint[]): void {
    const run = this.#inRunSpan(() =>
      withSpan('batch', (span) => {
        span?.setAttribute('texts', batch.length);
        return this.#batchPool.run(() => this.#failFast(() => this.#embedBatch(batch)), { signal: this.#signal, span });
      }),
    )
      // The slot is free by now: a lingering partial batch may take it.
      .finally(() => this.#flushPartialBatch());
    void this.#track(run);
  }

  async #embedBatch(batch: PendingPoint[]): Promise<void> {
    const { embedder, embedPolicy, upsertBatchSize } = this.#settings;
    const texts = batch.map((point) => point.text);
    const tokens = batch.reduce((sum, point) => sum + point.tokens, 0);
    const vectors = await callUpstream(
      'embedder.embed',
      embedPolicy,
      this.#signal,
      (signal) => embedder.embed(texts, { kind: 'document', signal }),
      (span) => span.setAttribute('texts', texts.length).setAttribute('tokens', tokens),
    );
    checkVectors(vectors, texts.length, embedder.dimensions);
    this.#embedded += batch.length;
    this.#progress.update();
    // Upserts run on their own: this batch's slot is released for the next embedding call now.
    for (let start = 0; start < batch.length; start += upsertBatchSize) {
      const group = batch.slice(start, start + upsertBatchSize);
      const points: VectorPoint[] = group.map((point, index) => ({ id: point.id, vector: vectors[start + index]!, payload: point.payload }));
      void this.#track(this.#inRunSpan(() => this.#upsert(group, points)));
    }
  }

  async #upsert(group: readonly PendingPoint[], points: readonly VectorPoint[]): Promise<void> {
    const { vectorStore, collection, storePolicy } = this.#settings;
    await callUpstream(
      'vectorStore.upsert',
      storePolicy,
      this.#signal,
      (signal) => vectorStore.upsert(collection, points, { signal }),
      (span) => span.setAttribute('points', points.length),
    );
    this.#upserted += group.length;
    for (const point of group) {
      const document = point.document;
      document.embedded += 1;
      document.pending -= 1;
      if (document.pending === 0) void this.#track(this.#completeDocument(document));
    }
    this.#progress.update();
  }

  /** Every new chunk of the document is stored: now its stale points may go. */
  async #completeDocument(document: DocumentState): Promise<void> {
    const { vectorStore, collection, storePolicy, dryRun } = this.#settings;
    if (!dryRun) {
      for (let start = 0; start < document.stale.length; start += DELETE_BATCH_SIZE) {
        const ids = document.stale.slice(start, start + DELETE_BATCH_SIZE);
        await callUpstream(
          'vectorStore.delete',
          storePolicy,
          this.#signal,
          (signal) => vectorStore.delete(collection, { ids }, { signal }),
          (span) => span.setAttribute('points', ids.length),
        );
        document.deleted += ids.length;
        this.#deleted += ids.length;
      }
    } else {
      document.deleted = document.stale.length;
      this.#deleted += document.stale.length;
    }
    document.status = document.embedded > 0 || document.deleted > 0 ? 'ingested' : 'unchanged';
    this.#documentsDone += 1;
    this.#progress.update();
  }

  #failDocument(document: DocumentState, reason: string): void {
    document.status = 'failed';
    document.reason = reason;
    this.#failed += 1;
    this.#documentsDone += 1;
    this.#progress.update();
  }

  /**
   * Seals the partly filled batch when waiting for more chunks is not worth it: every document
   * is chunked, or a slot is free and the batch has lingered `LINGER_MS`. A slot that frees up
   * calls this again; while slots are free, a timer does.
   */
  #flushPartialBatch(): void {
    if (this.#error !== undefined || this.#batcher.size === 0) {
      this.#clearLinger();
      return;
    }
    if (!this.#producersDone) {
      const busy = this.#batchPool.activeCount + this.#batchPool.pendingCount >= this.#settings.batchConcurrency;
      if (busy) {
        this.#clearLinger();
        return;
      }
      const waitMs = this.#batcher.oldestAt + LINGER_MS - performance.now();
      if (waitMs > 0) {
        this.#lingerTimer ??= setTimeout(() => {
          this.#lingerTimer = undefined;
          this.#flushPartialBatch();
        }, Math.ceil(waitMs));
        return;
      }
    }
    this.#clearLinger();
    const batch = this.#batcher.flush();
    if (batch !== undefined) this.#dispatch(batch);
  }

  #clearLinger(): void {
    if (this.#lingerTimer === undefined) return;
    clearTimeout(this.#lingerTimer);
    this.#lingerTimer = undefined;
  }

  /** Work started outside the document that caused it records under the run's span. */
  #inRunSpan<T>(fn: () => Promise<T>): Promise<T> {
    return this.#span === undefined ? fn() : runInSpan(this.#span, fn);
  }

  /**
   * Fails the run as soon as `work` fails, before the pool slot it holds is released: otherwise
   * the next queued batch or document would take the slot and start a call in the gap.
   */
  async #failFast<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      this.#fail(error);
      throw error;
    }
  }

  /** Keeps `work` until it settles; its failure fails the run. The returned promise never rejects. */
  #track(work: Promise<unknown>): Promise<void> {
    const tracked = work.then(
      () => {
        this.#inFlight.delete(tracked);
      },
      (error: unknown) => {
        this.#inFlight.delete(tracked);
        this.#fail(error);
      },
    );
    this.#inFlight.add(tracked);
    return tracked;
  }

  /** Waits until nothing is in flight (work may start more work while we wait). */
  async #drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  #throwIfFailed(): void {
    if (this.#error !== undefined) throw this.#error;
  }

  /** The first failure wins; it aborts every call in flight. */
  #fail(error: unknown): void {
    if (this.#error !== undefined) return;
    this.#error = toAidocError(error);
    this.#clearLinger();
    this.#link.controller.abort(this.#error);
  }

  #snapshot(final: boolean): IngestProgress {
    const elapsedMs = performance.now() - this.#startedAt;
    const settled = this.#settings.dryRun ? this.#chunks : this.#upserted + this.#skipped;
    const chunksPerSecond = elapsedMs > 0 ? (settled * 1000) / elapsedMs : 0;
    let etaMs: number | undefined;
    if (final) {
      etaMs = 0;
    } else if (this.#documentsChunked > 0 && chunksPerSecond > 0) {
      const unchunked = Math.max(0, this.#documentsTotal - this.#documentsChunked - this.#failed);
      const expected = this.#chunks + (unchunked * this.#chunks) / this.#documentsChunked;
      etaMs = (Math.max(0, expected - settled) * 1000) / chunksPerSecond;
    }
    return {
      documentsDone: this.#documentsDone,
      documentsTotal: this.#documentsTotal,
      chunks: this.#chunks,
      embedded: this.#embedded,
      upserted: this.#upserted,
      skipped: this.#skipped,
      deleted: this.#deleted,
      failed: this.#failed,
      elapsedMs,
      chunksPerSecond,
      etaMs,
      final,
    };
  }

  #report(): IngestReport {
    const documents: DocumentReport[] = [];
    for (const document of this.#documents.values()) {
      if (document.status === 'pending') {
        document.reason = `not finished: ${this.#error?.message ?? 'the run stopped'}`;
        document.errorCode = this.#error?.code;
      }
      documents.push(document.toReport());
    }
    const count = (status: DocumentStatus): number => documents.filter((document) => document.status === status).length;
    const elapsedMs = performance.now() - this.#startedAt;
    const settled = this.#settings.dryRun ? this.#chunks : this.#upserted + this.#skipped;
    return {
      collection: this.#settings.collection,
      dryRun: this.#settings.dryRun,
      documents,
      totals: {
        documents: documents.length,
        ingested: count('ingested'),
        unchanged: count('unchanged'),
        failed: count('failed'),
        replaced: documents.filter((document) => document.replaced).length,
        chunks: this.#chunks,
        embedded: this.#settings.dryRun ? this.#embedded : this.#upserted,
        skipped: this.#skipped,
        deleted: this.#deleted,
      },
      elapsedMs,
      chunksPerSecond: elapsedMs > 0 ? (settled * 1000) / elapsedMs : 0,
      trace: this.#trace,
    };
  }
}

/** Stored and fresh payloads match when they hold the same fields with the same values. */
function samePayload(stored: Payload, fresh: Payload): boolean {
  const keys = Object.keys(fresh);
  if (Object.keys(stored).length !== keys.length) return false;
  return keys.every((key) => sameValue(stored[key], fresh[key]));
}

function sameValue(left: PayloadValue | undefined, right: PayloadValue | undefined): boolean {
  if (Array.isArray(left) && Array.isArray(right)) {
    return left.length === right.length && left.every((value, index) => value === right[index]);
  }
  return left === right;
}

/** An embedder that returns the wrong number or size of vectors breaks its contract: INVALID_OUTPUT. */
function checkVectors(vectors: unknown, count: number, dimensions: number): asserts vectors is Float32Array[] {
  const valid =
    Array.isArray(vectors) &&
    vectors.length === count &&
    vectors.every((vector) => (vector instanceof Float32Array || Array.isArray(vector)) && (vector as ArrayLike<number>).length === dimensions);
  if (!valid) {
    throw new AidocError('INVALID_OUTPUT', `The embedder returned ${Array.isArray(vectors) ? vectors.length : 'no'} vectors for ${count} texts, or vectors not of ${dimensions} dimensions`, {
      details: { expected: count, dimensions },
    });
  }
}
