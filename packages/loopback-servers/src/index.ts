// Test servers on 127.0.0.1 that speak the vendors' protocols, shared by every test that needs them.
export {
  startQdrantLoopbackServer,
  type QdrantLoopbackRequest,
  type QdrantLoopbackServer,
  type QdrantLoopbackServerOptions,
  type QdrantSpecViolation,
} from './qdrant-loopback-server.ts';
export type { QdrantLoopbackFault } from './qdrant-loopback-faults.ts';
export {
  DEFAULT_QDRANT_OPENAPI_PATH,
  loadQdrantOpenApiValidator,
  type QdrantOpenApiValidator,
  type QdrantOperationValidator,
  type QdrantSchemaCheck,
  type QdrantSchemaError,
} from './qdrant-openapi-validator.ts';
export {
  startAnthropicLoopbackServer,
  type AnthropicLoopbackServer,
  type AnthropicLoopbackServerOptions,
} from './anthropic-loopback-server.ts';
export { defaultAnthropicReply } from './anthropic-loopback-default-responder.ts';
export { validateMessagesRequest, type AnthropicLoopbackValidation } from './anthropic-loopback-validation.ts';
export type {
  AnthropicLoopbackFault,
  AnthropicLoopbackRecordedRequest,
  AnthropicLoopbackReply,
  AnthropicLoopbackReplyBlock,
  AnthropicLoopbackRequestBody,
  AnthropicLoopbackResponder,
  AnthropicLoopbackResponderContext,
  AnthropicWireErrorType,
} from './anthropic-loopback-types.ts';
export {
  startVertexLoopbackServer,
  type VertexLoopbackModel,
  type VertexLoopbackRequest,
  type VertexLoopbackServer,
  type VertexLoopbackServerOptions,
} from './vertex-loopback-server.ts';
export { vertexLoopbackEmbedding } from './vertex-loopback-embedding.ts';
export type { VertexLoopbackFault, VertexLoopbackFaultOptions } from './vertex-loopback-faults.ts';
