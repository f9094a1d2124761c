import { sleep, takeCpuTurn, type CallOptions, type ScoredPoint, type VectorQuery, type VectorStore } from '@aidoc/core';

/**
 * The vector store as a briefing service meets it in production: on another machine. Queries are
 * answered after `latencyMs`, and the search itself costs this process nothing: each distinct
 * query (vector object, collection, limit, filter, threshold) is searched once on `store`, an
 * in-process mock with no latency of its own, and its answer is replayed from then on. Without
 * this the mock's brute-force scan, work a real store does on its own CPU, would be measured as
 * the pipeline's. Everything but queries goes straight to `store`.
 */
export function remoteVectorStore(store: VectorStore, latencyMs: number): VectorStore {
  // Per query vector (the pipeline's query-embedding cache hands out one object per query text),
  // then per the rest of the query: finding a known answer costs no hashing of the vector.
  const answers = new WeakMap<object, Map<string, Promise<readonly ScoredPoint[]>>>();

  const answer = (collection: string, query: VectorQuery, options: CallOptions | undefined): Promise<readonly ScoredPoint[]> => {
    let byRest = answers.get(query.vector);
    if (byRest === undefined) answers.set(query.vector, (byRest = new Map<string, Promise<readonly ScoredPoint[]>>()));
    const key = `${collection}\n${query.limit}\n${query.scoreThreshold ?? ''}\n${query.filter === undefined ? '' : JSON.stringify(query.filter)}`;
    let known = byRest.get(key);
    if (known === undefined) {
      known = store.query(collection, query, options).then((points) => points.map((point) => Object.freeze({ ...point, payload: Object.freeze({ ...point.payload }) })));
      byRest.set(key, known);
      // A failed search is not replayed.
      known.catch(() => byRest.delete(key));
    }
    return known;
  };

  const queryBatch = async (collection: string, queries: readonly VectorQuery[], options?: CallOptions): Promise<ScoredPoint[][]> => {
    await sleep(latencyMs, options?.signal);
    // Like the mocks: the response is read in its own CPU turn, not in one timer callback with every other.
    await takeCpuTurn(options?.signal);
    const results = await Promise.all(queries.map((query) => answer(collection, query, options)));
    return results.map((points) => [...points]);
  };

  return {
    specificationVersion: store.specificationVersion,
    provider: `remote(${store.provider})`,
    supportsQueryBatch: true,
    maxUpsertBatchSize: store.maxUpsertBatchSize,
    ensureCollection: (collection, settings, options) => store.ensureCollection(collection, settings, options),
    upsert: (collection, points, options) => store.upsert(collection, points, options),
    query: async (collection, query, options) => (await queryBatch(collection, [query], options))[0]!,
    queryBatch,
    scroll: (collection, request, options) => store.scroll(collection, request, options),
    delete: (collection, selector, options) => store.delete(collection, selector, options),
    info: (collection, options) => store.info(collection, options),
  };
}
