import { AidocError, type StopReason } from '@aidoc/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAnthropicLoopbackServer, type AnthropicLoopbackReply, type AnthropicLoopbackServer } from '@aidoc/loopback-servers';
import { API_KEY, TOOLS, modelOn, rejectionOf, requestOf, user } from './support/anthropic-fixtures.ts';

let server: AnthropicLoopbackServer;
beforeAll(async () => {
  server = await startAnthropicLoopbackServer({ apiKey: API_KEY });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const parallelSearches: AnthropicLoopbackReply = {
  content: [
    { type: 'thinking', thinking: 'The patient takes metformin; eGFR is low.', signature: 'sig-1' },
    { type: 'text', text: 'Searching the guidelines.' },
    { type: 'tool_use', id: 'toolu_a', name: 'search_guidelines', input: { query: 'metformin and eGFR', limit: 3 } },
    { type: 'redacted_thinking', data: 'opaque' },
    { type: 'tool_use', id: 'toolu_b', name: 'search_guidelines', input: { query: 'HbA1c target', filters: { year: [2024, 2025] } } },
  ],
};

for (const stream of [false, true]) {
  describe(`response mapping (${stream ? 'streaming' : 'JSON'})`, () => {
    it('turns parallel tool_use blocks into tool_call blocks in order, skipping thinking blocks', async () => {
      server.setResponder([parallelSearches]);
      const result = await modelOn(server, { stream }).generate(requestOf('Brief me.', { tools: TOOLS }));
      expect(result.content).toEqual([
        { type: 'text', text: 'Searching the guidelines.' },
        { type: 'tool_call', id: 'toolu_a', name: 'search_guidelines', input: { query: 'metformin and eGFR', limit: 3 } },
        { type: 'tool_call', id: 'toolu_b', name: 'search_guidelines', input: { query: 'HbA1c target', filters: { year: [2024, 2025] } } },
      ]);
      expect(result.stopReason).toBe('tool_use');
      expect(server.requests[0]!.stream).toBe(stream);
    });

    const stopReasons: [AnthropicLoopbackReply['stop_reason'], StopReason][] = [
      ['end_turn', 'end_turn'],
      ['tool_use', 'tool_use'],
      ['max_tokens', 'max_tokens'],
      ['stop_sequence', 'stop_sequence'],
      ['pause_turn', 'pause_turn'],
      ['refusal', 'refusal'],
      ['model_context_window_exceeded', 'context_window_exceeded'],
    ];
    it('maps every stop reason', async () => {
      server.setResponder(stopReasons.map(([wire]) => ({ content: [{ type: 'text', text: 'partial' }], stop_reason: wire })));
      const model = modelOn(server, { stream });
      const seen: StopReason[] = [];
      for (let index = 0; index < stopReasons.length; index++) seen.push((await model.generate(requestOf(`turn ${index}`))).stopReason);
      expect(seen).toEqual(stopReasons.map(([, mapped]) => mapped));
    });

    it('rejects an unknown stop reason INVALID_OUTPUT', async () => {
      server.setResponder([{ content: [{ type: 'text', text: 'x' }], stop_reason: 'compaction' as never }]);
      const error = await rejectionOf(modelOn(server, { stream }).generate(requestOf('hello')));
      expect(AidocError.hasCode(error, 'INVALID_OUTPUT')).toBe(true);
    });

    it('reports usage with the prompt-cache counters and the model that answered', async () => {
      server.setResponder([
        {
          content: [{ type: 'text', text: 'ok' }],
          model: 'claude-sonnet-5-5-20261001',
          usage: { input_tokens: 12, output_tokens: 34, cache_read_input_tokens: 1500, cache_creation_input_tokens: 250 },
        },
      ]);
      const result = await modelOn(server, { stream }).generate(requestOf('hello'));
      expect(result.usage).toEqual({ inputTokens: 12, outputTokens: 34, cacheReadInputTokens: 1500, cacheCreationInputTokens: 250 });
      expect(result.model).toBe('claude-sonnet-5-5-20261001');
    });

    it('places breakpoints so the next turn reads tools and system from the cache', async () => {
      server.setResponder(() => ({ content: [{ type: 'text', text: 'ok' }] }));
      const model = modelOn(server, { stream });
      const system = 'A long, stable system prompt. '.repeat(40);
      const first = await model.generate(requestOf('first question', { system, tools: TOOLS }));
      const second = await model.generate({
        system,
        tools: TOOLS,
        messages: [user('first question'), { role: 'assistant', content: [{ type: 'text', text: 'ok' }] }, user('second question')],
      });
      expect(first.usage.cacheCreationInputTokens).toBeGreaterThan(0);
      expect(first.usage.cacheReadInputTokens).toBe(0);
      expect(second.usage.cacheReadInputTokens).toBe(first.usage.cacheCreationInputTokens);
      expect(second.usage.inputTokens).toBeLessThan(first.usage.cacheCreationInputTokens!);

      const uncached = modelOn(server, { stream, promptCaching: false });
      const third = await uncached.generate(requestOf('first question', { system, tools: TOOLS }));
      expect(third.usage).toMatchObject({ cacheReadInputTokens: 0, cacheCreationInputTokens: 0 });
    });
  });
}
