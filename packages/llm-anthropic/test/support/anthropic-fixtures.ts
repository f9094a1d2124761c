import type { ChatMessage, GenerateRequest, ToolDefinition } from '@aidoc/core';
import { createAnthropicModel, type AnthropicModelSettings } from '../../src/index.ts';
import type { AnthropicLoopbackServer } from '@aidoc/loopback-servers';

export const API_KEY = 'loopback-test-key';

/** A model on `baseURL` (default: the server's healthy URL). */
export function modelOn(server: AnthropicLoopbackServer, settings: AnthropicModelSettings = {}, baseURL: string = server.url) {
  return createAnthropicModel({ apiKey: API_KEY, baseURL, ...settings });
}

export const user = (text: string): ChatMessage => ({ role: 'user', content: [{ type: 'text', text }] });

export const TOOLS: readonly ToolDefinition[] = [
  {
    name: 'search_guidelines',
    description: 'Search clinical guidelines.',
    inputSchema: { type: 'object', properties: { query: { type: 'string' }, limit: { type: 'integer', minimum: 1 } }, required: ['query'] },
  },
  {
    name: 'submit_briefing',
    description: 'Submit the briefing.',
    inputSchema: { type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'] },
  },
];

/** A one-message request; `extra` overrides any field. */
export function requestOf(text: string, extra: Partial<GenerateRequest> = {}): GenerateRequest {
  return { system: 'You are a test assistant.', messages: [user(text)], tools: [], ...extra };
}

/** The rejection of `promise` (fails the test when it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to reject, it resolved');
}
