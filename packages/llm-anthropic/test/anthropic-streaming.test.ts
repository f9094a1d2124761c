import { getEventListeners } from 'node:events';
import { AidocError, withTimeout } from '@aidoc/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAnthropicLoopbackServer, type AnthropicLoopbackServer } from '@aidoc/loopback-servers';
import { API_KEY, TOOLS, modelOn, rejectionOf, requestOf } from './support/anthropic-fixtures.ts';

let server: AnthropicLoopbackServer;
beforeAll(async () => {
  server = await startAnthropicLoopbackServer({ apiKey: API_KEY });
});
afterAll(() => server.close());
beforeEach(() => {
  server.reset();
  server.setFault(undefined);
});

const LONG_TEXT = 'Metformin needs a dose review when eGFR falls below 45; stop it below 30. Recheck in three months.';

describe('streaming', () => {
  it('forwards text deltas in order, as they arrive, and they add up to the result text', async () => {
    const slow = await startAnthropicLoopbackServer({ apiKey: API_KEY, eventDelayMs: 15, respond: () => ({ content: [{ type: 'text', text: LONG_TEXT }, { type: 'text', text: ' Second block.' }] }) });
    try {
      const deltas: string[] = [];
      let settled = false;
      const call = modelOn(slow).generate(requestOf('hello', { onTextDelta: (text) => deltas.push(text) }));
      void call.finally(() => (settled = true));
      await expect.poll(() => deltas.length, { timeout: 2_000, interval: 5 }).toBeGreaterThan(0);
      expect(settled).toBe(false); // the first delta arrived while the turn was still streaming
      const result = await call;
      expect(deltas.length).toBeGreaterThan(4);
      expect(deltas.join('')).toBe(`${LONG_TEXT} Second block.`);
      expect(result.content).toEqual([
        { type: 'text', text: LONG_TEXT },
        { type: 'text', text: ' Second block.' },
      ]);
      expect(slow.requests[0]!.stream).toBe(true);
    } finally {
      await slow.close();
    }
  });

  it('assembles tool input from partial JSON pieces (split mid-token), and an empty input from none', async () => {
    const input = { query: 'ACE inhibitor "sick day" rules — ÄÖ ✓', limit: 7, nested: { list: [1, 2.5, null, true], text: 'a}b{c' } };
    server.setResponder([
      {
        content: [
          { type: 'tool_use', id: 'toolu_x', name: 'search_guidelines', input },
          { type: 'tool_use', id: 'toolu_y', name: 'submit_briefing', input: {} },
        ],
      },
    ]);
    const deltas: string[] = [];
    const result = await modelOn(server).generate(requestOf('Brief me.', { tools: TOOLS, onTextDelta: (text) => deltas.push(text) }));
    expect(result.content).toEqual([
      { type: 'tool_call', id: 'toolu_x', name: 'search_guidelines', input },
      { type: 'tool_call', id: 'toolu_y', name: 'submit_briefing', input: {} },
    ]);
    expect(deltas).toEqual([]);
  });

  it('streams when onTextDelta is given, or when maxTokens is too large for a non-streaming call; `stream` overrides', async () => {
    server.setResponder(() => ({ content: [{ type: 'text', text: 'ok' }] }));
    const onTextDelta = (): void => undefined;
    await modelOn(server).generate(requestOf('a'));
    await modelOn(server).generate(requestOf('b', { onTextDelta }));
    await modelOn(server).generate(requestOf('c', { maxTokens: 64_000 }));
    await modelOn(server, { stream: false }).generate(requestOf('d', { onTextDelta }));
    await modelOn(server, { stream: true }).generate(requestOf('e'));
    expect(server.requests.map((request) => request.stream)).toEqual([false, true, true, false, true]);
  });

  it('an abort mid-stream rejects ABORTED promptly and closes the connection the server was streaming on', async () => {
    const slow = await startAnthropicLoopbackServer({ apiKey: API_KEY, eventDelayMs: 40, respond: () => ({ content: [{ type: 'text', text: LONG_TEXT }] }) });
    try {
      const controller = new AbortController();
      const deltas: string[] = [];
      const call = modelOn(slow).generate(requestOf('hello', { signal: controller.signal, onTextDelta: (text) => deltas.push(text) }));
      await expect.poll(() => deltas.length, { timeout: 2_000, interval: 5 }).toBeGreaterThan(0);
      const abortedAt = performance.now();
      controller.abort();
      const error = await rejectionOf(call);
      expect(performance.now() - abortedAt).toBeLessThan(200);
      expect(AidocError.hasCode(error, 'ABORTED')).toBe(true);
      expect((error as AidocError).retryable).toBe(false);
      const record = slow.requests[0]!;
      await record.settled;
      expect(record.clientDisconnected).toBe(true);
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    } finally {
      await slow.close();
    }
  });

  it("keeps core's TIMEOUT when core's deadline aborts the call", async () => {
    const hanging = modelOn(server, {}, server.urlWithFault({ type: 'hang' }));
    const error = await rejectionOf(withTimeout((signal) => hanging.generate(requestOf('hello', { signal, onTextDelta: () => undefined })), 60, { name: 'model.generate' }));
    expect(AidocError.hasCode(error, 'TIMEOUT')).toBe(true);
    await server.requests[0]!.settled;
    expect(server.requests[0]!.clientDisconnected).toBe(true);
  });

  it('a throwing onTextDelta fails the call and cancels the stream', async () => {
    const slow = await startAnthropicLoopbackServer({ apiKey: API_KEY, eventDelayMs: 20, respond: () => ({ content: [{ type: 'text', text: LONG_TEXT }] }) });
    try {
      const error = await rejectionOf(
        modelOn(slow).generate(
          requestOf('hello', {
            onTextDelta: () => {
              throw new Error('render failed');
            },
          }),
        ),
      );
      expect(AidocError.isInstance(error)).toBe(true);
      await slow.requests[0]!.settled;
      expect(slow.requests[0]!.clientDisconnected).toBe(true);
    } finally {
      await slow.close();
    }
  });
});
