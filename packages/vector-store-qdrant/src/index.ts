/**
 * `@aidoc/vector-store-qdrant`: the `VectorStore` contract of `@aidoc/core` over Qdrant's REST
 * API, through the official `@qdrant/js-client-rest` SDK.
 *
 * @packageDocumentation
 */
export { createQdrantVectorStore } from './qdrant-vector-store.ts';
export type { QdrantPayloadIndexType, QdrantVectorStoreSettings } from './qdrant-vector-store-settings.ts';
