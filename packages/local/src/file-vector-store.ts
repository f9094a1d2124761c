import { mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AidocError,
  Coalescer,
  abortError,
  compileFilter,
  raceWithAbort,
  throwIfAborted,
  type CallOptions,
  type CollectionInfo,
  type CollectionSettings,
  type Filter,
  type ScoredPoint,
  type ScrollPage,
  type ScrollRequest,
  type VectorPoint,
  type VectorQuery,
  type VectorStore,
} from '@aidoc/core';
import { StoredCollection } from './file-vector-store-collection.ts';
import { collectionFilePath, fileVersion, isTemporaryFileName, readCollectionFile, writeCollectionFile } from './file-vector-store-file-format.ts';
import {
  canonicalId,
  prepareQuery,
  preparePoints,
  prepareScroll,
  validateCollectionName,
  validateCollectionSettings,
} from './file-vector-store-input.ts';
import { acquireStoreLock, type StoreLock } from './file-vector-store-lock.ts';
import { resolveFileVectorStoreOptions, type FileVectorStoreOptions } from './file-vector-store-options.ts';
import type { ScanQuery } from './file-vector-store-scan.ts';
import { VectorScanner } from './file-vector-store-scanner.ts';
import { WriteCoalescer } from './file-vector-store-write-coalescer.ts';

/** A `VectorStore` kept in files, with the lifecycle a file-backed store needs. */
export interface FileVectorStore extends VectorStore, AsyncDisposable {
  readonly directory: string;
  readonly readOnly: boolean;
  /** Several searches in one call: one hold of the collection, one worker round trip (always available here). */
  queryBatch(collection: string, queries: readonly VectorQuery[], options?: CallOptions): Promise<ScoredPoint[][]>;
  /**
   * Opens the store now rather than on its first call: a writer creates the directory, takes the
   * writer lock and deletes temporary files a crashed write left. Rejects with INVALID_INPUT when
   * another writer (process, or store instance in this process) holds the lock; a later call
   * tries again.
   */
  open(options?: CallOptions): Promise<void>;
  /**
   * Lets the calls already made finish (their writes included), stops the scan threads and
   * releases the lock. Later calls reject with INVALID_INPUT. Idempotent.
   */
  close(): Promise<void>;
}

/** Points per `upsert` call: each durable write rewrites the collection, so fewer, larger batches are cheaper. */
const MAX_UPSERT_BATCH_SIZE = 2048;

/**
 * Creates a vector store kept in `directory`, one file per collection, with no server: exact
 * cosine search over the vectors held in memory.
 *
 * - Search: vectors are L2-normalised at upsert and kept in one growable SharedArrayBuffer per
 *   collection; a query is one pass of dot products with a top-k heap, split across
 *   `scanThreads` worker threads for large collections (about 30 ms at 100k x 768 on 2 cores).
 *   `queryBatch` runs several queries in one call. Filters follow the contract's semantics.
 * - Durability: every `upsert` and `delete` resolves once its change is on disk. A write
 *   replaces the collection's whole file atomically (temporary file, fsync, rename, directory
 *   fsync), so a crash at any moment leaves the last complete state; concurrent mutations share
 *   one write. A damaged file is a DATA_CORRUPTED error on load, never silently dropped data.
 * - Writers and readers: one writer per directory (a lock file holding its pid; a crashed
 *   writer's stale lock is taken over). `readOnly: true` opens a reader, which takes no lock
 *   and reloads a collection when a `stat` before a call shows its file was replaced.
 *
 * Mutations wait while their collection is being written, and each write costs time in
 * proportion to the collection (about 1 s for 100k x 768): ingest in large batches
 * (`maxUpsertBatchSize`) with several in flight, and they share writes.
 */
export function createFileVectorStore(options: FileVectorStoreOptions): FileVectorStore {
  return new LocalFileVectorStore(resolveFileVectorStoreOptions(options));
}

/** A collection this store has in memory. */
interface OpenCollection {
  readonly collection: StoredCollection;
  /** The writer's durable writes (a reader never writes). */
  readonly writes: WriteCoalescer;
  /** The reader's loaded file version, compared with the file's before each call. */
  readonly version: string | undefined;
  /** Settles when the collection first exists on disk (at once for a loaded one). */
  saved: Promise<void>;
}

class LocalFileVectorStore implements FileVectorStore {
  readonly specificationVersion = 'v1';
  readonly provider = 'local-file';
  readonly supportsQueryBatch = true;
  readonly maxUpsertBatchSize = MAX_UPSERT_BATCH_SIZE;
  readonly directory: string;
  readonly readOnly: boolean;
  readonly #scanner: VectorScanner;
  readonly #collections = new Map<string, OpenCollection>();
  /** Concurrent first uses of a collection share one load (or, for a reader, one `stat`). */
  readonly #loads = new Coalescer<OpenCollection | undefined>();
  #opening: Promise<void> | undefined;
  #lock: StoreLock | undefined;
  #closing: Promise<void> | undefined;
  /** Calls started and not yet settled: close() lets them finish. */
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(options: Required<FileVectorStoreOptions>) {
    this.directory = options.directory;
    this.readOnly = options.readOnly;
    this.#scanner = new VectorScanner({ threads: options.scanThreads, workerThreshold: options.workerScanThreshold });
  }

  open(options?: CallOptions): Promise<void> {
    return this.#call(() => this.#ready(options?.signal));
  }

  ensureCollection(name: string, settings: CollectionSettings, options?: CallOptions): Promise<void> {
    return this.#call(() => this.#ensureCollection(name, settings, options?.signal));
  }

  upsert(name: string, points: readonly VectorPoint[], options?: CallOptions): Promise<void> {
    return this.#call(() => this.#upsert(name, points, options?.signal));
  }

  delete(name: string, selector: { readonly ids: readonly string[] } | { readonly filter: Filter }, options?: CallOptions): Promise<void> {
    return this.#call(() => this.#delete(name, selector, options?.signal));
  }

  query(name: string, query: VectorQuery, options?: CallOptions): Promise<ScoredPoint[]> {
    return this.#call(async () => (await this.#search(name, [query], 'query', options?.signal))[0] ?? []);
  }

  queryBatch(name: string, queries: readonly VectorQuery[], options?: CallOptions): Promise<ScoredPoint[][]> {
    return this.#call(async () => {
      if (!Array.isArray(queries)) throw new AidocError('INVALID_INPUT', 'Expected `queries` to be an array');
      return this.#search(name, queries, 'queries', options?.signal);
    });
  }

  scroll(name: string, request: ScrollRequest, options?: CallOptions): Promise<ScrollPage> {
    return this.#call(() => this.#scroll(name, request, options?.signal));
  }

  info(name: string, options?: CallOptions): Promise<CollectionInfo> {
    return this.#call(() => this.#info(name, options?.signal));
  }

  close(): Promise<void> {
    this.#closing ??= this.#closeNow();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Runs one public call: refused once close() was called, awaited by close() otherwise. */
  #call<T>(operation: () => Promise<T>): Promise<T> {
    if (this.#closing !== undefined) return Promise.reject(this.#closedError());
    const running = operation();
    this.#inFlight.add(running);
    const settled = (): void => {
      this.#inFlight.delete(running);
    };
    running.then(settled, settled);
    return running;
  }

  /** Opens the store once (see `open`); a failed opening is retried by the next call. */
  #ready(signal: AbortSignal | undefined): Promise<void> {
    this.#opening ??= this.#openNow().catch((error: unknown) => {
      this.#opening = undefined;
      throw error;
    });
    return raceWithAbort(this.#opening, signal);
  }

  async #ensureCollection(name: string, settings: CollectionSettings, signal: AbortSignal | undefined): Promise<void> {
    validateCollectionName(name);
    validateCollectionSettings(settings);
    const loaded = await this.#collection(name, signal);
    // Another call may have created it while this one loaded.
    const existing = this.readOnly ? loaded : (this.#collections.get(name) ?? loaded);
    if (existing !== undefined) {
      if (existing.collection.dimensions !== settings.dimensions) {
        throw new AidocError(
          'INVALID_INPUT',
          `Collection '${name}' exists with ${existing.collection.dimensions} dimensions, not ${settings.dimensions}`,
          { details: { collection: name, dimensions: existing.collection.dimensions, requested: settings.dimensions } },
        );
      }
      return raceWithAbort(existing.saved, signal);
    }
    if (this.readOnly) throw this.#readOnlyError('create', name);
    throwIfAborted(signal);
    const created = this.#track(StoredCollection.empty(name, settings.dimensions, settings.payloadIndexes ?? []));
    this.#collections.set(name, created);
    created.saved = created.writes.request();
    // A collection that never reached the disk is forgotten, so a retry creates it again.
    created.saved.catch(() => {
      if (this.#collections.get(name) === created) this.#collections.delete(name);
    });
    return raceWithAbort(created.saved, signal);
  }

  async #upsert(name: string, points: readonly VectorPoint[], signal: AbortSignal | undefined): Promise<void> {
    if (this.readOnly) throw this.#readOnlyError('upsert into', name);
    const open = await this.#require(name, signal);
    const prepared = preparePoints(points, open.collection.dimensions);
    if (prepared.length === 0) return;
    await this.#mutate(open, signal, (collection) => {
      collection.upsert(prepared);
      return true;
    });
  }

  async #delete(name: string, selector: { readonly ids: readonly string[] } | { readonly filter: Filter }, signal: AbortSignal | undefined): Promise<void> {
    if (this.readOnly) throw this.#readOnlyError('delete from', name);
    const open = await this.#require(name, signal);
    if (typeof selector !== 'object' || selector === null || ('ids' in selector) === ('filter' in selector)) {
      throw new AidocError('INVALID_INPUT', 'Expected the delete selector to be `{ ids }` or `{ filter }`');
    }
    if ('ids' in selector) {
      if (!Array.isArray(selector.ids)) throw new AidocError('INVALID_INPUT', 'Expected `ids` to be an array of UUID strings');
      const ids = selector.ids.map((id, index) => canonicalId(id, `ids[${index}]`));
      await this.#mutate(open, signal, (collection) => collection.deleteIds(ids) > 0);
    } else {
      const predicate = compileFilter(selector.filter);
      await this.#mutate(open, signal, (collection) => collection.deleteMatching(predicate) > 0);
    }
  }

  async #scroll(name: string, request: ScrollRequest, signal: AbortSignal | undefined): Promise<ScrollPage> {
    const { collection } = await this.#require(name, signal);
    const prepared = prepareScroll(request);
    return raceWithAbort(collection.gate.shared(() => collection.scroll(prepared)), signal);
  }

  async #info(name: string, signal: AbortSignal | undefined): Promise<CollectionInfo> {
    validateCollectionName(name);
    const open = await this.#collection(name, signal);
    if (open === undefined) return { name, exists: false, pointCount: 0, dimensions: undefined };
    return { name, exists: true, pointCount: open.collection.pointCount, dimensions: open.collection.dimensions };
  }

  async #openNow(): Promise<void> {
    if (this.readOnly) return;
    try {
      await mkdir(this.directory, { recursive: true });
    } catch (error) {
      throw new AidocError('INTERNAL', `Could not create the vector store directory ${this.directory}`, { cause: error });
    }
    this.#lock = await acquireStoreLock(this.directory);
    // Only a writer writes, and this one holds the lock: any temporary file is a dead write's.
    const names = await readdir(this.directory).catch(() => []);
    await Promise.all(names.filter(isTemporaryFileName).map((fileName) => unlink(join(this.directory, fileName)).catch(() => undefined)));
  }

  async #closeNow(): Promise<void> {
    // Calls already made finish (no new ones start), and so do the writes they queued.
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    await this.#opening?.catch(() => undefined);
    for (const { writes } of this.#collections.values()) await writes.idle();
    await this.#scanner.destroy();
    await this.#lock?.release();
    this.#lock = undefined;
  }

  /** Applies `change` under the collection's exclusive gate and waits for the write that covers it. */
  async #mutate(open: OpenCollection, signal: AbortSignal | undefined, change: (collection: StoredCollection) => boolean): Promise<void> {
    const applied = open.collection.gate.exclusive(() => {
      // A caller that aborted while waiting has been told ABORTED: its change must not apply.
      if (signal?.aborted === true) return undefined;
      // The write is requested here, not by the caller, so an applied change is always written.
      // Wrapped, so the gate does not wait for the write (which needs the gate itself).
      return change(open.collection) ? { written: open.writes.request() } : { written: Promise.resolve() };
    });
    const result = await raceWithAbort(applied, signal);
    if (result === undefined) throw abortError(signal!);
    await raceWithAbort(result.written, signal);
  }

  async #search(name: string, queries: readonly VectorQuery[], label: string, signal: AbortSignal | undefined): Promise<ScoredPoint[][]> {
    const { collection } = await this.#require(name, signal);
    const prepared = queries.map((query, index) => prepareQuery(query, collection.dimensions, label === 'query' ? label : `${label}[${index}]`));
    const search = collection.gate.shared(async () => {
      const results: ScoredPoint[][] = prepared.map(() => []);
      if (signal?.aborted === true || collection.pointCount === 0) return results;
      const scans: ScanQuery[] = [];
      const slots: number[] = [];
      prepared.forEach(({ vector, limit, predicate }, index) => {
        let mask: Uint8Array | undefined;
        if (predicate !== undefined) {
          const filtered = collection.mask(predicate);
          if (filtered.allowed === 0) return;
          if (filtered.allowed < collection.pointCount) mask = filtered.mask;
        }
        scans.push({ vector, limit, mask });
        slots.push(index);
      });
      if (scans.length === 0) return results;
      const hits = await this.#scanner.scan(collection.matrix, scans);
      hits.forEach((found, index) => {
        const slot = slots[index]!;
        results[slot] = collection.scoredPoints(found, prepared[slot]!.scoreThreshold);
      });
      return results;
    });
    return raceWithAbort(search, signal);
  }

  /** The collection, or NOT_FOUND. */
  async #require(name: string, signal: AbortSignal | undefined): Promise<OpenCollection> {
    validateCollectionName(name);
    const open = await this.#collection(name, signal);
    if (open === undefined) {
      throw new AidocError('NOT_FOUND', `Collection '${name}' does not exist in ${this.directory}`, { details: { collection: name } });
    }
    return open;
  }

  /** The collection in memory, loaded (a reader: reloaded if its file changed) or undefined when it does not exist. */
  async #collection(name: string, signal: AbortSignal | undefined): Promise<OpenCollection | undefined> {
    throwIfAborted(signal);
    await this.#ready(signal);
    if (!this.readOnly) {
      const open = this.#collections.get(name);
      if (open !== undefined) return open;
    }
    return this.#loads.run(name, () => (this.readOnly ? this.#refresh(name) : this.#load(name)), { signal });
  }

  /** The writer's first use of a collection: from its file, if any. */
  async #load(name: string): Promise<OpenCollection | undefined> {
    const file = await readCollectionFile(collectionFilePath(this.directory, name));
    // Created by ensureCollection meanwhile: that one is the collection.
    const current = this.#collections.get(name);
    if (current !== undefined || file === undefined) return current;
    const open = this.#track(new StoredCollection(file.content));
    this.#collections.set(name, open);
    return open;
  }

  /** The reader's view of a collection: reloaded when the file was replaced since it was loaded. */
  async #refresh(name: string): Promise<OpenCollection | undefined> {
    const path = collectionFilePath(this.directory, name);
    const cached = this.#collections.get(name);
    if (cached !== undefined && cached.version === (await fileVersion(path))) return cached;
    const file = await readCollectionFile(path);
    if (file === undefined) {
      this.#collections.delete(name);
      return undefined;
    }
    const open = this.#track(new StoredCollection(file.content), file.version);
    this.#collections.set(name, open);
    return open;
  }

  #track(collection: StoredCollection, version?: string): OpenCollection {
    const path = collectionFilePath(this.directory, collection.name);
    // A write reads the collection in place, so it holds the gate shared: no mutation meanwhile.
    const writes = new WriteCoalescer(() => collection.gate.shared(() => writeCollectionFile(path, collection.content())));
    return { collection, writes, version, saved: Promise.resolve() };
  }

  #readOnlyError(action: string, name: string): AidocError {
    return new AidocError('INVALID_INPUT', `Cannot ${action} collection '${name}': the vector store on ${this.directory} was opened with \`readOnly: true\``, {
      details: { collection: name },
    });
  }

  #closedError(): AidocError {
    return new AidocError('INVALID_INPUT', `The vector store on ${this.directory} is closed`);
  }
}
