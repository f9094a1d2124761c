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
