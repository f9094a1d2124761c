import type { AnthropicWireStopReason, AnthropicWireThinkingBlock, AnthropicWireUsage } from './anthropic-loopback-types.ts';

/** A reply block with its tool id assigned. */
export type AnthropicWireResponseBlock =
  | { readonly type: 'text'; readonly text: string; readonly citations: null }
  | { readonly type: 'tool_use'; readonly id: string; readonly name: string; readonly input: Readonly<Record<string, unknown>> }
  | AnthropicWireThinkingBlock
  | { readonly type: 'redacted_thinking'; readonly data: string };

/** A complete Messages API response body (`type: 'message'`). */
export interface AnthropicWireMessageResponse {
  readonly id: string;
  readonly type: 'message';
  readonly role: 'assistant';
  readonly model: string;
  readonly content: readonly AnthropicWireResponseBlock[];
  readonly stop_reason: AnthropicWireStopReason;
  readonly stop_sequence: string | null;
  readonly usage: AnthropicWireUsage;
}

/** One server-sent event. */
export interface AnthropicSseEvent {
  readonly event: string;
  readonly data: unknown;
}

/** Formats one SSE frame: `event: NAME\ndata: JSON\n\n`. */
export function formatSseEvent(event: AnthropicSseEvent): string {
  return `event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

/**
 * The stream of events that delivers `message`, in the Messages API order: `message_start`, a
 * `ping`, then per block `content_block_start`, its deltas (text a few words at a time, tool input
 * as `partial_json` pieces that split the JSON anywhere), `content_block_stop`; then
 * `message_delta` (stop reason, output tokens) and `message_stop`.
 */
export function messageStreamEvents(message: AnthropicWireMessageResponse): AnthropicSseEvent[] {
  const events: AnthropicSseEvent[] = [
    {
      event: 'message_start',
      data: {
        type: 'message_start',
        message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage: { ...message.usage, output_tokens: 1 } },
      },
    },
    { event: 'ping', data: { type: 'ping' } },
  ];
  message.content.forEach((block, index) => {
    const start = (contentBlock: unknown): void => {
      events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: contentBlock } });
    };
    const delta = (value: unknown): void => {
      events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: value } });
    };
    switch (block.type) {
      case 'text':
        start({ type: 'text', text: '', citations: null });
        for (const piece of textPieces(block.text)) delta({ type: 'text_delta', text: piece });
        break;
      case 'tool_use':
        start({ type: 'tool_use', id: block.id, name: block.name, input: {} });
        for (const piece of jsonPieces(JSON.stringify(block.input))) delta({ type: 'input_json_delta', partial_json: piece });
        break;
      case 'thinking':
        start({ type: 'thinking', thinking: '', signature: '' });
        for (const piece of textPieces(block.thinking)) delta({ type: 'thinking_delta', thinking: piece });
        delta({ type: 'signature_delta', signature: block.signature });
        break;
      case 'redacted_thinking':
        start(block);
        break;
    }
    events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
  });
  events.push(
    {
      event: 'message_delta',
      data: {
        type: 'message_delta',
        delta: { stop_reason: message.stop_reason, stop_sequence: message.stop_sequence },
        usage: { output_tokens: message.usage.output_tokens },
      },
    },
    { event: 'message_stop', data: { type: 'message_stop' } },
  );
  return events;
}

/** A few words at a time, whitespace kept, so the pieces join back to the text. */
function textPieces(text: string): string[] {
  const words = text.match(/\S+\s*|\s+/g) ?? [];
  const pieces: string[] = [];
  for (let index = 0; index < words.length; index += 2) pieces.push(words.slice(index, index + 2).join(''));
  return pieces;
}

/** Three pieces cut at arbitrary characters (a real stream splits JSON mid-token). */
function jsonPieces(json: string): string[] {
  if (json === '{}') return [];
  const size = Math.ceil(json.length / 3);
  const pieces: string[] = [];
  for (let offset = 0; offset < json.length; offset += size) pieces.push(json.slice(offset, offset + size));
  return pieces;
}
