import {
  AidocError,
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
import { QdrantClient, type Schemas } from '@qdrant/js-client-rest';
import { sendQdrantRequest } from './qdrant-call.ts';
import { toQdrantFilter } from './qdrant-filter.ts';
import { readCollectionDescription, readQueryBatch, readResult, readScoredPoints, readScrollPage, type QdrantCollectionDescription } from './qdrant-response.ts';
import { resolveQdrantVectorStoreSettings, type QdrantVectorStoreSettings } from './qdrant-vector-store-settings.ts';

type QdrantApi = ReturnType<QdrantClient['api']>;

/**
 * A `VectorStore` over Qdrant's REST API (@qdrant/js-client-rest 1.19). One client per store,
 * built on first use and reused, so requests share its keep-alive connection pool.
 *
 * - `ensureCollection` creates `{ vectors: { size, distance: 'Cosine' } }` plus a payload index
 *   per `payloadIndexes` field (`keyword` unless `payloadIndexTypes` says otherwise); an existing
 *   collection of other dimensions (or distance) rejects INVALID_INPUT.
 * - `upsert` sends batches of `maxUpsertBatchSize` points with `wait: true` (read-your-writes).
 * - `query` and `queryBatch` use the Universal Query API (`POST /points/query`,
 *   `POST /points/query/batch`: several searches in one round trip).
 * - `scroll` pages by point id; `delete` by ids or filter, with `wait: true`.
 *
 * Every call passes its abort signal down to `fetch` (aborting closes the connection) and maps
 * failures onto AidocError codes (see `toQdrantAidocError`). Nothing is retried here: core's
 * call policies retry RATE_LIMITED (honouring `retryAfterMs`), UPSTREAM_UNAVAILABLE and TIMEOUT.
 *
 * @example
 * ```ts
 * const store = createQdrantVectorStore({ url: 'http://localhost:6333' });
 * await store.ensureCollection('guidelines', { dimensions: 768, distance: 'cosine', payloadIndexes: ['source'] });
 * ```
 */
export function createQdrantVectorStore(settings: QdrantVectorStoreSettings = {}): VectorStore {
  const resolved = resolveQdrantVectorStoreSettings(settings);
  const { connection, timeoutMs, upsertBatchSize, payloadIndexTypes } = resolved;
  let api: QdrantApi | undefined;
  const getApi = (): QdrantApi => {
    if (api === undefined) {
      const client =
        'client' in connection
          ? connection.client
          : new QdrantClient({
              url: connection.url,
              apiKey: connection.apiKey,
              checkCompatibility: connection.checkCompatibility,
              maxConnections: connection.maxConnections,
              // The SDK's own timeout would replace each request's abort signal; the adapter times requests itself.
              timeout: Infinity,
            });
      api = client.api();
    }
    return api;
  };

  /** One request: the caller's signal and the adapter's deadline, failures as AidocErrors. */
  const send = <T>(operation: string, collection: string, options: CallOptions | undefined, request: (api: QdrantApi, init: { signal: AbortSignal }) => Promise<T>): Promise<T> =>
    sendQdrantRequest({ operation, collection, signal: options?.signal, timeoutMs }, (init) => request(getApi(), init));

  /** The collection as Qdrant describes it; undefined when it does not exist. */
  const describe = async (collection: string, options: CallOptions | undefined): Promise<QdrantCollectionDescription | undefined> => {
    try {
      const response = await send('getCollection', collection, options, (client, init) => client.getCollection({ collection_name: collection }, init));
      return readCollectionDescription(readResult(response, 'getCollection'), 'getCollection');
    } catch (error) {
      if (AidocError.hasCode(error, 'NOT_FOUND')) return undefined;
      throw error;
    }
  };

  const queryRequest = (query: VectorQuery): Schemas['QueryRequest'] => {
    const request: Schemas['QueryRequest'] = { query: toQdrantVector(query.vector, 'query.vector'), limit: query.limit, with_payload: true };
    if (query.filter !== undefined) {
      const filter = toQdrantFilter(query.filter);
      if (Object.keys(filter).length > 0) request.filter = filter;
    }
    if (query.scoreThreshold !== undefined) request.score_threshold = query.scoreThreshold;
    return request;
  };

  return {
    specificationVersion: 'v1',
    provider: 'qdrant',
    supportsQueryBatch: true,
    maxUpsertBatchSize: upsertBatchSize,

    async ensureCollection(collection: string, collectionSettings: CollectionSettings, options?: CallOptions): Promise<void> {
      throwIfAborted(options?.signal);
      const { dimensions, distance, payloadIndexes = [] } = collectionSettings;
      if (!Number.isInteger(dimensions) || dimensions < 1) throw invalidInput(`ensureCollection: \`dimensions\` must be a positive integer, got ${String(dimensions)}`);
      if (distance !== 'cosine') throw invalidInput(`ensureCollection: \`distance\` must be 'cosine', got ${String(distance)}`);

      let existing = await describe(collection, options);
      if (existing === undefined) {
        try {
          await send('createCollection', collection, options, (client, init) =>
            client.createCollection({ collection_name: collection, vectors: { size: dimensions, distance: 'Cosine' } }, init),
          );
        } catch (error) {
          // 409: another caller created it meanwhile; check it like any existing collection.
          if (!(AidocError.isInstance(error) && error.details?.status === 409)) throw error;
          existing = await describe(collection, options);
        }
      }
      if (existing !== undefined) {
        if (existing.dimensions !== dimensions || existing.distance !== 'Cosine') {
          const found = existing.dimensions === undefined ? 'named vectors only' : `${existing.dimensions} dimensions (${existing.distance ?? 'unknown distance'})`;
          throw invalidInput(`Qdrant collection "${collection}" exists with ${found}; expected ${dimensions} dimensions (Cosine)`, { collection, dimensions: existing.dimensions });
        }
      }
      for (const field of payloadIndexes) {
        if (existing?.indexedFields.has(field) === true) continue;
        await send('createFieldIndex', collection, options, (client, init) =>
          client.createFieldIndex({ collection_name: collection, wait: true, field_name: field, field_schema: payloadIndexTypes[field] ?? 'keyword' }, init),
        );
      }
    },

    async upsert(collection: string, points: readonly VectorPoint[], options?: CallOptions): Promise<void> {
      throwIfAborted(options?.signal);
      // Translate every point first: a bad one fails the call before any batch is written.
      const translated: Schemas['PointStruct'][] = points.map((point, index) => ({
        id: toQdrantId(point.id),
        vector: toQdrantVector(point.vector, `points[${index}].vector`),
        payload: point.payload,
      }));
      for (let start = 0; start < translated.length; start += upsertBatchSize) {
        const batch = translated.slice(start, start + upsertBatchSize);
        await send('upsert', collection, options, (client, init) => client.upsertPoints({ collection_name: collection, wait: true, points: batch }, init));
      }
    },

    async query(collection: string, query: VectorQuery, options?: CallOptions): Promise<ScoredPoint[]> {
      throwIfAborted(options?.signal);
      const request = queryRequest(query);
      const response = await send('query', collection, options, (client, init) => client.queryPoints({ collection_name: collection, ...request }, init));
      return readScoredPoints(readResult(response, 'query'), 'query');
    },

    async queryBatch(collection: string, queries: readonly VectorQuery[], options?: CallOptions): Promise<ScoredPoint[][]> {
      throwIfAborted(options?.signal);
      if (queries.length === 0) return [];
      const searches = queries.map(queryRequest);
      const response = await send('queryBatch', collection, options, (client, init) => client.queryBatchPoints({ collection_name: collection, searches }, init));
      return readQueryBatch(readResult(response, 'queryBatch'), queries.length, 'queryBatch');
    },

    async scroll(collection: string, request: ScrollRequest, options?: CallOptions): Promise<ScrollPage> {
      throwIfAborted(options?.signal);
      const body: Schemas['ScrollRequest'] = { limit: request.limit, with_payload: true, with_vector: false };
      if (request.offset !== undefined) body.offset = toQdrantId(request.offset);
      if (request.filter !== undefined) {
        const filter = toQdrantFilter(request.filter);
        if (Object.keys(filter).length > 0) body.filter = filter;
      }
      const response = await send('scroll', collection, options, (client, init) => client.scrollPoints({ collection_name: collection, ...body }, init));
      return readScrollPage(readResult(response, 'scroll'), 'scroll');
    },

    async delete(collection: string, selector: { readonly ids: readonly string[] } | { readonly filter: Filter }, options?: CallOptions): Promise<void> {
      throwIfAborted(options?.signal);
      if ('ids' in selector) {
        if (selector.ids.length === 0) return;
        const ids = selector.ids.map(toQdrantId);
        await send('delete', collection, options, (client, init) => client.deletePoints({ collection_name: collection, wait: true, points: ids }, init));
        return;
      }
      const filter = toQdrantFilter(selector.filter);
      await send('delete', collection, options, (client, init) => client.deletePoints({ collection_name: collection, wait: true, filter }, init));
    },

    async info(collection: string, options?: CallOptions): Promise<CollectionInfo> {
      throwIfAborted(options?.signal);
      const description = await describe(collection, options);
      if (description === undefined) return { name: collection, exists: false, pointCount: 0, dimensions: undefined };
      return { name: collection, exists: true, pointCount: description.pointCount, dimensions: description.dimensions };
    },
  };
}

/** Vectors go out as plain arrays of finite numbers (JSON would turn NaN into null). */
function toQdrantVector(vector: Float32Array | readonly number[], where: string): number[] {
  const values = Array.from(vector);
  const bad = values.findIndex((value) => typeof value !== 'number' || !Number.isFinite(value));
  if (bad !== -1) throw invalidInput(`\`${where}[${bad}]\` must be a finite number, got ${String(values[bad])}`);
  return values;
}

/** Ids are UUID strings; an id Qdrant returned as an unsigned integer goes back as one. */
function toQdrantId(id: string): string | number {
  return /^(0|[1-9]\d{0,15})$/.test(id) && Number.isSafeInteger(Number(id)) ? Number(id) : id;
}

function invalidInput(message: string, details?: Record<string, unknown>): AidocError {
  return new AidocError('INVALID_INPUT', message, { details });
}
