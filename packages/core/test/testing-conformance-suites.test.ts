// The suites as an adapter package runs them, each against its mock with every fault fixture,
// so every check executes for real. testing-conformance-failures.test.ts shows they can fail.
import { expect, it } from 'vitest';
import {
  createMockChatModel,
  createMockEmbedder,
  createMockPatientRepository,
  createMockVectorStore,
  examplePatientRecord,
  testChatModel,
  testEmbedder,
  testPatientRepository,
  testVectorStore,
  type MockControls,
} from '../src/testing/index.ts';

const upstreamCalls = (mock: MockControls<{ readonly reachedUpstream: boolean }>): number => mock.calls.filter((call) => call.reachedUpstream).length;

testEmbedder({
  name: 'mock embedder',
  create: () => createMockEmbedder({ dimensions: 12, maxBatchSize: 32, maxTokensPerBatch: 2_000, latency: { fixedMs: 1, jitterMs: 2 } }),
  upstreamCalls,
  faults: {
    rateLimited: { create: () => createMockEmbedder({ faults: { rateLimitRate: 1, retryAfterMs: 1_500 } }), retryAfterMs: 1_500 },
    unavailable: () => createMockEmbedder({ faults: { unavailableRate: 1 } }),
    hanging: () => createMockEmbedder({ faults: { hangRate: 1 } }),
  },
  additionalTests: () => {
    it('runs the caller’s additional tests inside the suite', () => {
      expect(createMockEmbedder().dimensions).toBe(16);
    });
  },
});

testVectorStore({
  name: 'mock vector store',
  create: () => createMockVectorStore({ latency: { fixedMs: 1 } }),
  upstreamCalls,
  faults: {
    rateLimited: { create: () => createMockVectorStore({ faults: { rateLimitRate: 1, retryAfterMs: 250 } }), retryAfterMs: 250 },
    unavailable: () => createMockVectorStore({ faults: { unavailableRate: 1 } }),
    hanging: () => createMockVectorStore({ faults: { hangRate: 1 } }),
  },
});

testVectorStore({ name: 'mock vector store without queryBatch', create: () => createMockVectorStore({ supportsQueryBatch: false }) });

testPatientRepository({
  name: 'mock patient repository',
  create: () => createMockPatientRepository({ records: [examplePatientRecord('1'), examplePatientRecord('42')], latency: { fixedMs: 1 } }),
  knownId: '42',
  expected: examplePatientRecord('42'),
  upstreamCalls,
  faults: {
    rateLimited: { create: () => createMockPatientRepository({ faults: { rateLimitRate: 1 } }), retryAfterMs: undefined },
    unavailable: () => createMockPatientRepository({ faults: { unavailableRate: 1 } }),
    hanging: () => createMockPatientRepository({ faults: { hangRate: 1 } }),
  },
});

testChatModel({
  name: 'mock chat model',
  create: () => createMockChatModel({ latency: { fixedMs: 1, perItemMs: 0.1 } }),
  upstreamCalls,
  faults: {
    rateLimited: { create: () => createMockChatModel({ faults: { rateLimitRate: 1, retryAfterMs: 30_000 } }), retryAfterMs: 30_000 },
    unavailable: () => createMockChatModel({ faults: { unavailableRate: 1 } }),
    hanging: () => createMockChatModel({ faults: { hangRate: 1 } }),
  },
});
