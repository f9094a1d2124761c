import { AidocError, type GenerateResult, type StopReason, type TextBlock, type ToolCallBlock, type Usage } from '@aidoc/core';

/** The parts of a Messages API reply the adapter reads (a `Message`, or one assembled from a stream). */
export interface AnthropicTurn {
  readonly model: string;
  readonly content: readonly unknown[];
  readonly stop_reason: string | null;
  readonly usage: AnthropicTurnUsage;
}

export interface AnthropicTurnUsage {
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly cache_read_input_tokens?: number | null;
  readonly cache_creation_input_tokens?: number | null;
}

const STOP_REASONS: Readonly<Record<string, StopReason>> = {
  end_turn: 'end_turn',
  tool_use: 'tool_use',
  max_tokens: 'max_tokens',
  stop_sequence: 'stop_sequence',
  pause_turn: 'pause_turn',
  refusal: 'refusal',
  model_context_window_exceeded: 'context_window_exceeded',
};

/**
 * Translates a reply into the contract: `text` and `tool_use` blocks in order (thinking and
 * server-tool blocks are left out: core neither shows nor sends them back), the stop reason, and
 * usage with the prompt-cache counters. A reply that breaks the API's own shape fails
 * `INVALID_OUTPUT`, naming the field, never its content.
 */
export function toGenerateResult(turn: AnthropicTurn): GenerateResult {
  if (typeof turn !== 'object' || turn === null || !Array.isArray(turn.content)) throw invalidOutput('the reply has no content array');
  const content: (TextBlock | ToolCallBlock)[] = [];
  turn.content.forEach((block, index) => {
    if (typeof block !== 'object' || block === null) throw invalidOutput(`content block ${index} is not an object`);
    const { type } = block as { type?: unknown };
    if (type === 'text') {
      const { text } = block as { text?: unknown };
      if (typeof text !== 'string') throw invalidOutput(`text block ${index} has no text`);
      content.push({ type: 'text', text });
    } else if (type === 'tool_use') {
      const { id, name, input } = block as { id?: unknown; name?: unknown; input?: unknown };
      if (typeof id !== 'string' || id === '' || typeof name !== 'string' || name === '') throw invalidOutput(`tool_use block ${index} lacks an id or a name`);
      content.push({ type: 'tool_call', id, name, input: input ?? {} });
    }
  });
  const stopReason = turn.stop_reason === null ? undefined : STOP_REASONS[turn.stop_reason];
  if (stopReason === undefined) {
    throw invalidOutput(`unknown stop_reason ${JSON.stringify(String(turn.stop_reason).slice(0, 40))}`, { stopReason: String(turn.stop_reason).slice(0, 40) });
  }
  return { content, stopReason, usage: toUsage(turn.usage), model: typeof turn.model === 'string' && turn.model !== '' ? turn.model : 'unknown' };
}

function toUsage(usage: AnthropicTurnUsage | undefined): Usage {
  if (typeof usage !== 'object' || usage === null) throw invalidOutput('the reply has no usage');
  const count = (value: unknown, field: string): number => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw invalidOutput(`usage.${field} is not a token count`);
    return value;
  };
  const cacheRead = usage.cache_read_input_tokens;
  const cacheCreation = usage.cache_creation_input_tokens;
  return {
    inputTokens: count(usage.input_tokens, 'input_tokens'),
    outputTokens: count(usage.output_tokens, 'output_tokens'),
    ...(cacheRead == null ? {} : { cacheReadInputTokens: count(cacheRead, 'cache_read_input_tokens') }),
    ...(cacheCreation == null ? {} : { cacheCreationInputTokens: count(cacheCreation, 'cache_creation_input_tokens') }),
  };
}

export function invalidOutput(problem: string, details: Record<string, unknown> = {}): AidocError {
  return new AidocError('INVALID_OUTPUT', `The Anthropic Messages API returned an unexpected reply: ${problem}`, {
    details: { provider: 'anthropic', ...details },
  });
}
