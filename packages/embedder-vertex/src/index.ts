/**
 * `@aidoc/embedder-vertex`: Vertex AI text embeddings (text-embedding-005,
 * gemini-embedding-001, ...) as an @aidoc `Embedder`.
 *
 * @packageDocumentation
 */
export { createVertexEmbedder, type VertexEmbedder } from './vertex-embedder.ts';
export type { VertexClientOptions, VertexEmbedderSettings } from './vertex-embedder-settings.ts';
export {
  VERTEX_MAX_TEXTS_PER_REQUEST,
  VERTEX_MAX_TOKENS_PER_REQUEST,
  VERTEX_MAX_TOKENS_PER_TEXT,
  maxTextsPerRequest,
} from './vertex-limits.ts';
