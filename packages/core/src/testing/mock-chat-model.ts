import type {
  ChatMessage,
  ChatModel,
  GenerateRequest,
  GenerateResult,
  StopReason,
  TextBlock,
  ToolCallBlock,
  Usage,
} from '../contracts/chat-model.ts';
import { estimateBlockTokens, estimateInputTokens } from '../contracts/estimate-usage.ts';
import { AidocError } from '../errors/aidoc-error.ts';
import { invalidOption } from '../errors/validate-option.ts';
import { sleep } from '../executor/abort.ts';
import { MockAdapter, type MockAdapterOptions, type MockCall, type MockControls } from './mock-adapter.ts';
import { itemsMs, type SimulatedLatency } from './simulated-latency.ts';
import { isList } from './is-list.ts';

/** A recorded request: the `GenerateRequest` without its signal and callback. */
export type MockGenerateInput = Omit<GenerateRequest, 'signal' | 'onTextDelta'>;

export type MockChatModelCall = MockCall<'generate', MockGenerateInput, GenerateResult>;

/**
 * One scripted turn. Only `content` is required: `stopReason` defaults to `tool_use` when the
 * content holds a tool call (else `end_turn`), `usage` to `estimateInputTokens` of the request and the
 * content, `model` to the mock's model id.
 */
export interface MockTurn {
  readonly content: readonly (TextBlock | ToolCallBlock)[];
  readonly stopReason?: StopReason;
  readonly usage?: Usage;
  readonly model?: string;
}

/** Computes a turn from the request; `turnIndex` counts the turns answered before this one. */
export type MockTurnFunction = (request: MockGenerateInput, turnIndex: number) => MockTurn | Promise<MockTurn>;

export interface MockChatModelOptions extends MockAdapterOptions<'generate', MockGenerateInput> {
  /**
   * The turns to answer: a list (turn `n` answers the `n`-th successful call; a call beyond it
   * rejects INTERNAL) or a function of the request.
   * @default {@link defaultMockTurn}: calls the forced tool when `toolChoice` is `any` or
   * `{ name }`, else answers text, so the default mock passes `testChatModel`.
   */
  readonly turns?: readonly MockTurn[] | MockTurnFunction;
  /** @default 'mock-chat' */
  readonly modelId?: string;
  /** @default true */
  readonly supportsParallelToolCalls?: boolean;
  /**
   * Reject conversations the Messages API rejects: a tool call not answered by a `tool_result`
   * in the next user message, or a `tool_result` naming no tool call of the previous assistant
   * message. Catches agent-loop bugs in tests rather than against the real API.
   * @default true
   */
  readonly strictToolResults?: boolean;
}

/** A ChatModel that answers scripted turns, records requests and simulates latency and faults. */
export interface MockChatModel extends ChatModel, MockControls<MockChatModelCall> {
  /** The requests received, in order (a view over `calls`). */
  readonly requests: readonly MockGenerateInput[];
}

/**
 * Creates a mock {@link ChatModel} that plays scripted turns. `latency.perItemMs` applies per
 * output token, the way a model's answer time grows with its length.
 *
 * @example
 * ```ts
 * const model = createMockChatModel({
 *   turns: [
 *     { content: [{ type: 'tool_call', id: 'c1', name: 'search_guidelines', input: { query: 'metformin eGFR' } }] },
 *     { content: [{ type: 'text', text: 'Done.' }] },
 *   ],
 *   latency: { fixedMs: 200, perItemMs: 2 },
 * });
 * ```
 */
export function createMockChatModel(options: MockChatModelOptions = {}): MockChatModel {
  return new SimulatedChatModel(options);
}

class SimulatedChatModel extends MockAdapter<MockChatModelCall> implements MockChatModel {
  readonly specificationVersion = 'v1';
  readonly provider = 'mock';
  readonly modelId: string;
  readonly supportsParallelToolCalls: boolean;
  readonly #turns: MockTurnFunction;
  readonly #latency: SimulatedLatency | undefined;
  readonly #strictToolResults: boolean;
  #answered = 0;

  constructor(options: MockChatModelOptions) {
    super('mock-chat-model', options);
    for (const flag of ['supportsParallelToolCalls', 'strictToolResults'] as const) {
      if (options[flag] !== undefined && typeof options[flag] !== 'boolean') throw invalidOption(flag, 'a boolean', options[flag]);
    }
    if (options.modelId !== undefined && (typeof options.modelId !== 'string' || options.modelId === '')) {
      throw invalidOption('modelId', 'a non-empty string', options.modelId);
    }
    const turns = options.turns ?? defaultMockTurn;
    if (typeof turns !== 'function' && !isList(turns)) throw invalidOption('turns', 'a list of turns or a function', turns);
    this.modelId = options.modelId ?? 'mock-chat';
    this.supportsParallelToolCalls = options.supportsParallelToolCalls ?? true;
    this.#strictToolResults = options.strictToolResults ?? true;
    this.#latency = options.latency;
    this.#turns =
      typeof turns === 'function'
        ? turns
        : (_request, turnIndex) => {
            const turn = turns[turnIndex];
            if (turn === undefined) throw new AidocError('INTERNAL', `mock-chat-model: no turn ${turnIndex + 1} scripted (${turns.length} given)`);
            return turn;
          };
  }

  get requests(): readonly MockGenerateInput[] {
    return this.calls.map((call) => call.input);
  }

  generate(request: GenerateRequest): Promise<GenerateResult> {
    const { signal, onTextDelta, ...input } = request;
    return this.simulate({
      method: 'generate',
      input,
      signal,
      items: 0,
      validate: () => validateRequest(input, this.#strictToolResults),
      respond: async () => {
        const turn = await this.#turns(input, this.#answered);
        const result = completeTurn(turn, input, this.modelId);
        const answerMs = itemsMs(this.#latency, result.usage.outputTokens);
        if (answerMs > 0) await sleep(answerMs, signal);
        this.#answered++;
        for (const block of result.content) if (block.type === 'text' && block.text !== '') onTextDelta?.(block.text);
        return result;
      },
    });
  }
}

/**
 * The default mock's behaviour: with `toolChoice` `{ name }` it calls that tool, with `any` the
 * first tool (input `{}`); otherwise it answers with text echoing the last user text. Tool call
 * ids are numbered after the calls already in the conversation, so they are unique within it and
 * the same on every run.
 */
export function defaultMockTurn(request: MockGenerateInput): MockTurn {
  const choice = request.toolChoice;
  const forced = typeof choice === 'object' ? choice.name : choice === 'any' ? request.tools[0]?.name : undefined;
  if (forced !== undefined) {
    const earlier = request.messages.reduce((count, message) => count + message.content.filter((block) => block.type === 'tool_call').length, 0);
    return { content: [{ type: 'tool_call', id: `mock_call_${earlier + 1}`, name: forced, input: {} }] };
  }
  const lastUser = [...request.messages].reverse().find((message) => message.role === 'user');
  const lastText = lastUser?.content.find((block): block is TextBlock => block.type === 'text')?.text;
  return { content: [{ type: 'text', text: lastText === undefined ? 'Mock answer.' : `Mock answer to: ${lastText}` }] };
}

function completeTurn(turn: MockTurn, request: MockGenerateInput, modelId: string): GenerateResult {
  if (typeof turn !== 'object' || turn === null || !isList(turn.content)) {
    throw new AidocError('INTERNAL', 'mock-chat-model: a scripted turn needs a `content` array');
  }
  const hasToolCall = turn.content.some((block) => block.type === 'tool_call');
  return {
    content: turn.content.map((block) => ({ ...block })),
    stopReason: turn.stopReason ?? (hasToolCall ? 'tool_use' : 'end_turn'),
    usage: turn.usage ?? {
      inputTokens: estimateInputTokens(request),
      outputTokens: turn.content.reduce((sum, block) => sum + estimateBlockTokens(block), 0),
    },
    model: turn.model ?? modelId,
  };
}

function validateRequest(request: MockGenerateInput, strictToolResults: boolean): void {
  if (typeof request.system !== 'string') throw invalid('`system` must be a string');
  if (!isList(request.messages) || request.messages.length === 0) throw invalid('`messages` must be a non-empty array');
  if (!isList(request.tools)) throw invalid('`tools` must be an array');
  const names = new Set(request.tools.map((tool) => tool.name));
  if (names.size !== request.tools.length) throw invalid('tool names must be distinct');
  const choice = request.toolChoice;
  if (choice === 'any' && request.tools.length === 0) throw invalid("toolChoice 'any' needs at least one tool");
  if (typeof choice === 'object' && !names.has(choice.name)) throw invalid(`toolChoice names an unknown tool ${choice.name}`);
  if (request.messages[0]?.role !== 'user') throw invalid('the first message must come from the user');
  if (strictToolResults) checkToolResults(request.messages);
}

function checkToolResults(messages: readonly ChatMessage[]): void {
  messages.forEach((message, index) => {
    const previous = messages[index - 1];
    const asked = new Set(
      previous?.role === 'assistant' ? previous.content.flatMap((block) => (block.type === 'tool_call' ? [block.id] : [])) : [],
    );
    const answered = new Set(message.content.flatMap((block) => (block.type === 'tool_result' ? [block.toolCallId] : [])));
    if (message.role === 'assistant' && answered.size > 0) throw invalid(`message ${index}: tool results come from the user`);
    if (message.role === 'assistant' && asked.size > 0) throw invalid(`message ${index}: the tool calls of message ${index - 1} need a user message of tool results`);
    for (const id of answered) if (!asked.has(id)) throw invalid(`message ${index}: tool_result ${id} answers no tool call of the previous message`);
    if (message.role === 'user') {
      for (const id of asked) if (!answered.has(id)) throw invalid(`message ${index}: tool call ${id} has no tool_result`);
    }
  });
  const last = messages[messages.length - 1];
  if (last?.role === 'assistant' && last.content.some((block) => block.type === 'tool_call')) {
    throw invalid('the conversation ends with unanswered tool calls');
  }
}

function invalid(message: string): AidocError {
  return new AidocError('INVALID_INPUT', `mock-chat-model: ${message}`);
}
