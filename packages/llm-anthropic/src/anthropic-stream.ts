import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import { invalidOutput, type AnthropicTurn, type AnthropicTurnUsage } from './anthropic-response.ts';

/** A reply assembled from a stream, and whether the stream got to `message_stop`. */
export interface CollectedStream {
  readonly turn: AnthropicTurn;
  readonly complete: boolean;
}

type BlockState =
  | { readonly type: 'text'; text: string }
  | { readonly type: 'tool_use'; readonly id: string; readonly name: string; readonly input: unknown; json: string; parsed?: unknown }
  | { readonly type: 'other' };

/**
 * Reads a Messages API event stream into one reply: forwards each `text_delta` to `onTextDelta`
 * as it arrives, concatenates each tool call's `input_json_delta.partial_json` pieces and parses
 * them when the block stops, takes the stop reason and output tokens from `message_delta`.
 * Thinking and other block types are read past. A stream that ends without `message_stop` (the
 * SDK ends iteration quietly when the request is aborted) comes back with `complete: false`.
 */
export async function collectMessageStream(
  events: AsyncIterable<RawMessageStreamEvent>,
  onTextDelta: ((text: string) => void) | undefined,
): Promise<CollectedStream> {
  let model = '';
  let stopReason: string | null = null;
  let usage: AnthropicTurnUsage = { input_tokens: 0, output_tokens: 0 };
  let complete = false;
  const blocks = new Map<number, BlockState>();

  for await (const event of events) {
    switch (event.type) {
      case 'message_start':
        model = event.message.model;
        usage = mergeUsage(usage, event.message.usage);
        break;
      case 'content_block_start': {
        const block = event.content_block;
        if (block.type === 'text') {
          blocks.set(event.index, { type: 'text', text: block.text });
          if (block.text !== '') onTextDelta?.(block.text);
        } else if (block.type === 'tool_use') {
          blocks.set(event.index, { type: 'tool_use', id: block.id, name: block.name, input: block.input, json: '' });
        } else {
          blocks.set(event.index, { type: 'other' });
        }
        break;
      }
      case 'content_block_delta': {
        const block = blocks.get(event.index);
        if (block === undefined) throw invalidOutput(`a delta arrived for block ${event.index} before its start`);
        const { delta } = event;
        if (delta.type === 'text_delta' && block.type === 'text') {
          block.text += delta.text;
          if (delta.text !== '') onTextDelta?.(delta.text);
        } else if (delta.type === 'input_json_delta' && block.type === 'tool_use') {
          block.json += delta.partial_json;
        }
        break;
      }
      case 'content_block_stop': {
        const block = blocks.get(event.index);
        if (block?.type === 'tool_use') block.parsed = parseToolInput(block);
        break;
      }
      case 'message_delta':
        stopReason = event.delta.stop_reason;
        usage = mergeUsage(usage, event.usage);
        break;
      case 'message_stop':
        complete = true;
        break;
    }
  }

  const content = [...blocks.entries()]
    .sort(([left], [right]) => left - right)
    .flatMap(([, block]): unknown[] => {
      if (block.type === 'text') return [{ type: 'text', text: block.text }];
      if (block.type === 'tool_use') return [{ type: 'tool_use', id: block.id, name: block.name, input: block.parsed ?? parseToolInput(block) }];
      return [];
    });
  return { turn: { model, content, stop_reason: stopReason, usage }, complete };
}

/** The tool input from its `partial_json` pieces; none at all means the input of the start event (`{}`). */
function parseToolInput(block: { readonly name: string; readonly input: unknown; readonly json: string }): unknown {
  if (block.json.trim() === '') return block.input ?? {};
  try {
    return JSON.parse(block.json) as unknown;
  } catch {
    // The JSON text is model output: name the tool, never quote the input.
    throw invalidOutput(`the streamed input of a ${block.name} tool call is not valid JSON`, { tool: block.name });
  }
}

/** Later counters win where the API sends them (`message_delta` repeats some as null). */
function mergeUsage(
  current: AnthropicTurnUsage,
  next: {
    readonly input_tokens?: number | null;
    readonly output_tokens?: number | null;
    readonly cache_read_input_tokens?: number | null;
    readonly cache_creation_input_tokens?: number | null;
  },
): AnthropicTurnUsage {
  return {
    input_tokens: next.input_tokens ?? current.input_tokens,
    output_tokens: next.output_tokens ?? current.output_tokens,
    cache_read_input_tokens: next.cache_read_input_tokens ?? current.cache_read_input_tokens ?? null,
    cache_creation_input_tokens: next.cache_creation_input_tokens ?? current.cache_creation_input_tokens ?? null,
  };
}
