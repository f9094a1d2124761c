import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAnthropicLoopbackServer, type AnthropicLoopbackServer } from '@aidoc/loopback-servers';

// The loopback server's own behaviour, over raw HTTP (no SDK), so the adapter tests rest on a
// server that really speaks the protocol and really rejects what the Messages API rejects.

const KEY = 'raw-test-key';
let server: AnthropicLoopbackServer;
beforeAll(async () => {
  server = await startAnthropicLoopbackServer({ apiKey: KEY });
});
afterAll(() => server.close());
beforeEach(() => {
  server.reset();
  server.setResponder(() => ({ content: [{ type: 'text', text: 'hello back' }] }));
});

const TOOL = { name: 'search_guidelines', description: 'Search.', input_schema: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] } };

function post(body: unknown, headers: Record<string, string> = {}, path = '/v1/messages') {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': KEY, ...headers },
    body: JSON.stringify(body),
  });
}

// Asymmetric matchers are typed `any`; held as `unknown` they lint clean inside object literals.
const anyNumber: unknown = expect.any(Number);
const anyString: unknown = expect.any(String);

const minimal = { model: 'claude-sonnet-5-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] };

async function errorOf(response: Response): Promise<{ status: number; type: string; message: string }> {
  const body = (await response.json()) as { type: string; error: { type: string; message: string } };
  expect(body.type).toBe('error');
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  return { status: response.status, type: body.error.type, message: body.error.message };
}

describe('Anthropic loopback server', () => {
  it('answers JSON with content-type application/json and the Message shape', async () => {
    const response = await post(minimal);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toMatchObject({
      id: anyString,
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-5-5',
      content: [{ type: 'text', text: 'hello back' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: anyNumber, output_tokens: anyNumber },
    });
  });

  it('streams SSE frames in the Messages API order', async () => {
    server.setResponder(() => ({ content: [{ type: 'text', text: 'one two three' }, { type: 'tool_use', name: 'search_guidelines', input: { query: 'x' } }] }));
    const response = await post({ ...minimal, tools: [TOOL], stream: true });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await response.text();
    const frames = text.trim().split('\n\n').map((frame) => {
      const [eventLine, dataLine] = frame.split('\n');
      return { event: eventLine!.replace('event: ', ''), data: JSON.parse(dataLine!.replace('data: ', '')) as { type: string; delta?: { type: string } } };
    });
    for (const frame of frames) expect(frame.data.type).toBe(frame.event);
    const names = frames.map((frame) => (frame.event === 'content_block_delta' ? `delta:${frame.data.delta!.type}` : frame.event));
    expect(names[0]).toBe('message_start');
    expect(names).toContain('ping');
    expect(names.slice(-2)).toEqual(['message_delta', 'message_stop']);
    const body = names.filter((name) => name !== 'ping').slice(1, -2);
    expect(body[0]).toBe('content_block_start');
    expect(body.filter((name) => name === 'delta:text_delta').length).toBeGreaterThan(1);
    expect(body).toContain('delta:input_json_delta');
    expect(body.filter((name) => name === 'content_block_stop')).toHaveLength(2);
    expect(frames.at(-2)!.data).toMatchObject({ delta: { stop_reason: 'tool_use' }, usage: { output_tokens: anyNumber } });
  });

  const invalid: [string, unknown, RegExp][] = [
    ['a missing model', { ...minimal, model: undefined }, /^model/],
    ['a missing max_tokens', { ...minimal, max_tokens: undefined }, /^max_tokens/],
    ['an unknown field', { ...minimal, tool_choise: { type: 'auto' } }, /tool_choise: Extra inputs/],
    ['roles that do not alternate', { ...minimal, messages: [{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }] }, /messages\.1\.role/],
    ['a first message from the assistant', { ...minimal, messages: [{ role: 'assistant', content: 'a' }] }, /messages\.0\.role/],
    ['an empty text block', { ...minimal, messages: [{ role: 'user', content: [{ type: 'text', text: ' ' }] }] }, /non-whitespace/],
    [
      'a tool_use not answered in the next message',
      {
        ...minimal,
        tools: [TOOL],
        messages: [
          { role: 'user', content: 'a' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'search_guidelines', input: {} }] },
          { role: 'user', content: 'no results here' },
        ],
      },
      /messages\.2: tool_use ids were found without tool_result/,
    ],
    [
      'a tool_result for an unknown id',
      {
        ...minimal,
        tools: [TOOL],
        messages: [
          { role: 'user', content: 'a' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'search_guidelines', input: {} }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't2', content: 'x' }] },
        ],
      },
      /messages\.2\.content\.0\.tool_use_id/,
    ],
    [
      'a tool_result after text',
      {
        ...minimal,
        tools: [TOOL],
        messages: [
          { role: 'user', content: 'a' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'search_guidelines', input: {} }] },
          { role: 'user', content: [{ type: 'text', text: 'x' }, { type: 'tool_result', tool_use_id: 't1', content: 'x' }] },
        ],
      },
      /must come first/,
    ],
    [
      'a tool_use of a tool not in tools',
      {
        ...minimal,
        tools: [TOOL],
        messages: [
          { role: 'user', content: 'a' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'delete_patient', input: {} }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'x' }] },
        ],
      },
      /messages\.1\.content\.0\.name/,
    ],
    ['a forced tool not in tools', { ...minimal, tools: [TOOL], tool_choice: { type: 'tool', name: 'other' } }, /tool_choice\.name/],
    ['tool_choice any without tools', { ...minimal, tool_choice: { type: 'any' } }, /requires tools/],
    ['a tool schema that is not an object schema', { ...minimal, tools: [{ ...TOOL, input_schema: { type: 'string' } }] }, /input_schema\.type/],
    [
      'five cache breakpoints',
      { ...minimal, system: Array.from({ length: 5 }, (_, index) => ({ type: 'text', text: `s${index}`, cache_control: { type: 'ephemeral' } })) },
      /maximum of 4 blocks with cache_control/,
    ],
  ];
  for (const [what, body, message] of invalid) {
    it(`rejects ${what} with 400 invalid_request_error`, async () => {
      const error = await errorOf(await post(body));
      expect(error).toMatchObject({ status: 400, type: 'invalid_request_error' });
      expect(error.message).toMatch(message);
      expect(server.messageRequests).toHaveLength(0);
    });
  }

  it('never quotes request content in a validation message', async () => {
    const error = await errorOf(await post({ ...minimal, messages: [{ role: 'user', content: 'SECRET-PATIENT' }, { role: 'user', content: 'SECRET-PATIENT' }] }));
    expect(error.message).not.toContain('SECRET');
  });

  it('checks the API key (x-api-key or Authorization: Bearer) and anthropic-version, and answers 404 elsewhere', async () => {
    expect(await errorOf(await post(minimal, { 'x-api-key': 'wrong' }))).toMatchObject({ status: 401, type: 'authentication_error' });
    expect((await post(minimal, { 'x-api-key': '', authorization: `Bearer ${KEY}` })).status).toBe(200);
    expect(await errorOf(await post(minimal, { 'anthropic-version': '' }))).toMatchObject({ status: 400 });
    expect(await errorOf(await post(minimal, {}, '/v1/complete'))).toMatchObject({ status: 404, type: 'not_found_error' });
  });

  it('answers a script in order, then 500', async () => {
    server.setResponder([{ content: [{ type: 'text', text: 'first' }] }, { content: [{ type: 'text', text: 'second' }], stop_reason: 'max_tokens' }]);
    expect(await (await post(minimal)).json()).toMatchObject({ content: [{ text: 'first' }], stop_reason: 'end_turn' });
    expect(await (await post(minimal)).json()).toMatchObject({ content: [{ text: 'second' }], stop_reason: 'max_tokens' });
    expect(await errorOf(await post(minimal))).toMatchObject({ status: 500, type: 'api_error' });
  });

  it('by default calls the forced tool with an input from its schema, else echoes', async () => {
    const defaults = await startAnthropicLoopbackServer();
    try {
      const call = async (body: unknown) => (await fetch(`${defaults.url}/v1/messages`, { method: 'POST', headers: { 'anthropic-version': 'x' }, body: JSON.stringify(body) })).json();
      expect(await call({ ...minimal, tools: [TOOL], tool_choice: { type: 'tool', name: 'search_guidelines' } })).toMatchObject({
        content: [{ type: 'tool_use', name: 'search_guidelines', input: { query: anyString } }],
        stop_reason: 'tool_use',
      });
      expect(await call(minimal)).toMatchObject({ content: [{ type: 'text', text: 'Loopback reply to: hi' }], stop_reason: 'end_turn' });
    } finally {
      await defaults.close();
    }
  });

  it('simulates prompt caching from cache_control breakpoints', async () => {
    const system = [{ type: 'text', text: 'x'.repeat(4000), cache_control: { type: 'ephemeral' } }];
    const usage = async () => ((await (await post({ ...minimal, system })).json()) as { usage: Record<string, number> }).usage;
    const first = await usage();
    const second = await usage();
    expect(first.cache_creation_input_tokens).toBeGreaterThan(900);
    expect(first.cache_read_input_tokens).toBe(0);
    expect(second.cache_read_input_tokens).toBe(first.cache_creation_input_tokens);
    expect(second.cache_creation_input_tokens).toBe(0);
  });

  it('applies a fault only `times` times, and records requests with their fault and connection', async () => {
    server.setFault({ type: 'overloaded', times: 1 });
    try {
      expect((await post(minimal)).status).toBe(529);
      expect((await post(minimal)).status).toBe(200);
    } finally {
      server.setFault(undefined);
    }
    expect(server.requests.map((request) => [request.fault, request.status])).toEqual([
      ['overloaded', 529],
      [undefined, 200],
    ]);
  });

  it('a hanging request notices the client going away', async () => {
    const controller = new AbortController();
    const call = fetch(`${server.urlWithFault({ type: 'hang' })}/v1/messages`, {
      method: 'POST',
      headers: { 'anthropic-version': 'x', 'x-api-key': KEY },
      body: JSON.stringify(minimal),
      signal: controller.signal,
    });
    await expect.poll(() => server.requests.length).toBe(1);
    controller.abort();
    await expect(call).rejects.toThrow();
    await server.requests[0]!.settled;
    expect(server.requests[0]).toMatchObject({ clientDisconnected: true, status: undefined, fault: 'hang' });
  });
});
