import type { CallOptions, SpecificationVersion } from './call-options.ts';

export type PayloadValue = string | number | boolean | null | readonly string[] | readonly number[];

/** What a point carries besides its vector: the chunk text and its metadata. */
export type Payload = Readonly<Record<string, PayloadValue>>;

export interface VectorPoint {
  /** A UUID; deterministic ids (UUIDv5 of source and content) make upserts idempotent. */
  readonly id: string;
  readonly vector: Float32Array | readonly number[];
  readonly payload: Payload;
}

/** One condition on a payload field (the subset of Qdrant's filter language every store supports). */
export type FilterCondition =
  | { readonly key: string; readonly match: { readonly value: string | number | boolean } }
  | { readonly key: string; readonly match: { readonly any: readonly (string | number)[] } }
  | { readonly key: string; readonly range: { readonly gt?: number; readonly gte?: number; readonly lt?: number; readonly lte?: number } };

/**
 * Points match when every `must` condition holds, at least one `should` holds (when any are
 * given), and no `mustNot` holds. A condition on an array field holds when any element matches.
 */
export interface Filter {
  readonly must?: readonly FilterCondition[];
  readonly should?: readonly FilterCondition[];
  readonly mustNot?: readonly FilterCondition[];
}

export interface VectorQuery {
  readonly vector: Float32Array | readonly number[];
  /** Most points returned, best first. */
  readonly limit: number;
  readonly filter?: Filter;
  /** Drop points scoring below this (cosine similarity). */
  readonly scoreThreshold?: number;
}

export interface ScoredPoint {
  readonly id: string;
  /** Cosine similarity, higher is closer. */
  readonly score: number;
  readonly payload: Payload;
}

export interface CollectionSettings {
  readonly dimensions: number;
  readonly distance: 'cosine';
  /** Payload fields that filters use; stores that index payloads create indexes for them. */
  readonly payloadIndexes?: readonly string[];
}

export interface CollectionInfo {
  readonly name: string;
  readonly exists: boolean;
  readonly pointCount: number;
  /** Undefined when the collection does not exist. */
  readonly dimensions: number | undefined;
}

export interface ScrollRequest {
  readonly filter?: Filter;
  /** Page size. */
  readonly limit: number;
  /** The `nextOffset` of the previous page. */
  readonly offset?: string;
}

export interface ScrollPage {
  readonly points: readonly { readonly id: string; readonly payload: Payload }[];
  /** Undefined on the last page. */
  readonly nextOffset: string | undefined;
}

/**
 * Stores vectors with payloads and searches them by cosine similarity. `queryBatch` is optional:
 * where it is missing (or `supportsQueryBatch` is false) core runs the queries as parallel
 * `query` calls.
 */
export interface VectorStore {
  readonly specificationVersion: SpecificationVersion;
  readonly provider: string;
  /** True when `queryBatch` serves several searches in one round trip. */
  readonly supportsQueryBatch: boolean;
  /** Most points one `upsert` call should carry. */
  readonly maxUpsertBatchSize: number;
  /** Creates the collection when missing; rejects with INVALID_INPUT when it exists with other dimensions. */
  ensureCollection(collection: string, settings: CollectionSettings, options?: CallOptions): Promise<void>;
  /**
   * Inserts or replaces points by id: running it twice leaves one copy of each point. Resolves
   * once the points are visible to queries (read-your-writes; Qdrant: `wait: true`).
   */
  upsert(collection: string, points: readonly VectorPoint[], options?: CallOptions): Promise<void>;
  /** Rejects with NOT_FOUND when the collection does not exist. */
  query(collection: string, query: VectorQuery, options?: CallOptions): Promise<ScoredPoint[]>;
  queryBatch?(collection: string, queries: readonly VectorQuery[], options?: CallOptions): Promise<ScoredPoint[][]>;
  /** Pages through points (ids and payloads, no vectors), e.g. to find a document's stale chunks. */
  scroll(collection: string, request: ScrollRequest, options?: CallOptions): Promise<ScrollPage>;
  /** Deletes the points with these ids, or matching this filter (visible once resolved). Missing ids are not an error. */
  delete(collection: string, selector: { readonly ids: readonly string[] } | { readonly filter: Filter }, options?: CallOptions): Promise<void>;
  /** Never rejects for a missing collection: `exists` says so. */
  info(collection: string, options?: CallOptions): Promise<CollectionInfo>;
}
