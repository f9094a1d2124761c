import assert from 'node:assert/strict';
import type { ChatModel, GenerateRequest, GenerateResult, StopReason, ToolCallBlock, ToolDefinition } from '../contracts/chat-model.ts';
import { invalidOption } from '../errors/validate-option.ts';
import { applySkips, validateConformanceOptions, withAdapter, type ConformanceCheck, type ConformanceOptions } from './conformance-check.ts';
import { faultChecks } from './fault-checks.ts';
import { registerConformanceSuite } from './register-conformance-suite.ts';
import { isList } from './is-list.ts';

export interface ChatModelConformanceOptions<M extends ChatModel = ChatModel> extends ConformanceOptions<M> {
  /** Runs after each check with the instance it used. */
  readonly cleanup?: (model: M) => void | Promise<void>;
  /**
   * `maxTokens` of every request the suite sends (keeps live runs cheap).
   * @default 256
   */
  readonly maxTokens?: number;
  /** Registers the adapter's own tests inside the suite's `describe`. */
  readonly additionalTests?: () => void;
}

/** The two tools the suite offers. */
export const CONFORMANCE_TOOLS: readonly ToolDefinition[] = [
  {
    name: 'search_guidelines',
    description: 'Search clinical guidelines. Returns passages.',
    inputSchema: { type: 'object', properties: { query: { type: 'string', description: 'What to look up' } }, required: ['query'] },
  },
  {
    name: 'lookup_lab_reference',
    description: 'Look up the reference range of a lab test.',
    inputSchema: { type: 'object', properties: { test: { type: 'string', description: 'Lab test name, e.g. eGFR' } }, required: ['test'] },
  },
];

const STOP_REASONS: ReadonlySet<StopReason> = new Set([
  'end_turn',
  'tool_use',
  'max_tokens',
  'stop_sequence',
  'refusal',
  'pause_turn',
  'context_window_exceeded',
]);

const SYSTEM = 'You are a terse assistant used by an automated test. Follow the instructions exactly.';

/** The ChatModel conformance checks as plain async functions (see {@link testChatModel}). */
export function chatModelConformanceChecks<M extends ChatModel>(options: ChatModelConformanceOptions<M>): ConformanceCheck[] {
  validateConformanceOptions(options);
  const maxTokens = options.maxTokens ?? 256;
  if (!Number.isInteger(maxTokens) || maxTokens < 16) throw invalidOption('maxTokens', 'an integer >= 16', maxTokens);
  const { cleanup } = options;
  const use = (fn: (model: M) => Promise<void>): Promise<void> => withAdapter(options.create, cleanup, fn);
  const prompt = (text: string, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
    system: SYSTEM,
    messages: [{ role: 'user', content: [{ type: 'text', text }] }],
    tools: [],
    maxTokens,
    signal: new AbortController().signal,
    ...extra,
  });

  const checks: ConformanceCheck[] = [
    {
      name: 'declares its capabilities',
      run: () =>
        use(async (model) => {
          assert.equal(model.specificationVersion, 'v1', 'specificationVersion');
          assert.ok(typeof model.provider === 'string' && model.provider !== '', 'provider must be a non-empty string');
          assert.ok(typeof model.modelId === 'string' && model.modelId !== '', 'modelId must be a non-empty string');
          assert.equal(typeof model.supportsParallelToolCalls, 'boolean', 'supportsParallelToolCalls must be a boolean');
          await Promise.resolve();
        }),
    },
    {
      name: 'answers a plain prompt with text, end_turn and usage',
      run: () =>
        use(async (model) => {
          const result = await model.generate(prompt('Reply with the single word: ready'));
          expectResult(result, 'plain prompt');
          assert.equal(result.stopReason, 'end_turn', 'plain prompt: stopReason');
          assert.ok(result.usage.inputTokens > 0, 'plain prompt: usage.inputTokens must count the prompt');
          assert.ok(textOf(result).trim() !== '', 'plain prompt: the answer has no text');
          assert.ok(!result.content.some((block) => block.type === 'tool_call'), 'plain prompt without tools: no tool call expected');
        }),
    },
    {
      name: 'streams text through onTextDelta consistently with the result, when it streams',
      run: () =>
        use(async (model) => {
          const deltas: string[] = [];
          const result = await model.generate(prompt('Reply with the words: one two three', { onTextDelta: (text) => deltas.push(text) }));
          expectResult(result, 'streamed prompt');
          if (deltas.length > 0) assert.equal(deltas.join(''), textOf(result), 'the deltas must add up to the text of the result');
        }),
    },
    {
      name: "calls a tool when toolChoice is 'any'",
      run: () =>
        use(async (model) => {
          const result = await model.generate(prompt('What is the reference range of eGFR? Use a tool.', { tools: CONFORMANCE_TOOLS, toolChoice: 'any' }));
          const calls = expectToolCalls(result, "toolChoice 'any'");
          for (const call of calls) assert.ok(CONFORMANCE_TOOLS.some((tool) => tool.name === call.name), `toolChoice 'any': unknown tool ${call.name}`);
        }),
    },
    {
      name: 'calls the named tool when toolChoice is { name }',
      run: () =>
        use(async (model) => {
          const name = 'lookup_lab_reference';
          const result = await model.generate(prompt('Search the guidelines for metformin dosing.', { tools: CONFORMANCE_TOOLS, toolChoice: { name } }));
          const calls = expectToolCalls(result, `toolChoice { name: ${name} }`);
          for (const call of calls) assert.equal(call.name, name, `toolChoice { name: ${name} }: called another tool`);
        }),
    },
    {
      name: 'continues a conversation from tool results',
      run: () =>
        use(async (model) => {
          const result = await model.generate({
            system: SYSTEM,
            tools: CONFORMANCE_TOOLS,
            toolChoice: 'none',
            maxTokens,
            signal: new AbortController().signal,
            messages: [
              { role: 'user', content: [{ type: 'text', text: 'What is the lower reference limit of eGFR? Use a tool, then answer in one sentence.' }] },
              {
                role: 'assistant',
                content: [{ type: 'tool_call', id: 'toolu_conformance_1', name: 'lookup_lab_reference', input: { test: 'eGFR' } }],
              },
              { role: 'user', content: [{ type: 'tool_result', toolCallId: 'toolu_conformance_1', content: 'eGFR reference range: >= 60 mL/min/1.73m2' }] },
            ],
          });
          expectResult(result, 'after tool results');
          assert.equal(result.stopReason, 'end_turn', 'after tool results with toolChoice none: stopReason');
          assert.ok(textOf(result).trim() !== '', 'after tool results: the answer has no text');
        }),
    },
    ...faultChecks(options, {
      label: 'generate',
      invoke: (model, signal) => model.generate({ ...prompt('Reply with the single word: ready'), signal }),
      cleanup,
    }),
  ];
  return applySkips(checks, options.skip);
}

/**
 * Registers the ChatModel conformance suite (vitest): plain answers with usage, forced tool calls
 * (`any`, `{ name }`), a turn after tool results, streaming consistency, then abort and fault
 * behaviour for each fixture given.
 *
 * @example
 * ```ts
 * testChatModel({
 *   name: 'anthropic (loopback)',
 *   create: () => createAnthropicModel({ apiKey: 'test', baseURL: server.url }),
 *   faults: { rateLimited: { create: () => createAnthropicModel({ apiKey: 'test', baseURL: server.url429 }), retryAfterMs: 1000 } },
 * });
 * ```
 */
export function testChatModel<M extends ChatModel>(options: ChatModelConformanceOptions<M>): void {
  registerConformanceSuite(`ChatModel conformance: ${options.name}`, chatModelConformanceChecks(options), options.additionalTests);
}

function expectResult(result: GenerateResult, what: string): void {
  assert.ok(typeof result === 'object' && result !== null, `${what}: generate must resolve to a result`);
  assert.ok(isList(result.content), `${what}: content must be an array`);
  for (const block of result.content) {
    if (block.type === 'text') assert.equal(typeof block.text, 'string', `${what}: a text block needs text`);
    else assert.equal(block.type, 'tool_call', `${what}: content holds text and tool_call blocks only, got ${String((block as { type: unknown }).type)}`);
  }
  assert.ok(STOP_REASONS.has(result.stopReason), `${what}: unknown stopReason ${String(result.stopReason)}`);
  for (const field of ['inputTokens', 'outputTokens'] as const) {
    const value = result.usage[field];
    assert.ok(Number.isInteger(value) && value >= 0, `${what}: usage.${field} must be a non-negative integer, got ${value}`);
  }
  assert.ok(typeof result.model === 'string' && result.model !== '', `${what}: model must name the model that answered`);
}

function expectToolCalls(result: GenerateResult, what: string): ToolCallBlock[] {
  expectResult(result, what);
  const calls = result.content.filter((block): block is ToolCallBlock => block.type === 'tool_call');
  assert.ok(calls.length > 0, `${what}: expected at least one tool call`);
  assert.equal(result.stopReason, 'tool_use', `${what}: stopReason`);
  const ids = new Set<string>();
  for (const call of calls) {
    assert.ok(typeof call.id === 'string' && call.id !== '', `${what}: a tool call needs an id`);
    assert.ok(!ids.has(call.id), `${what}: tool call id ${call.id} is used twice`);
    ids.add(call.id);
    assert.ok(typeof call.input === 'object' && call.input !== null && !Array.isArray(call.input), `${what}: tool call input must be an object`);
  }
  return calls;
}

function textOf(result: GenerateResult): string {
  return result.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
}
