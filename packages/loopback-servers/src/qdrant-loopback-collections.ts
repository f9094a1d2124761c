import type { Payload } from '@aidoc/core';
import { compileQdrantFilter } from './qdrant-loopback-filter.ts';
import { QdrantLoopbackHttpError, collectionNotFound, notImplemented, wrongInput } from './qdrant-loopback-http-error.ts';

/**
 * The loopback server's in-memory Qdrant: collections of points with exact cosine search, the
 * way Qdrant answers for what the adapter uses. Bodies arrive already checked against the OpenAPI
 * schema, so this file checks only what the schema cannot (dimensions, existence) and builds the
 * `result` of each answer.
 */

/** A point id as Qdrant returns it: an unsigned integer, or a UUID in canonical lowercase form. */
export type QdrantPointId = number | string;

interface StoredPoint {
  readonly id: QdrantPointId;
  /** Normalised to unit length, as Qdrant stores vectors of Cosine collections. */
  readonly vector: readonly number[];
  readonly payload: Record<string, unknown>;
  /** The operation that last wrote the point. */
  readonly version: number;
}

interface StoredCollection {
  readonly size: number;
  readonly points: Map<string, StoredPoint>;
  /** Payload indexes by field: their data type (`keyword`, `integer`, ...). */
  readonly payloadIndexes: Map<string, string>;
  operations: number;
}

/** The scored point of a query answer (`ScoredPoint`). */
interface ScoredPointResult {
  readonly id: QdrantPointId;
  readonly version: number;
  readonly score: number;
  readonly payload?: Record<string, unknown>;
  readonly vector?: number[];
}

export class QdrantLoopbackCollections {
  readonly #collections = new Map<string, StoredCollection>();

  names(): string[] {
    return [...this.#collections.keys()];
  }

  exists(name: string): boolean {
    return this.#collections.has(name);
  }

  pointCount(name: string): number | undefined {
    return this.#collections.get(name)?.points.size;
  }

  clear(): void {
    this.#collections.clear();
  }

  /** `PUT /collections/{name}`: 409 when it exists, like Qdrant. */
  create(name: string, body: Record<string, unknown>): true {
    if (this.#collections.has(name)) throw new QdrantLoopbackHttpError(409, `Wrong input: Collection \`${name}\` already exists!`);
    const vectors = body.vectors;
    if (!isRecord(vectors) || typeof vectors.size !== 'number') throw notImplemented('collections without one unnamed dense vector (`vectors: { size, distance }`)');
    if (vectors.distance !== 'Cosine') throw notImplemented(`distance ${String(vectors.distance)} (only Cosine)`);
    if (isRecord(body.sparse_vectors) || isRecord(vectors.multivector_config)) throw notImplemented('sparse and multi-vectors');
    this.#collections.set(name, { size: vectors.size, points: new Map(), payloadIndexes: new Map(), operations: 0 });
    return true;
  }

  /** `DELETE /collections/{name}`: true when it existed. */
  drop(name: string): boolean {
    return this.#collections.delete(name);
  }

  /** `GET /collections/{name}`: a `CollectionInfo` describing a green, single-segment collection. */
  info(name: string): Record<string, unknown> {
    const collection = this.#get(name);
    const payloadSchema: Record<string, unknown> = {};
    for (const [field, dataType] of collection.payloadIndexes) {
      const indexed = [...collection.points.values()].filter((point) => point.payload[field] !== undefined && point.payload[field] !== null).length;
      payloadSchema[field] = { data_type: dataType, points: indexed };
    }
    return {
      status: 'green',
      optimizer_status: 'ok',
      indexed_vectors_count: 0,
      points_count: collection.points.size,
      segments_count: 1,
      config: {
        params: {
          vectors: { size: collection.size, distance: 'Cosine' },
          shard_number: 1,
          replication_factor: 1,
          write_consistency_factor: 1,
          on_disk_payload: true,
        },
        hnsw_config: { m: 16, ef_construct: 100, full_scan_threshold: 10_000, max_indexing_threads: 0, on_disk: false },
        optimizer_config: {
          deleted_threshold: 0.2,
          vacuum_min_vector_number: 1000,
          default_segment_number: 0,
          max_segment_size: null,
          memmap_threshold: null,
          indexing_threshold: 10_000,
          flush_interval_sec: 5,
          max_optimization_threads: null,
        },
        wal_config: { wal_capacity_mb: 32, wal_segments_ahead: 0, wal_retain_closed: 1 },
        quantization_config: null,
        strict_mode_config: { enabled: false },
      },
      payload_schema: payloadSchema,
    };
  }

  /** `PUT /collections/{name}/index`. */
  createPayloadIndex(name: string, body: Record<string, unknown>, wait: boolean): Record<string, unknown> {
    const collection = this.#get(name);
    const schema = body.field_schema;
    const dataType = typeof schema === 'string' ? schema : isRecord(schema) && typeof schema.type === 'string' ? schema.type : undefined;
    if (dataType === undefined) throw notImplemented('payload indexes without `field_schema`');
    collection.payloadIndexes.set(String(body.field_name), dataType);
    return this.#updated(collection, wait);
  }

  /** `PUT /collections/{name}/points`: all points are checked before any is written. */
  upsert(name: string, body: Record<string, unknown>, wait: boolean): Record<string, unknown> {
    const collection = this.#get(name);
    if (body.update_filter !== undefined && body.update_filter !== null) throw notImplemented('`update_filter`');
    const mode = typeof body.update_mode === 'string' ? body.update_mode : 'upsert';
    const incoming = readPoints(body).map(({ id, vector, payload }) => ({ id: canonicalId(id), vector: checkVector(vector, collection.size), payload }));
    const version = collection.operations + 1;
    for (const { id, vector, payload } of incoming) {
      const key = pointKey(id);
      const exists = collection.points.has(key);
      if ((mode === 'insert_only' && exists) || (mode === 'update_only' && !exists)) continue;
      collection.points.set(key, { id, vector: normalise(vector), payload: isRecord(payload) ? { ...payload } : {}, version });
    }
    return this.#updated(collection, wait);
  }

  /** `POST /collections/{name}/points/delete`: by ids (missing ones ignored) or by filter. */
  delete(name: string, body: Record<string, unknown>, wait: boolean): Record<string, unknown> {
    const collection = this.#get(name);
    if (Array.isArray(body.points)) {
      for (const id of body.points) collection.points.delete(pointKey(canonicalId(id)));
    } else {
      const predicate = compileQdrantFilter(body.filter) ?? (() => true);
      for (const [key, point] of collection.points) if (predicate(point.payload as Payload)) collection.points.delete(key);
    }
    return this.#updated(collection, wait);
  }

  /** `POST /collections/{name}/points/query`: a `QueryResponse`. */
  query(name: string, request: Record<string, unknown>): Record<string, unknown> {
    const collection = this.#get(name);
    for (const option of ['prefetch', 'using', 'lookup_from', 'shard_key'] as const) {
      if (request[option] !== undefined && request[option] !== null) throw notImplemented(`\`${option}\` in queries`);
    }
    const vector = queryVector(request.query, collection.size);
    const predicate = compileQdrantFilter(request.filter);
    const threshold = typeof request.score_threshold === 'number' ? request.score_threshold : undefined;
    const limit = typeof request.limit === 'number' ? request.limit : 10;
    const offset = typeof request.offset === 'number' ? request.offset : 0;
    const selectPayload = payloadSelector(request.with_payload, false);
    const withVector = vectorSelector(request.with_vector);

    const candidates = sortedPoints(collection).filter((point) => predicate === undefined || predicate(point.payload as Payload));
    const scored = candidates
      .map((point) => ({ point, score: vector === undefined ? 0 : dot(vector, point.vector) }))
      .filter(({ score }) => threshold === undefined || score >= threshold);
    // A stable sort keeps id order among equal scores; without a query vector Qdrant answers in id order.
    if (vector !== undefined) scored.sort((left, right) => right.score - left.score);
    const points: ScoredPointResult[] = scored.slice(offset, offset + limit).map(({ point, score }) => ({
      id: point.id,
      version: point.version,
      score,
      ...(selectPayload === undefined ? {} : { payload: selectPayload(point.payload) }),
      ...(withVector ? { vector: [...point.vector] } : {}),
    }));
    return { points };
  }

  /** `POST /collections/{name}/points/scroll`: a `ScrollResult`, in id order. */
  scroll(name: string, request: Record<string, unknown>): Record<string, unknown> {
    const collection = this.#get(name);
    if (request.order_by !== undefined && request.order_by !== null) throw notImplemented('`order_by` in scroll');
    if (request.shard_key !== undefined && request.shard_key !== null) throw notImplemented('`shard_key` in scroll');
    const limit = typeof request.limit === 'number' ? request.limit : 10;
    const predicate = compileQdrantFilter(request.filter);
    const from = request.offset === undefined || request.offset === null ? undefined : canonicalId(request.offset);
    const selectPayload = payloadSelector(request.with_payload, true);
    const withVector = vectorSelector(request.with_vector);
    const matching = sortedPoints(collection).filter(
      (point) => (from === undefined || compareIds(point.id, from) >= 0) && (predicate === undefined || predicate(point.payload as Payload)),
    );
    const page = matching.slice(0, limit).map((point) => ({
      id: point.id,
      ...(selectPayload === undefined ? {} : { payload: selectPayload(point.payload) }),
      ...(withVector ? { vector: [...point.vector] } : {}),
    }));
    return { points: page, next_page_offset: matching[limit]?.id ?? null };
  }

  #get(name: string): StoredCollection {
    const collection = this.#collections.get(name);
    if (collection === undefined) throw collectionNotFound(name);
    return collection;
  }

  #updated(collection: StoredCollection, wait: boolean): Record<string, unknown> {
    collection.operations += 1;
    return { operation_id: collection.operations, status: wait ? 'completed' : 'acknowledged' };
  }
}

/** Points of a `PointsList` (`{ points }`) or a `PointsBatch` (`{ batch: { ids, vectors, payloads } }`). */
function readPoints(body: Record<string, unknown>): { id: unknown; vector: unknown; payload: unknown }[] {
  if (Array.isArray(body.points)) {
    return body.points.map((point: unknown) => {
      const record = isRecord(point) ? point : {};
      return { id: record.id, vector: record.vector, payload: record.payload };
    });
  }
  const batch = isRecord(body.batch) ? body.batch : {};
  const ids: unknown[] = Array.isArray(batch.ids) ? batch.ids : [];
  const vectors: unknown[] | undefined = Array.isArray(batch.vectors) ? batch.vectors : undefined;
  if (vectors === undefined) throw notImplemented('named or document vectors in a points batch');
  const payloads: unknown[] = Array.isArray(batch.payloads) ? batch.payloads : [];
  if (vectors.length !== ids.length || (payloads.length > 0 && payloads.length !== ids.length)) {
    throw wrongInput(`the batch has ${ids.length} ids, ${vectors.length} vectors and ${payloads.length} payloads`);
  }
  return ids.map((id, index) => ({ id, vector: vectors[index], payload: payloads[index] }));
}

/** An id as Qdrant keeps it: integers as they are, UUIDs lowercase without a `urn:uuid:` prefix. */
function canonicalId(id: unknown): QdrantPointId {
  if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) return id;
  if (typeof id === 'string') {
    const uuid = id.toLowerCase().replace(/^urn:uuid:/, '');
    if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(uuid)) return uuid;
  }
  throw wrongInput(`Unable to parse point id ${JSON.stringify(id)}: expected an unsigned integer or a UUID`);
}

function pointKey(id: QdrantPointId): string {
  return typeof id === 'number' ? `n:${id}` : `u:${id}`;
}

/** Qdrant's id order: integers first, ascending, then UUIDs by value (= canonical text order). */
function compareIds(left: QdrantPointId, right: QdrantPointId): number {
  if (typeof left === 'number' && typeof right === 'number') return left - right;
  if (typeof left === 'number') return -1;
  if (typeof right === 'number') return 1;
  return left < right ? -1 : left > right ? 1 : 0;
}

function sortedPoints(collection: StoredCollection): StoredPoint[] {
  return [...collection.points.values()].sort((left, right) => compareIds(left.id, right.id));
}

function checkVector(vector: unknown, size: number): number[] {
  if (!isNumberList(vector)) throw notImplemented('named, sparse or multi-vectors');
  if (vector.length !== size) throw wrongInput(`Vector dimension error: expected dim: ${size}, got ${vector.length}`);
  return vector;
}

function isNumberList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'number');
}

/** The dense query vector (`query: [..]` or `query: { nearest: [..] }`), normalised; undefined for no query. */
function queryVector(query: unknown, size: number): number[] | undefined {
  if (query === undefined || query === null) return undefined;
  const vector = isRecord(query) && 'nearest' in query ? query.nearest : query;
  if (!isNumberList(vector)) {
    throw notImplemented('queries other than a dense vector (`query: [..]` or `{ nearest: [..] }`)');
  }
  return normalise(checkVector(vector, size));
}

function normalise(vector: readonly number[]): number[] {
  const norm = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
  return norm === 0 ? [...vector] : vector.map((value) => value / norm);
}

function dot(left: readonly number[], right: readonly number[]): number {
  let sum = 0;
  for (let index = 0; index < left.length; index++) sum += left[index]! * right[index]!;
  return sum;
}

/** `with_payload`: true/false or a list of fields to include. Undefined means "no payload". */
function payloadSelector(selector: unknown, byDefault: boolean): ((payload: Record<string, unknown>) => Record<string, unknown>) | undefined {
  const value = selector ?? byDefault;
  if (value === true) return (payload) => ({ ...payload });
  if (value === false) return undefined;
  if (Array.isArray(value)) {
    const fields = value.filter((field): field is string => typeof field === 'string');
    return (payload) => Object.fromEntries(fields.filter((field) => Object.hasOwn(payload, field)).map((field) => [field, payload[field]]));
  }
  throw notImplemented('payload selectors other than true, false or a list of fields');
}

function vectorSelector(selector: unknown): boolean {
  if (selector === undefined || selector === null || selector === false) return false;
  if (selector === true) return true;
  throw notImplemented('`with_vector` with vector names');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
