import { testVectorStore } from '@aidoc/core/testing';
import { QdrantClient } from '@qdrant/js-client-rest';
import { afterAll, describe, expect, it } from 'vitest';
import { startQdrantLoopbackServer } from '@aidoc/loopback-servers';
import { createQdrantVectorStore } from '../src/index.ts';

// The real adapter and the real SDK over real HTTP, against the Qdrant-protocol loopback server
// (which checks every request and answer against Qdrant's OpenAPI description).
const server = await startQdrantLoopbackServer();
const rateLimited = await startQdrantLoopbackServer({ faults: { always: { status: 429, retryAfterSeconds: 2, error: 'Rate limiting exceeded: retry later' } } });
const unavailable = await startQdrantLoopbackServer({ faults: { always: { status: 503, error: 'Service Unavailable' } } });
const hanging = await startQdrantLoopbackServer({ faults: { always: { hang: true } } });
const servers = [server, rateLimited, unavailable, hanging];
const admin = new QdrantClient({ url: server.url, checkCompatibility: false });

afterAll(async () => {
  // `close()` rejects when any answer failed the spec check.
  await Promise.all(servers.map((running) => running.close()));
});

const storeFor = (url: string) => () => createQdrantVectorStore({ url, checkCompatibility: false });

testVectorStore({
  name: 'qdrant (loopback server)',
  create: storeFor(server.url),
  cleanup: async (_store, { collections }) => {
    for (const name of collections) await admin.deleteCollection(name);
  },
  upstreamCalls: () => server.requests.length,
  faults: {
    rateLimited: { create: storeFor(rateLimited.url), retryAfterMs: 2000 },
    unavailable: storeFor(unavailable.url),
    hanging: storeFor(hanging.url),
  },
});

describe('the loopback server during the conformance suite', () => {
  it('checked every answer it sent against the OpenAPI description, and none failed', () => {
    const answered = servers.flatMap((running) => running.requests).filter((request) => request.status !== undefined);
    expect(answered.length).toBeGreaterThan(100);
    expect(answered.filter((request) => !request.responseChecked)).toEqual([]);
    for (const running of servers) expect(running.specViolations).toEqual([]);
  });

  it('found every request the adapter sent valid per the OpenAPI description (fault answers included)', () => {
    const requests = servers.flatMap((running) => running.requests);
    expect(requests.filter((request) => request.requestErrors.length > 0)).toEqual([]);
    expect(requests.filter((request) => request.operationId === undefined)).toEqual([]);
  });

  it('saw the aborted mid-call requests close on its side', () => {
    expect(hanging.requests.length).toBeGreaterThan(0);
    expect(hanging.requests.filter((request) => request.closedByClient).length).toBeGreaterThan(0);
  });

  it('used the Universal Query API and one batch request per queryBatch', () => {
    const operations = new Set(server.requests.map((request) => request.operationId));
    for (const operation of ['query_points', 'query_batch_points', 'scroll_points', 'upsert_points', 'delete_points', 'create_collection', 'create_field_index', 'get_collection']) {
      expect(operations).toContain(operation);
    }
    expect(server.requests.filter((request) => request.path.endsWith('/points/search'))).toEqual([]);
  });
});
