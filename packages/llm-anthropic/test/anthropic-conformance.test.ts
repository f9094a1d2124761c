import { testChatModel } from '@aidoc/core/testing';
import { afterAll, beforeAll } from 'vitest';
import { createAnthropicModel } from '../src/index.ts';
import { startAnthropicLoopbackServer, type AnthropicLoopbackServer } from '@aidoc/loopback-servers';

const API_KEY = 'loopback-test-key';
let server: AnthropicLoopbackServer;
// Fault URLs live on the same server; each is registered once, after the server starts.
let rateLimitedURL: string;
let unavailableURL: string;
let hangingURL: string;

beforeAll(async () => {
  server = await startAnthropicLoopbackServer({ apiKey: API_KEY });
  rateLimitedURL = server.urlWithFault({ type: 'rate_limited', retryAfterMs: 1500, retryAfterSeconds: 2 });
  unavailableURL = server.urlWithFault({ type: 'server_error', status: 503 });
  hangingURL = server.urlWithFault({ type: 'hang' });
});
afterAll(() => server.close());

for (const stream of [false, true]) {
  const create = (baseURL: () => string) => () => createAnthropicModel({ apiKey: API_KEY, baseURL: baseURL(), stream });
  testChatModel({
    name: `anthropic over the loopback Messages API (${stream ? 'SSE streaming' : 'JSON'})`,
    create: create(() => server.url),
    upstreamCalls: () => server.requests.length,
    faults: {
      rateLimited: { create: create(() => rateLimitedURL), retryAfterMs: 1500 },
      unavailable: create(() => unavailableURL),
      hanging: create(() => hangingURL),
    },
  });
}
