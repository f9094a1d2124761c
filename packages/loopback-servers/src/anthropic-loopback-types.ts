/**
 * The Messages API wire shapes the Anthropic loopback server reads and writes, loosely typed:
 * the server validates requests itself (see `anthropic-loopback-validation.ts`), so these types
 * describe what a valid request holds, not what a client may send.
 */

/** `cache_control` on a block or tool: a prompt-cache breakpoint. */
export interface AnthropicWireCacheControl {
  readonly type: 'ephemeral';
  readonly ttl?: '5m' | '1h';
}

export interface AnthropicWireTextBlock {
  readonly type: 'text';
  readonly text: string;
  readonly cache_control?: AnthropicWireCacheControl;
}

export interface AnthropicWireToolUseBlock {
  readonly type: 'tool_use';
  readonly id: string;
  readonly name: string;
  readonly input: Readonly<Record<string, unknown>>;
  readonly cache_control?: AnthropicWireCacheControl;
}

export interface AnthropicWireToolResultBlock {
  readonly type: 'tool_result';
  readonly tool_use_id: string;
  readonly content?: string | readonly AnthropicWireTextBlock[];
  readonly is_error?: boolean;
  readonly cache_control?: AnthropicWireCacheControl;
}

/** A thinking block as a model may return it (and a client must pass back unchanged). */
export interface AnthropicWireThinkingBlock {
  readonly type: 'thinking';
  readonly thinking: string;
  readonly signature: string;
}

export type AnthropicWireRequestBlock =
  | AnthropicWireTextBlock
  | AnthropicWireToolUseBlock
  | AnthropicWireToolResultBlock
  | AnthropicWireThinkingBlock;

export interface AnthropicWireMessage {
  readonly role: 'user' | 'assistant';
  readonly content: string | readonly AnthropicWireRequestBlock[];
}

export interface AnthropicWireTool {
  readonly name: string;
  readonly description?: string;
  readonly input_schema: Readonly<Record<string, unknown>>;
  readonly cache_control?: AnthropicWireCacheControl;
}

export type AnthropicWireToolChoice =
  | { readonly type: 'auto'; readonly disable_parallel_tool_use?: boolean }
  | { readonly type: 'any'; readonly disable_parallel_tool_use?: boolean }
  | { readonly type: 'none' }
  | { readonly type: 'tool'; readonly name: string; readonly disable_parallel_tool_use?: boolean };

/** A `POST /v1/messages` body that passed validation. */
export interface AnthropicLoopbackRequestBody {
  readonly model: string;
  readonly max_tokens: number;
  readonly messages: readonly AnthropicWireMessage[];
  readonly system?: string | readonly AnthropicWireTextBlock[];
  readonly tools?: readonly AnthropicWireTool[];
  readonly tool_choice?: AnthropicWireToolChoice;
  readonly stream?: boolean;
  readonly [field: string]: unknown;
}

export type AnthropicWireStopReason =
  | 'end_turn'
  | 'max_tokens'
  | 'stop_sequence'
  | 'tool_use'
  | 'pause_turn'
  | 'refusal'
  | 'model_context_window_exceeded';

/** A content block of a reply; a `tool_use` without `id` gets a generated one. */
export type AnthropicLoopbackReplyBlock =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'tool_use'; readonly id?: string; readonly name: string; readonly input: Readonly<Record<string, unknown>> }
  | AnthropicWireThinkingBlock
  | { readonly type: 'redacted_thinking'; readonly data: string };

export interface AnthropicWireUsage {
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly cache_creation_input_tokens: number | null;
  readonly cache_read_input_tokens: number | null;
}

/**
 * What a responder returns for one request. Only `content` is required: `stop_reason` defaults to
 * `tool_use` when the content holds a tool call (else `end_turn`); `usage` fields default to
 * estimates (about 4 characters a token) and the simulated prompt cache; `model` to the request's.
 */
export interface AnthropicLoopbackReply {
  readonly content: readonly AnthropicLoopbackReplyBlock[];
  readonly stop_reason?: AnthropicWireStopReason;
  readonly stop_sequence?: string | null;
  readonly usage?: Partial<AnthropicWireUsage>;
  readonly model?: string;
}

/** What a responder learns besides the body. */
export interface AnthropicLoopbackResponderContext {
  /** 0 for the first request the server received, counting every request. */
  readonly requestIndex: number;
  /** 0 for the first request this responder answers. */
  readonly replyIndex: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** Computes the reply to a valid request. */
export type AnthropicLoopbackResponder = (
  request: AnthropicLoopbackRequestBody,
  context: AnthropicLoopbackResponderContext,
) => AnthropicLoopbackReply | Promise<AnthropicLoopbackReply>;

/** The Messages API error types, as `{ type: 'error', error: { type, message } }` carries them. */
export type AnthropicWireErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'billing_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'timeout_error'
  | 'api_error'
  | 'overloaded_error';

/**
 * A failure the server injects. Each applies to streaming and JSON requests alike unless it says
 * otherwise; `times` limits it to the first `times` requests it meets (default: every request).
 */
export type AnthropicLoopbackFault = (
  | {
      /** 429 `rate_limit_error`, with `retry-after-ms` and/or `retry-after` (seconds) when given. */
      readonly type: 'rate_limited';
      readonly retryAfterMs?: number;
      readonly retryAfterSeconds?: number;
    }
  /** 529 `overloaded_error`. */
  | { readonly type: 'overloaded' }
  /** A 5xx `api_error` (500 unless `status` says otherwise, e.g. 503). */
  | { readonly type: 'server_error'; readonly status?: number }
  /** Any error reply: status, error type, message and extra headers. */
  | {
      readonly type: 'error';
      readonly status: number;
      readonly errorType: AnthropicWireErrorType;
      readonly message?: string;
      readonly headers?: Readonly<Record<string, string>>;
    }
  /** Reads the request and never answers (until the client goes away or the server closes). */
  | { readonly type: 'hang' }
  /**
   * Drops the connection mid-reply: a stream after `afterEvents` SSE events (default: half of
   * them; negative counts from the end, `-1` keeps all but `message_stop`), a JSON reply after
   * its headers and half its body. With `graceful`, the reply instead
   * ends normally at that point (a stream without `message_stop`, a truncated JSON body).
   */
  | { readonly type: 'cut'; readonly afterEvents?: number; readonly graceful?: boolean }
  /**
   * An in-stream `event: error` after `afterEvents` SSE events (default: half of them; negative
   * counts from the end), then the
   * end of the stream. A JSON request gets the error as an HTTP reply with the matching status.
   */
  | { readonly type: 'stream_error'; readonly afterEvents?: number; readonly errorType?: AnthropicWireErrorType; readonly message?: string }
  /**
   * A reply that is not JSON: a stray token before the first text of a JSON body, or of the first
   * delta's `data:` line in a stream (where a parser's error message would quote the text).
   */
  | { readonly type: 'malformed' }
) & { readonly times?: number };

/** One request as the server received it. */
export interface AnthropicLoopbackRecordedRequest {
  /** 0 for the first request the server received. */
  readonly index: number;
  readonly method: string;
  /** The path after any fault prefix, e.g. `/v1/messages`. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The parsed JSON body; undefined when it was not JSON. */
  readonly body: unknown;
  /** True when the body asked for `stream: true`. */
  readonly stream: boolean;
  /** Counts TCP connections: equal ids mean a reused keep-alive connection. */
  readonly connectionId: number;
  /** The status sent, once sent (a hanging request has none). */
  status: number | undefined;
  /** The fault applied, if any. */
  fault: AnthropicLoopbackFault['type'] | undefined;
  /** True when the client closed the connection before the reply was complete (an abort). */
  clientDisconnected: boolean;
  /** Resolves when the exchange is over: reply complete, connection cut or client gone. */
  readonly settled: Promise<void>;
}
