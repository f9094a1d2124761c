import type { ToolChoice } from '@aidoc/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_ANTHROPIC_MAX_TOKENS, DEFAULT_ANTHROPIC_MODEL } from '../src/index.ts';
import { startAnthropicLoopbackServer, type AnthropicLoopbackServer } from '@aidoc/loopback-servers';
import { API_KEY, TOOLS, modelOn, requestOf, user } from './support/anthropic-fixtures.ts';

let server: AnthropicLoopbackServer;
beforeAll(async () => {
  server = await startAnthropicLoopbackServer({ apiKey: API_KEY });
});
afterAll(() => server.close());
beforeEach(() => {
  server.reset();
  server.setResponder([{ content: [{ type: 'text', text: 'ok' }] }]);
});

/** The body of the only valid request the server saw. */
function sentBody() {
  expect(server.messageRequests).toHaveLength(1);
  return server.messageRequests[0]!;
}

describe('request mapping (what reaches the Messages API)', () => {
  it('sends the system prompt as a cached text block, and the model and max_tokens', async () => {
    await modelOn(server, { model: 'claude-haiku-5-5' }).generate(requestOf('hello', { system: 'Be terse.', maxTokens: 321 }));
    const body = sentBody();
    expect(body.model).toBe('claude-haiku-5-5');
    expect(body.max_tokens).toBe(321);
    expect(body.system).toEqual([{ type: 'text', text: 'Be terse.', cache_control: { type: 'ephemeral' } }]);
    expect(body.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'hello' }] }]);
    expect(body).not.toHaveProperty('tools');
    expect(body).not.toHaveProperty('tool_choice');
  });

  it('maps tools to name/description/input_schema with cache_control on the last definition only', async () => {
    await modelOn(server).generate(requestOf('hello', { tools: TOOLS, toolChoice: 'auto' }));
    const tools = sentBody().tools!;
    expect(tools).toEqual([
      { name: 'search_guidelines', description: 'Search clinical guidelines.', input_schema: TOOLS[0]!.inputSchema },
      { name: 'submit_briefing', description: 'Submit the briefing.', input_schema: TOOLS[1]!.inputSchema, cache_control: { type: 'ephemeral' } },
    ]);
  });

  it('sends no cache_control anywhere when promptCaching is false', async () => {
    await modelOn(server, { promptCaching: false }).generate(requestOf('hello', { system: 'Be terse.', tools: TOOLS }));
    const body = sentBody();
    expect(JSON.stringify(body)).not.toContain('cache_control');
    expect(body.system).toEqual([{ type: 'text', text: 'Be terse.' }]);
  });

  const choices: [ToolChoice, unknown][] = [
    ['auto', { type: 'auto', disable_parallel_tool_use: false }],
    ['any', { type: 'any', disable_parallel_tool_use: false }],
    ['none', { type: 'none' }],
    [{ name: 'submit_briefing' }, { type: 'tool', name: 'submit_briefing', disable_parallel_tool_use: false }],
  ];
  for (const [choice, expected] of choices) {
    it(`maps toolChoice ${JSON.stringify(choice)} to ${JSON.stringify(expected)}`, async () => {
      await modelOn(server).generate(requestOf('hello', { tools: TOOLS, toolChoice: choice }));
      expect(sentBody().tool_choice).toEqual(expected);
    });
  }

  it('maps tool calls to tool_use and tool results to tool_result, is_error only when set', async () => {
    await modelOn(server).generate(
      requestOf('', {
        tools: TOOLS,
        messages: [
          user('Brief me.'),
          {
            role: 'assistant',
            content: [
              { type: 'text', text: 'Two searches.' },
              { type: 'tool_call', id: 'toolu_1', name: 'search_guidelines', input: { query: 'metformin' } },
              { type: 'tool_call', id: 'toolu_2', name: 'search_guidelines', input: { query: 'eGFR', limit: 2 } },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'tool_result', toolCallId: 'toolu_1', content: '<search_results/>' },
              { type: 'tool_result', toolCallId: 'toolu_2', content: 'Invalid input', isError: true },
            ],
          },
        ],
      }),
    );
    expect(sentBody().messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Brief me.' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Two searches.' },
          { type: 'tool_use', id: 'toolu_1', name: 'search_guidelines', input: { query: 'metformin' } },
          { type: 'tool_use', id: 'toolu_2', name: 'search_guidelines', input: { query: 'eGFR', limit: 2 } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: '<search_results/>' },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: 'Invalid input', is_error: true },
        ],
      },
    ]);
  });

  it('drops empty text blocks and merges the messages that leaves adjacent, tool results first', async () => {
    await modelOn(server).generate(
      requestOf('', {
        tools: TOOLS,
        messages: [
          user('Brief me.'),
          { role: 'assistant', content: [{ type: 'tool_call', id: 'toolu_1', name: 'search_guidelines', input: { query: 'x' } }] },
          { role: 'user', content: [{ type: 'text', text: 'Here you go.' }] },
          { role: 'assistant', content: [{ type: 'text', text: '  ' }] },
          { role: 'user', content: [{ type: 'tool_result', toolCallId: 'toolu_1', content: 'found' }] },
        ],
      }),
    );
    expect(sentBody().messages.at(-1)).toEqual({
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_1', content: 'found' },
        { type: 'text', text: 'Here you go.' },
      ],
    });
  });

  it('takes maxTokens from the request, else the settings, else 4096; the model id defaults to a current Claude', async () => {
    server.setResponder(() => ({ content: [{ type: 'text', text: 'ok' }] }));
    await modelOn(server, { maxTokens: 900 }).generate(requestOf('a'));
    await modelOn(server, { maxTokens: 900 }).generate(requestOf('b', { maxTokens: 50 }));
    const model = modelOn(server);
    await model.generate(requestOf('c'));
    expect(server.messageRequests.map((body) => body.max_tokens)).toEqual([900, 50, DEFAULT_ANTHROPIC_MAX_TOKENS]);
    expect(server.messageRequests[2]!.model).toBe(DEFAULT_ANTHROPIC_MODEL);
    expect(model.modelId).toBe(DEFAULT_ANTHROPIC_MODEL);
    expect(DEFAULT_ANTHROPIC_MODEL).not.toBe('claude-sonnet-4-5'); // deprecated in SDK 1.13 (end of life Nov 2026)
  });

  it('authenticates with the key and sends anthropic-version', async () => {
    await modelOn(server).generate(requestOf('hello'));
    const { headers } = server.requests[0]!;
    expect(headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(headers['anthropic-version']).toEqual(expect.any(String));
  });

  it('declares its capabilities', () => {
    const model = modelOn(server);
    expect(model).toMatchObject({ specificationVersion: 'v1', provider: 'anthropic', supportsParallelToolCalls: true });
  });
});
