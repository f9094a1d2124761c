import Anthropic from '@anthropic-ai/sdk';
import { AidocError } from '@aidoc/core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAnthropicModel, type AnthropicModelSettings } from '../src/index.ts';
import { startAnthropicLoopbackServer, type AnthropicLoopbackServer } from '@aidoc/loopback-servers';
import { API_KEY, modelOn, requestOf } from './support/anthropic-fixtures.ts';

let server: AnthropicLoopbackServer;
beforeAll(async () => {
  server = await startAnthropicLoopbackServer({ apiKey: API_KEY });
});
afterAll(() => server.close());
afterEach(() => {
  vi.unstubAllEnvs();
  server.reset();
});

describe('settings', () => {
  it('without apiKey and ANTHROPIC_API_KEY: INVALID_INPUT naming the option and the variable', () => {
    vi.stubEnv('ANTHROPIC_API_KEY', '');
    let thrown: unknown;
    try {
      createAnthropicModel({ baseURL: server.url });
    } catch (error) {
      thrown = error;
    }
    expect(AidocError.hasCode(thrown, 'INVALID_INPUT')).toBe(true);
    expect((thrown as Error).message).toMatch(/`apiKey`.*ANTHROPIC_API_KEY/);
  });

  it('reads the key from ANTHROPIC_API_KEY', async () => {
    vi.stubEnv('ANTHROPIC_API_KEY', API_KEY);
    await createAnthropicModel({ baseURL: server.url }).generate(requestOf('hello'));
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${API_KEY}`);
  });

  const invalid: [string, AnthropicModelSettings, RegExp][] = [
    ['an empty model', { model: '' }, /Expected `model` to be a non-empty string/],
    ['an empty apiKey', { apiKey: '' }, /Expected `apiKey` to be a non-empty string/],
    ['a relative baseURL', { baseURL: '/v1' }, /Expected `baseURL` to be an absolute URL/],
    ['a negative timeoutMs', { timeoutMs: -1 }, /Expected `timeoutMs` to be a positive integer/],
    ['a fractional maxTokens', { maxTokens: 1.5 }, /Expected `maxTokens` to be a positive integer, got `1.5` \(number\)/],
    ['a string promptCaching', { promptCaching: 'yes' as never }, /Expected `promptCaching` to be a boolean/],
    ['a numeric stream', { stream: 1 as never }, /Expected `stream` to be a boolean/],
    ['a client that is not one', { client: {} as never }, /Expected `client` to be an Anthropic client/],
  ];
  for (const [what, settings, message] of invalid) {
    it(`rejects ${what} with a TypeError naming the option`, () => {
      expect(() => createAnthropicModel({ apiKey: API_KEY, ...settings })).toThrow(TypeError);
      expect(() => createAnthropicModel({ apiKey: API_KEY, ...settings })).toThrow(message);
    });
  }

  it('refuses apiKey or baseURL next to a client, without echoing the key', () => {
    const client = new Anthropic({ apiKey: API_KEY, baseURL: server.url });
    expect(() => createAnthropicModel({ client, apiKey: 'secret-key-123' })).toThrow(/`apiKey` to be undefined when `client` is given/);
    expect(() => createAnthropicModel({ client, apiKey: 'secret-key-123' })).not.toThrow(/secret-key-123/);
    expect(() => createAnthropicModel({ client, baseURL: server.url })).toThrow(/`baseURL` to be undefined/);
  });

  it('uses an injected client, and needs no key for it', async () => {
    vi.stubEnv('ANTHROPIC_API_KEY', '');
    const client = new Anthropic({ apiKey: API_KEY, baseURL: server.url, defaultHeaders: { 'x-app': 'aidoc-test' } });
    await createAnthropicModel({ client }).generate(requestOf('hello'));
    expect(server.requests[0]!.headers['x-app']).toBe('aidoc-test');
  });

  it('reuses keep-alive connections across calls (one client, built once)', async () => {
    const model = modelOn(server);
    for (let turn = 0; turn < 6; turn++) await model.generate(requestOf(`turn ${turn}`, { onTextDelta: turn % 2 === 0 ? undefined : () => undefined }));
    expect(server.requests).toHaveLength(6);
    // Sequential calls: a connection is back in the pool, or about to be, when the next starts.
    expect(new Set(server.requests.map((request) => request.connectionId)).size).toBeLessThanOrEqual(2);
  });
});
