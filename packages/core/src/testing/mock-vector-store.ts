import type { CallOptions } from '../contracts/call-options.ts';
import type {
  CollectionInfo,
  CollectionSettings,
  Filter,
  Payload,
  ScoredPoint,
  ScrollPage,
  ScrollRequest,
  VectorPoint,
  VectorQuery,
  VectorStore,
} from '../contracts/vector-store.ts';
import { AidocError } from '../errors/aidoc-error.ts';
import { expectPositiveInteger, invalidOption } from '../errors/validate-option.ts';
import { cosineFromDot } from './cosine-similarity.ts';
import { MockAdapter, type MockAdapterOptions, type MockCall, type MockControls } from './mock-adapter.ts';
import { compileFilter, type PayloadPredicate } from '../contracts/payload-filter.ts';
import { isList } from './is-list.ts';

export type MockVectorStoreMethod = 'ensureCollection' | 'upsert' | 'query' | 'queryBatch' | 'scroll' | 'delete' | 'info';

/** What `delete` takes: ids, or a filter. */
export type MockDeleteSelector = { readonly ids: readonly string[] } | { readonly filter: Filter };

/** One recorded call; `method` tells which, and narrows `input` and `result`. */
export type MockVectorStoreCall =
  | MockCall<'ensureCollection', { readonly collection: string; readonly settings: CollectionSettings }, undefined>
  | MockCall<'upsert', { readonly collection: string; readonly points: readonly VectorPoint[] }, undefined>
  | MockCall<'query', { readonly collection: string; readonly query: VectorQuery }, ScoredPoint[]>
  | MockCall<'queryBatch', { readonly collection: string; readonly queries: readonly VectorQuery[] }, ScoredPoint[][]>
  | MockCall<'scroll', { readonly collection: string; readonly request: ScrollRequest }, ScrollPage>
  | MockCall<'delete', { readonly collection: string; readonly selector: MockDeleteSelector }, undefined>
  | MockCall<'info', { readonly collection: string }, CollectionInfo>;

/** A collection to start with. */
export interface MockCollectionSeed {
  readonly dimensions: number;
  readonly points?: readonly VectorPoint[];
}

export interface MockVectorStoreOptions extends MockAdapterOptions<MockVectorStoreMethod, MockVectorStoreCall['input']> {
  /**
   * Offer `queryBatch`. When false the method is absent, so core's fallback to parallel `query`
   * calls is what runs.
   * @default true
   */
  readonly supportsQueryBatch?: boolean;
  /**
   * Most points per `upsert`; more reject INVALID_INPUT, so a pipeline that ignores the
   * capability fails in tests rather than against a payload limit in production.
   * @default 256
   */
  readonly maxUpsertBatchSize?: number;
  /**
   * Reject point ids that are not UUIDs, as Qdrant does.
   * @default true
   */
  readonly requireUuidIds?: boolean;
  /** Collections (with points) that exist from the start; seeding records no calls. */
  readonly collections?: Readonly<Record<string, MockCollectionSeed>>;
}

/** An in-memory VectorStore with real semantics that records its calls and simulates latency and faults. */
export interface MockVectorStore extends VectorStore, MockControls<MockVectorStoreCall> {
  /**
   * The stored points of `collection` (vectors included), sorted by id; undefined when it does not
   * exist. Reads storage directly, records no call: for asserting what a pipeline wrote.
   */
  storedPoints(collection: string): VectorPoint[] | undefined;
}

/**
 * Creates an in-memory {@link VectorStore}: exact cosine search, the contract's filters,
 * idempotent upserts, scroll pagination, NOT_FOUND for a missing collection and INVALID_INPUT for
 * a dimension mismatch.
 *
 * @example
 * ```ts
 * const store = createMockVectorStore({ supportsQueryBatch: false, latency: { fixedMs: 5 } });
 * await store.ensureCollection('guidelines', { dimensions: 16, distance: 'cosine' });
 * await pipeline.ingest({ store, embedder: createMockEmbedder() });
 * expect(store.storedPoints('guidelines')).toHaveLength(42);
 * ```
 */
export function createMockVectorStore(options: MockVectorStoreOptions = {}): MockVectorStore {
  return new SimulatedVectorStore(options);
}

interface StoredPoint {
  readonly id: string;
  readonly vector: Float32Array;
  /** Euclidean norm of `vector`, kept so a search computes one dot product per point. */
  readonly norm: number;
  readonly payload: Payload;
}

interface StoredCollection {
  readonly dimensions: number;
  readonly points: Map<string, StoredPoint>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type QueryBatch = (collection: string, queries: readonly VectorQuery[], options?: CallOptions) => Promise<ScoredPoint[][]>;

class SimulatedVectorStore extends MockAdapter<MockVectorStoreCall> implements MockVectorStore {
  readonly specificationVersion = 'v1';
  readonly provider = 'mock';
  readonly supportsQueryBatch: boolean;
  readonly maxUpsertBatchSize: number;
  declare readonly queryBatch?: QueryBatch;
  readonly #requireUuidIds: boolean;
  readonly #collections = new Map<string, StoredCollection>();

  constructor(options: MockVectorStoreOptions) {
    super('mock-vector-store', options);
    for (const flag of ['supportsQueryBatch', 'requireUuidIds'] as const) {
      if (options[flag] !== undefined && typeof options[flag] !== 'boolean') throw invalidOption(flag, 'a boolean', options[flag]);
    }
    this.maxUpsertBatchSize = options.maxUpsertBatchSize ?? 256;
    expectPositiveInteger('maxUpsertBatchSize', this.maxUpsertBatchSize);
    this.supportsQueryBatch = options.supportsQueryBatch ?? true;
    this.#requireUuidIds = options.requireUuidIds ?? true;
    if (this.supportsQueryBatch) {
      const queryBatch: QueryBatch = (collection, queries, callOptions) => this.#queryBatch(collection, queries, callOptions);
      Object.defineProperty(this, 'queryBatch', { value: queryBatch, enumerable: true });
    }
    for (const [name, seed] of Object.entries(options.collections ?? {})) {
      expectPositiveInteger(`collections.${name}.dimensions`, seed.dimensions);
      const collection: StoredCollection = { dimensions: seed.dimensions, points: new Map() };
      this.#collections.set(name, collection);
      try {
        this.#write(collection, seed.points ?? []);
      } catch (error) {
        throw invalidOption(`collections.${name}.points`, 'valid points', error instanceof Error ? error.message : error);
      }
    }
  }

  storedPoints(collection: string): VectorPoint[] | undefined {
    const stored = this.#collections.get(collection);
    if (stored === undefined) return undefined;
    return sortedPoints(stored).map((point) => ({ id: point.id, vector: Float32Array.from(point.vector), payload: copyPayload(point.payload) }));
  }

  ensureCollection(collection: string, settings: CollectionSettings, options?: CallOptions): Promise<void> {
    return this.simulate({
      method: 'ensureCollection',
      input: { collection, settings },
      signal: options?.signal,
      items: 0,
      respond: () => {
        checkCollectionName(collection);
        if (typeof settings !== 'object' || settings === null || !Number.isInteger(settings.dimensions) || settings.dimensions < 1) {
          throw new AidocError('INVALID_INPUT', 'mock-vector-store: settings.dimensions must be a positive integer');
        }
        if (settings.distance !== 'cosine') throw new AidocError('INVALID_INPUT', "mock-vector-store: settings.distance must be 'cosine'");
        const existing = this.#collections.get(collection);
        if (existing === undefined) {
          this.#collections.set(collection, { dimensions: settings.dimensions, points: new Map() });
        } else if (existing.dimensions !== settings.dimensions) {
          throw new AidocError(
            'INVALID_INPUT',
            `mock-vector-store: collection ${collection} has ${existing.dimensions} dimensions, not ${settings.dimensions}`,
            { details: { collection, dimensions: existing.dimensions, requested: settings.dimensions } },
          );
        }
        return undefined;
      },
    });
  }

  upsert(collection: string, points: readonly VectorPoint[], options?: CallOptions): Promise<void> {
    return this.simulate({
      method: 'upsert',
      input: { collection, points: [...points] },
      signal: options?.signal,
      items: points.length,
      validate: () => {
        if (points.length > this.maxUpsertBatchSize) {
          throw new AidocError('INVALID_INPUT', `mock-vector-store: ${points.length} points exceed maxUpsertBatchSize ${this.maxUpsertBatchSize}`);
        }
      },
      respond: () => {
        this.#write(this.#collection(collection), points);
        return undefined;
      },
    });
  }

  query(collection: string, query: VectorQuery, options?: CallOptions): Promise<ScoredPoint[]> {
    return this.simulate({
      method: 'query',
      input: { collection, query },
      signal: options?.signal,
      items: 1,
      respond: () => this.#search(this.#collection(collection), query),
    });
  }

  #queryBatch(collection: string, queries: readonly VectorQuery[], options?: CallOptions): Promise<ScoredPoint[][]> {
    return this.simulate({
      method: 'queryBatch',
      input: { collection, queries: [...queries] },
      signal: options?.signal,
      items: queries.length,
      respond: () => {
        const stored = this.#collection(collection);
        return queries.map((query) => this.#search(stored, query));
      },
    });
  }

  scroll(collection: string, request: ScrollRequest, options?: CallOptions): Promise<ScrollPage> {
    return this.simulate({
      method: 'scroll',
      input: { collection, request },
      signal: options?.signal,
      items: 0,
      respond: () => {
        const stored = this.#collection(collection);
        if (!Number.isInteger(request.limit) || request.limit < 1) throw new AidocError('INVALID_INPUT', 'mock-vector-store: scroll limit must be a positive integer');
        const matches = filterPredicate(request.filter);
        // Like Qdrant: points in id order, starting at the first id >= offset.
        const matching = sortedPoints(stored).filter(
          (point) => (request.offset === undefined || point.id >= request.offset) && matches(point.payload),
        );
        const page = matching.slice(0, request.limit);
        return {
          points: page.map((point) => ({ id: point.id, payload: copyPayload(point.payload) })),
          nextOffset: matching[request.limit]?.id,
        };
      },
    });
  }

  delete(collection: string, selector: MockDeleteSelector, options?: CallOptions): Promise<void> {
    return this.simulate({
      method: 'delete',
      input: { collection, selector },
      signal: options?.signal,
      items: 0,
      respond: () => {
        const stored = this.#collection(collection);
        if ('ids' in selector && isList(selector.ids)) {
          for (const id of selector.ids) stored.points.delete(id);
        } else if ('filter' in selector && typeof selector.filter === 'object' && selector.filter !== null) {
          const matches = compileFilter(selector.filter);
          for (const point of [...stored.points.values()]) {
            if (matches(point.payload)) stored.points.delete(point.id);
          }
        } else {
          throw new AidocError('INVALID_INPUT', 'mock-vector-store: delete takes { ids } or { filter }');
        }
        return undefined;
      },
    });
  }

  info(collection: string, options?: CallOptions): Promise<CollectionInfo> {
    return this.simulate({
      method: 'info',
      input: { collection },
      signal: options?.signal,
      items: 0,
      respond: () => {
        const stored = this.#collections.get(collection);
        return { name: collection, exists: stored !== undefined, pointCount: stored?.points.size ?? 0, dimensions: stored?.dimensions };
      },
    });
  }

  #collection(collection: string): StoredCollection {
    const stored = this.#collections.get(collection);
    if (stored === undefined) {
      throw new AidocError('NOT_FOUND', `mock-vector-store: collection ${collection} does not exist`, { details: { collection } });
    }
    return stored;
  }

  /** Checks every point first, so a bad batch writes nothing. */
  #write(collection: StoredCollection, points: readonly VectorPoint[]): void {
    const prepared = points.map((point) => {
      if (typeof point.id !== 'string' || point.id === '' || (this.#requireUuidIds && !UUID.test(point.id))) {
        throw new AidocError('INVALID_INPUT', `mock-vector-store: point id ${JSON.stringify(point.id)} is not a UUID`);
      }
      const vector = checkVector(point.vector, collection.dimensions);
      return { id: point.id, vector, norm: euclideanNorm(vector), payload: copyPayload(point.payload) };
    });
    for (const point of prepared) collection.points.set(point.id, point);
  }

  #search(collection: StoredCollection, query: VectorQuery): ScoredPoint[] {
    const vector = checkVector(query.vector, collection.dimensions);
    if (!Number.isInteger(query.limit) || query.limit < 1) throw new AidocError('INVALID_INPUT', 'mock-vector-store: query limit must be a positive integer');
    if (query.scoreThreshold !== undefined && !Number.isFinite(query.scoreThreshold)) {
      throw new AidocError('INVALID_INPUT', 'mock-vector-store: scoreThreshold must be a finite number');
    }
    const matches = filterPredicate(query.filter);
    const queryNorm = euclideanNorm(vector);
    // The best `limit` so far, best first: a point that would not make it costs no allocation.
    const best: { point: StoredPoint; score: number }[] = [];
    for (const point of collection.points.values()) {
      if (!matches(point.payload)) continue;
      const score = cosineFromDot(dotProduct(vector, point.vector), queryNorm, point.norm);
      if (query.scoreThreshold !== undefined && score < query.scoreThreshold) continue;
      if (best.length === query.limit && !ranksAbove(score, point.id, best[best.length - 1]!)) continue;
      let position = best.length;
      while (position > 0 && ranksAbove(score, point.id, best[position - 1]!)) position--;
      best.splice(position, 0, { point, score });
      if (best.length > query.limit) best.pop();
    }
    return best.map(({ point, score }) => ({ id: point.id, score, payload: copyPayload(point.payload) }));
  }
}

/** Higher score first; equal scores in id order, so results are deterministic. */
function ranksAbove(score: number, id: string, other: { point: StoredPoint; score: number }): boolean {
  return score > other.score || (score === other.score && compareIds(id, other.point.id) < 0);
}

function checkCollectionName(collection: unknown): void {
  if (typeof collection !== 'string' || collection === '') throw new AidocError('INVALID_INPUT', 'mock-vector-store: a collection name is a non-empty string');
}

function checkVector(vector: unknown, dimensions: number): Float32Array {
  if (!(vector instanceof Float32Array) && !Array.isArray(vector)) throw new AidocError('INVALID_INPUT', 'mock-vector-store: a vector is a Float32Array or a number array');
  const values = vector as ArrayLike<unknown>;
  if (values.length !== dimensions) {
    throw new AidocError('INVALID_INPUT', `mock-vector-store: vector has ${values.length} dimensions, the collection ${dimensions}`, {
      details: { dimensions: values.length, expected: dimensions },
    });
  }
  const copy = new Float32Array(dimensions);
  for (let index = 0; index < dimensions; index++) {
    const value = values[index];
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new AidocError('INVALID_INPUT', 'mock-vector-store: vector values must be finite numbers');
    copy[index] = value;
  }
  return copy;
}

function dotProduct(left: Float32Array, right: Float32Array): number {
  let dot = 0;
  for (let index = 0; index < left.length; index++) dot += left[index]! * right[index]!;
  return dot;
}

function euclideanNorm(vector: Float32Array): number {
  return Math.sqrt(dotProduct(vector, vector));
}

function sortedPoints(collection: StoredCollection): StoredPoint[] {
  return [...collection.points.values()].sort((left, right) => compareIds(left.id, right.id));
}

function compareIds(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

function copyPayload(payload: Payload): Payload {
  if (typeof payload !== 'object' || payload === null) throw new AidocError('INVALID_INPUT', 'mock-vector-store: a payload is an object');
  // A loop, not Object.fromEntries: every search result is copied, so this runs per hit.
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(payload)) {
    const value = (payload as Record<string, unknown>)[key];
    copy[key] = Array.isArray(value) ? [...(value as unknown[])] : value;
  }
  return copy as Payload;
}

/** The filter's predicate; no filter matches everything. Rejects a malformed filter (INVALID_INPUT). */
function filterPredicate(filter: unknown): PayloadPredicate {
  return filter === undefined ? () => true : compileFilter(filter);
}
