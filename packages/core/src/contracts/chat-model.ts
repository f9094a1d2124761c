import type { CallOptions, SpecificationVersion } from './call-options.ts';

export interface TextBlock {
  readonly type: 'text';
  readonly text: string;
}

/** The model asks for a tool to run; several in one turn run concurrently. */
export interface ToolCallBlock {
  readonly type: 'tool_call';
  /** Unique within the conversation; the result refers to it. */
  readonly id: string;
  readonly name: string;
  /** As the model produced it: unvalidated, core validates it against the tool's schema. */
  readonly input: unknown;
}

export interface ToolResultBlock {
  readonly type: 'tool_result';
  readonly toolCallId: string;
  /** Text given back to the model (search results as XML-tagged sources). */
  readonly content: string;
  /** True when the tool failed or its input was invalid; the model may correct itself. */
  readonly isError?: boolean;
}

export type ContentBlock = TextBlock | ToolCallBlock | ToolResultBlock;

export interface ChatMessage {
  readonly role: 'user' | 'assistant';
  readonly content: readonly ContentBlock[];
}

/** A tool the model may call, described by a JSON Schema of its input. */
export interface ToolDefinition {
  readonly name: string;
  readonly description: string;
  /** A JSON Schema object (`type: 'object'`). */
  readonly inputSchema: Readonly<Record<string, unknown>>;
}

/**
 * Why a turn ended. `tool_use`: the model wants tool results; `end_turn`: it is done;
 * `max_tokens`, `stop_sequence`, `refusal`, `pause_turn`, `context_window_exceeded` as the
 * Messages API defines them.
 */
export type StopReason =
  | 'end_turn'
  | 'tool_use'
  | 'max_tokens'
  | 'stop_sequence'
  | 'refusal'
  | 'pause_turn'
  | 'context_window_exceeded';

export interface Usage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Input tokens served from the prompt cache. */
  readonly cacheReadInputTokens?: number;
  /** Input tokens written to the prompt cache. */
  readonly cacheCreationInputTokens?: number;
}

/** `auto`: the model decides; `any`: it must call some tool; `{ name }`: it must call that one. */
export type ToolChoice = 'auto' | 'any' | 'none' | { readonly name: string };

export interface GenerateRequest extends CallOptions {
  readonly system: string;
  readonly messages: readonly ChatMessage[];
  readonly tools: readonly ToolDefinition[];
  readonly toolChoice?: ToolChoice;
  readonly maxTokens?: number;
  /** Receives text as it streams, for adapters that stream; the result still holds the whole turn. */
  readonly onTextDelta?: (text: string) => void;
}

export interface GenerateResult {
  /** Text and tool calls, in the order the model produced them. */
  readonly content: readonly (TextBlock | ToolCallBlock)[];
  readonly stopReason: StopReason;
  readonly usage: Usage;
  readonly model: string;
}

/**
 * One turn of a chat model with tool use. The loop (running tools, feeding results back,
 * validating the final answer) lives in core, not in each adapter.
 */
export interface ChatModel {
  readonly specificationVersion: SpecificationVersion;
  readonly provider: string;
  readonly modelId: string;
  /** True when the model may ask for several tool calls in one turn. */
  readonly supportsParallelToolCalls: boolean;
  /**
   * Rejects with an AidocError: `RATE_LIMITED` (with `retryAfterMs`), `UPSTREAM_UNAVAILABLE`
   * (5xx, overloaded), `INVALID_INPUT`, `ABORTED`, `TIMEOUT`.
   */
  generate(request: GenerateRequest): Promise<GenerateResult>;
}
