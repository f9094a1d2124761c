import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChatMessage, GenerateRequest } from '../src/contracts/chat-model.ts';
import { createMockChatModel } from '../src/testing/index.ts';

const question: ChatMessage = { role: 'user', content: [{ type: 'text', text: 'Brief me on patient 1' }] };
const request = (messages: readonly ChatMessage[] = [question], extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
  system: 'You are a clinical assistant.',
  messages,
  tools: [{ name: 'search_guidelines', description: 'search', inputSchema: { type: 'object' } }],
  ...extra,
});

describe('createMockChatModel', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('plays scripted turns in order, completing stop reason, usage and model', async () => {
    const model = createMockChatModel({
      turns: [
        { content: [{ type: 'tool_call', id: 'c1', name: 'search_guidelines', input: { query: 'metformin' } }] },
        { content: [{ type: 'text', text: 'Done.' }], usage: { inputTokens: 10, outputTokens: 2 }, model: 'claude-test' },
      ],
    });
    const first = await model.generate(request());
    expect(first).toMatchObject({ stopReason: 'tool_use', model: 'mock-chat', content: [{ type: 'tool_call', id: 'c1' }] });
    expect(first.usage.inputTokens).toBeGreaterThan(0);
    expect(first.usage.outputTokens).toBeGreaterThan(0);
    const followUp = request([
      question,
      { role: 'assistant', content: first.content },
      { role: 'user', content: [{ type: 'tool_result', toolCallId: 'c1', content: '<source id="S1">...</source>' }] },
    ]);
    expect(await model.generate(followUp)).toEqual({ content: [{ type: 'text', text: 'Done.' }], stopReason: 'end_turn', usage: { inputTokens: 10, outputTokens: 2 }, model: 'claude-test' });
    await expect(model.generate(followUp)).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('no turn 3 scripted') as string });
    expect(model.requests).toHaveLength(3);
    expect(model.requests[0]).not.toHaveProperty('signal');
  });

  it('does not spend a turn on a failed call, so a retry gets the same turn', async () => {
    const model = createMockChatModel({ turns: (_request, turnIndex) => ({ content: [{ type: 'text', text: `turn ${turnIndex}` }] }) });
    model.failNext('rate-limited');
    await expect(model.generate(request())).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect((await model.generate(request())).content).toEqual([{ type: 'text', text: 'turn 0' }]);
    expect((await model.generate(request())).content).toEqual([{ type: 'text', text: 'turn 1' }]);
  });

  it('streams text blocks through onTextDelta', async () => {
    const deltas: string[] = [];
    const model = createMockChatModel({ turns: [{ content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }] });
    await model.generate(request(undefined, { onTextDelta: (text) => deltas.push(text) }));
    expect(deltas).toEqual(['a', 'b']);
  });

  it('rejects conversations the Messages API rejects, unless strictToolResults is off', async () => {
    const call = { role: 'assistant', content: [{ type: 'tool_call', id: 'c1', name: 'search_guidelines', input: {} }] } as const;
    const unanswered = request([question, call, { role: 'user', content: [{ type: 'text', text: 'and?' }] }]);
    const orphan = request([question, { role: 'user', content: [{ type: 'tool_result', toolCallId: 'zz', content: 'x' }] }]);
    const model = createMockChatModel();
    await expect(model.generate(unanswered)).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('tool call c1 has no tool_result') as string });
    await expect(model.generate(orphan)).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('tool_result zz') as string });
    await expect(model.generate(request([question, call]))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(model.generate(request([call]))).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('first message') as string });
    await expect(model.generate(request(undefined, { toolChoice: { name: 'nope' } }))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(model.calls.every((recorded) => !recorded.reachedUpstream)).toBe(true);
    await expect(createMockChatModel({ strictToolResults: false }).generate(unanswered)).resolves.toMatchObject({ stopReason: 'end_turn' });
  });

  it('applies perItemMs per output token', async () => {
    vi.useFakeTimers();
    const model = createMockChatModel({ turns: [{ content: [{ type: 'text', text: 'x' }], usage: { inputTokens: 1, outputTokens: 50 } }], latency: { fixedMs: 100, perItemMs: 2 } });
    let settled = false;
    const answer = model.generate(request()).then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(199);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await answer;
    expect(settled).toBe(true);
  });

  it('rejects bad options with a TypeError naming them', () => {
    expect(() => createMockChatModel({ turns: 'hi' as never })).toThrow(/`turns`/);
    expect(() => createMockChatModel({ modelId: '' })).toThrow(/`modelId`/);
    expect(() => createMockChatModel({ strictToolResults: 0 as unknown as boolean })).toThrow(/`strictToolResults`/);
  });
});
