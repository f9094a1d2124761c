/**
 * `@aidoc/core/testing`: the adapter conformance suites every adapter package runs, and mocks of
 * the four contracts that record calls and simulate latency and faults, for pipeline tests and
 * benchmarks.
 *
 * The suites are written for vitest (an optional peer dependency): call one at the top level of
 * a test file. Each is also available as plain async checks (`embedderConformanceChecks`, ...)
 * that throw on failure, to run with {@link runConformanceChecks} under any runner.
 *
 * @example
 * ```ts
 * // packages/local/test/hashing-embedder.test.ts
 * import { testEmbedder } from '@aidoc/core/testing';
 * import { createHashingEmbedder } from '../src/hashing-embedder.ts';
 *
 * testEmbedder({ name: 'hashing', create: () => createHashingEmbedder() });
 * ```
 *
 * @example
 * ```ts
 * // A pipeline test: slow, flaky upstreams, then assert nothing is left in flight.
 * const embedder = createMockEmbedder({ latency: { fixedMs: 40, perItemMs: 1 }, faults: { rateLimitRate: 0.1, retryAfterMs: 50, random: seededRandom(7) } });
 * const store = createMockVectorStore({ latency: { fixedMs: 10, jitterMs: 10 } });
 * await ingest({ embedder, store });
 * expect(embedder.pending + store.pending).toBe(0);
 * expect(embedder.maxPending).toBeLessThanOrEqual(4);
 * ```
 *
 * @packageDocumentation
 */

// Conformance suites (vitest) and their checks as plain functions
export { testEmbedder, embedderConformanceChecks, type EmbedderConformanceOptions } from './test-embedder.ts';
export {
  testVectorStore,
  vectorStoreConformanceChecks,
  CONFORMANCE_POINTS,
  type VectorStoreCleanupContext,
  type VectorStoreConformanceOptions,
} from './test-vector-store.ts';
export {
  testPatientRepository,
  patientRepositoryConformanceChecks,
  MALFORMED_PATIENT_IDS,
  type PatientRepositoryConformanceOptions,
} from './test-patient-repository.ts';
export { testChatModel, chatModelConformanceChecks, CONFORMANCE_TOOLS, type ChatModelConformanceOptions } from './test-chat-model.ts';
export {
  runConformanceChecks,
  type ConformanceCheck,
  type ConformanceFailure,
  type ConformanceFaultFixtures,
  type ConformanceOptions,
  type ConformanceRunControl,
} from './conformance-check.ts';

// Mocks
export {
  type MockAdapterOptions,
  type MockCall,
  type MockCallOutcome,
  type MockControls,
} from './mock-adapter.ts';
export {
  createMockEmbedder,
  type MockEmbedFunction,
  type MockEmbedInput,
  type MockEmbedValue,
  type MockEmbedder,
  type MockEmbedderCall,
  type MockEmbedderOptions,
  type MockVector,
} from './mock-embedder.ts';
export {
  createMockVectorStore,
  type MockDeleteSelector,
  type MockCollectionSeed,
  type MockVectorStore,
  type MockVectorStoreCall,
  type MockVectorStoreMethod,
  type MockVectorStoreOptions,
} from './mock-vector-store.ts';
export {
  createMockPatientRepository,
  type MockPatientRepository,
  type MockPatientRepositoryCall,
  type MockPatientRepositoryMethod,
  type MockPatientRepositoryOptions,
} from './mock-patient-repository.ts';
export {
  createMockChatModel,
  defaultMockTurn,
  type MockChatModel,
  type MockChatModelCall,
  type MockChatModelOptions,
  type MockGenerateInput,
  type MockTurn,
  type MockTurnFunction,
} from './mock-chat-model.ts';

// Simulation building blocks and fixtures
export type { SimulatedLatency } from './simulated-latency.ts';
export type {
  FaultScript,
  SimulatedCallContext,
  SimulatedFault,
  SimulatedFaultRates,
  SimulatedFaults,
} from './simulated-faults.ts';
export { seededRandom } from './seeded-random.ts';
export { hashEmbedding } from './hash-embedding.ts';
export { cosineSimilarity } from './cosine-similarity.ts';
export { examplePatientRecord } from './example-patient-record.ts';

// Fixtures for briefing tests and benchmarks
export {
  EXAMPLE_GUIDELINE_PASSAGES,
  SCRIPTED_BRIEFING_EVENT_TYPES,
  createGuidelineVectorStore,
  exampleBriefing,
  exampleGuidelinePoints,
  scriptedBriefingTurns,
  searchCall,
  submitCall,
} from './briefing-fixtures.ts';

// Assertion helpers
export { rejectionOf } from './rejection-of.ts';
