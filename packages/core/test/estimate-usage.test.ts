import { describe, expect, it } from 'vitest';
import type { ChatMessage, ToolCallBlock, ToolDefinition } from '../src/contracts/chat-model.ts';
import { estimateTokens } from '../src/contracts/estimate-tokens.ts';
import { estimateBlockTokens, estimateInputTokens } from '../src/contracts/estimate-usage.ts';

const tools: ToolDefinition[] = [{ name: 'search_guidelines', description: 'Search.', inputSchema: { type: 'object', properties: { query: { type: 'string' } } } }];

describe('usage estimates', () => {
  it('estimate a request as its system prompt, its tool definitions and every block', () => {
    const call: ToolCallBlock = { type: 'tool_call', id: 'c1', name: 'search_guidelines', input: { query: 'metformin eGFR' } };
    const messages: ChatMessage[] = [
      { role: 'user', content: [{ type: 'text', text: 'Prepare a briefing.' }] },
      { role: 'assistant', content: [call] },
      { role: 'user', content: [{ type: 'tool_result', toolCallId: 'c1', content: '<search_results query="metformin eGFR"></search_results>' }] },
    ];
    const expected =
      estimateTokens('You brief clinicians.') +
      estimateTokens(JSON.stringify(tools)) +
      estimateTokens('Prepare a briefing.') +
      estimateTokens(`search_guidelines ${JSON.stringify(call.input)}`) +
      estimateTokens('<search_results query="metformin eGFR"></search_results>');
    expect(estimateInputTokens({ system: 'You brief clinicians.', messages, tools })).toBe(expected);
    // Asked again (the next turn), the remembered estimates give the same figure.
    expect(estimateInputTokens({ system: 'You brief clinicians.', messages, tools })).toBe(expected);
  });

  it('estimate a reused block afresh when its text or tool input changed', () => {
    const block = { type: 'text' as const, text: 'short' };
    expect(estimateBlockTokens(block)).toBe(estimateTokens('short'));
    block.text = 'a much longer text than before, with many more words in it';
    expect(estimateBlockTokens(block)).toBe(estimateTokens(block.text));
    const call = { type: 'tool_call' as const, id: 'c1', name: 'search_guidelines', input: { query: 'a' } as unknown };
    const before = estimateBlockTokens(call);
    call.input = { query: 'a much longer query about anticoagulation and kidney function' };
    expect(estimateBlockTokens(call)).toBeGreaterThan(before);
  });
});
