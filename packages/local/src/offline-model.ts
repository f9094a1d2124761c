import {
  AidocError,
  SEARCH_TOOL_NAME,
  SUBMIT_TOOL_NAME,
  estimateBlockTokens,
  estimateInputTokens,
  sleep,
  takeCpuTurn,
  throwIfAborted,
  type ChatModel,
  type GenerateRequest,
  type GenerateResult,
  type TextBlock,
  type ToolCallBlock,
} from '@aidoc/core';
import { performance } from 'node:perf_hooks';
import { repairBriefing } from './offline-briefing-repair.ts';
import { writeBriefing } from './offline-briefing-writer.ts';
import { collectEvidence, readConversation } from './offline-conversation.ts';
import { analysePatient } from './offline-patient-analysis.ts';
import { planSearches } from './offline-search-planner.ts';

/** Simulated thinking time of one turn. */
export interface OfflineModelLatency {
  /** Fixed delay of every turn, in milliseconds. */
  readonly perTurnMs: number;
  /**
   * Up to this much more per turn, derived from `seed` and the conversation (so the same
   * conversation always waits the same time).
   * @default 0
   */
  readonly jitterMs?: number;
}

export interface OfflineModelOptions {
  /**
   * Simulated latency of each `generate` call: milliseconds, or a fixed part plus jitter. The
   * wait is abortable: the call rejects with `ABORTED` as soon as the signal fires. The answer is
   * composed halfway through the wait, as a remote model works while its caller waits.
   * @default 0
   */
  readonly latencyMs?: number | OfflineModelLatency;
  /**
   * Seeds the latency jitter. Outputs never depend on it: they depend on the conversation only.
   * @default 0
   */
  readonly seed?: number;
  /**
   * Most `search_guidelines` calls asked for in the planning turn (1 to 10).
   * @default 6
   */
  readonly maxSearchesPerTurn?: number;
  /**
   * The `limit` each search asks for (1 to 10).
   * @default 4
   */
  readonly searchLimit?: number;
}

const MODEL_ID = 'offline-rules-v1';
const MAX_TIMER_MS = 2_147_483_647;

/**
 * A deterministic, rule-based stand-in for a chat model, so the briefing pipeline runs with no
 * network and no keys. It is **not a language model**: it recognises the briefing protocol of
 * `@aidoc/core` and nothing else, and the same conversation always gets the same answer.
 *
 * - **Planning turn** (no search results yet): reads the record from the `<patient_record>` of
 *   the first user message, derives findings from active conditions, medications, out-of-range
 *   labs and risky combinations, and asks for one `search_guidelines` call per finding, all in
 *   one turn (most pressing first, deduplicated, at most `maxSearchesPerTurn`).
 * - **Briefing turn** (search results present): writes a `PatientBriefing` whose recommendations
 *   each quote one sentence of a retrieved source verbatim and cite that source's id (so it never
 *   cites an id that was not retrieved), and submits it with one `submit_briefing` call.
 *   When no source came back it cannot cite anything, so it answers in text with
 *   `stopReason: 'end_turn'` and core fails the run clearly.
 * - **Repair turn** (the last message rejects `submit_briefing`): resubmits the briefing with
 *   unknown citations and invalid items removed.
 *
 * Retrieved passages are treated as data: the rules read only the record, and a sentence that
 * addresses a model ("ignore previous instructions…") is never quoted. The model escapes nothing
 * itself; core formats the record and the sources. A conversation with no patient record gets a
 * short text answer (`end_turn`), or, when `toolChoice` forces a tool, a call to that tool with the
 * last user text in its required string fields (so the ChatModel conformance suite applies).
 *
 * Usage is estimated with `estimateInputTokens` and `estimateBlockTokens`. `maxTokens` is not enforced.
 *
 * @example
 * ```ts
 * const model = createOfflineModel({ latencyMs: { perTurnMs: 300, jitterMs: 200 } });
 * ```
 */
export function createOfflineModel(options: OfflineModelOptions = {}): ChatModel {
  const { perTurnMs, jitterMs } = resolveLatency(options.latencyMs);
  const seed = options.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw invalid('seed', 'a finite number', seed);
  const maxSearches = options.maxSearchesPerTurn ?? 6;
  const searchLimit = options.searchLimit ?? 4;
  for (const [name, value] of [
    ['maxSearchesPerTurn', maxSearches],
    ['searchLimit', searchLimit],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > 10) throw invalid(name, 'an integer from 1 to 10', value);
  }

  return {
    specificationVersion: 'v1',
    provider: 'offline',
    modelId: MODEL_ID,
    supportsParallelToolCalls: true,

    async generate(request: GenerateRequest): Promise<GenerateResult> {
      throwIfAborted(request.signal);
      if (!Array.isArray(request.messages) || request.messages.length === 0) {
        throw new AidocError('INVALID_INPUT', 'The offline model needs at least one message', { details: { provider: 'offline' } });
      }
      const delay = Math.min(perTurnMs + (jitterMs > 0 ? Math.floor(unitInterval(seed, request) * (jitterMs + 1)) : 0), MAX_TIMER_MS);
      // The answer is composed halfway through the simulated latency: its CPU work lands while the
      // caller waits anyway, as a remote model's does on its own machine, and a call aborted
      // before then costs nothing.
      const answerAt = delay / 2;
      const calledAt = performance.now();
      if (delay > 0) await sleep(answerAt, request.signal);
      // A thousand answers due in the same millisecond are composed in turns, not in one stall.
      await takeCpuTurn(request.signal);
      const { blocks } = respond(request, maxSearches, searchLimit);
      const result: GenerateResult = {
        content: blocks,
        stopReason: blocks.some((block) => block.type === 'tool_call') ? 'tool_use' : 'end_turn',
        usage: { inputTokens: estimateInputTokens(request), outputTokens: blocks.reduce((sum, block) => sum + estimateBlockTokens(block), 0) },
        model: MODEL_ID,
      };
      const left = delay - (performance.now() - calledAt);
      if (left > 0) await sleep(left, request.signal);
      throwIfAborted(request.signal);
      for (const block of blocks) if (block.type === 'text') request.onTextDelta?.(block.text);
      return result;
    },
  };
}

function respond(request: GenerateRequest, maxSearches: number, searchLimit: number): { blocks: (TextBlock | ToolCallBlock)[] } {
  const state = readConversation(request.messages);
  const text = (value: string): { blocks: (TextBlock | ToolCallBlock)[] } => ({ blocks: [{ type: 'text', text: value }] });
  let nextCall = state.toolCallCount;
  const callId = (): string => `call_${++nextCall}`;
  if (state.record === undefined) {
    const forced = forcedToolCall(request, callId());
    if (forced !== undefined) return { blocks: [forced] };
    return text(`I am the offline rule-based model: I can only prepare patient briefings, and ${state.recordProblem ?? 'no patient record was found'}.`);
  }
  const record = state.record;
  if (state.accepted && state.repairRequest === undefined) return text(`The briefing for patient ${record.id} has been submitted.`);

  const { facts, findings } = analysePatient(record);

  if (state.searches.length === 0 && state.repairRequest === undefined) {
    const searches = planSearches(findings, maxSearches, searchLimit);
    if (searches.length === 0 || !mayCall(request, SEARCH_TOOL_NAME)) {
      return text(
        searches.length === 0
          ? `The record of patient ${record.id} raises no question the offline rules know how to search for.`
          : `I would search the guidelines for: ${searches.map((search) => search.input.query).join('; ')}.`,
      );
    }
    return {
      blocks: [
        { type: 'text', text: `Searching the guidelines on ${searches.length} question${searches.length === 1 ? '' : 's'} raised by the record of patient ${record.id}.` },
        ...searches.map((search): ToolCallBlock => ({ type: 'tool_call', id: callId(), name: SEARCH_TOOL_NAME, input: { ...search.input } })),
      ],
    };
  }

  const evidence = collectEvidence(state);
  const fresh = writeBriefing(facts, findings, evidence);
  const briefing =
    state.repairRequest === undefined ? fresh : repairBriefing(state.repairRequest.submitted, record.id, new Set(evidence.all.map((source) => source.id)), fresh);
  if (briefing === undefined) {
    const failed = state.searches.filter((search) => search.isError).length;
    return text(
      `No guideline passage was retrieved for patient ${record.id} (${state.searches.length} search${state.searches.length === 1 ? '' : 'es'}, ${failed} failed), ` +
        'so I cannot write a briefing: every recommendation must cite a retrieved source.',
    );
  }
  if (!mayCall(request, SUBMIT_TOOL_NAME)) return text(`The briefing for patient ${record.id} is ready, but ${SUBMIT_TOOL_NAME} is not available in this turn.`);
  const cited = new Set(briefing.recommendations.flatMap((item) => item.citations));
  return {
    blocks: [
      {
        type: 'text',
        text:
          state.repairRequest === undefined
            ? `Submitting the briefing for patient ${record.id}: ${briefing.recommendations.length} recommendations citing ${cited.size} sources.`
            : `Resubmitting the briefing for patient ${record.id} with the rejected parts removed.`,
      },
      { type: 'tool_call', id: callId(), name: SUBMIT_TOOL_NAME, input: briefing },
    ],
  };
}

/**
 * Outside the briefing protocol the model has nothing to reason about, but a request that forces
 * a tool (`toolChoice: 'any'` or `{ name }`) still gets a call: the named (or first) tool, with the
 * last user text in each required string field of its input schema.
 */
function forcedToolCall(request: GenerateRequest, id: string): ToolCallBlock | undefined {
  const choice = request.toolChoice;
  if (choice !== 'any' && typeof choice !== 'object') return undefined;
  const tool = typeof choice === 'object' ? request.tools.find((definition) => definition.name === choice.name) : request.tools[0];
  if (tool === undefined) return undefined;
  const lastText =
    request.messages
      .filter((message) => message.role === 'user')
      .flatMap((message) => message.content.flatMap((block) => (block.type === 'text' ? [block.text.trim()] : [])))
      .findLast((value) => value.length > 0) ?? 'clinical guidance';
  const schema = tool.inputSchema as { properties?: Record<string, { type?: unknown }>; required?: unknown };
  const properties = schema.properties ?? {};
  const required = Array.isArray(schema.required) ? schema.required.filter((name): name is string => typeof name === 'string') : Object.keys(properties);
  const input: Record<string, unknown> = {};
  for (const name of required) if (properties[name]?.type === 'string') input[name] = lastText.slice(0, 500);
  return { type: 'tool_call', id, name: tool.name, input };
}

/** Whether the request offers the tool and its `toolChoice` allows calling it. */
function mayCall(request: GenerateRequest, tool: string): boolean {
  const choice = request.toolChoice;
  if (choice === 'none') return false;
  if (typeof choice === 'object' && choice.name !== tool) return false;
  return request.tools.some((definition) => definition.name === tool);
}

function resolveLatency(latency: OfflineModelOptions['latencyMs']): { perTurnMs: number; jitterMs: number } {
  if (latency === undefined) return { perTurnMs: 0, jitterMs: 0 };
  if (typeof latency === 'number') {
    checkDelay('latencyMs', latency);
    return { perTurnMs: latency, jitterMs: 0 };
  }
  if (typeof latency !== 'object' || latency === null) throw invalid('latencyMs', 'a number or { perTurnMs, jitterMs? }', latency);
  checkDelay('latencyMs.perTurnMs', latency.perTurnMs);
  const jitterMs = latency.jitterMs ?? 0;
  checkDelay('latencyMs.jitterMs', jitterMs);
  return { perTurnMs: latency.perTurnMs, jitterMs };
}

function checkDelay(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_TIMER_MS) {
    throw invalid(name, `a non-negative number of milliseconds up to ${MAX_TIMER_MS}`, value);
  }
}

function invalid(name: string, expected: string, value: unknown): TypeError {
  return new TypeError(`Expected \`${name}\` to be ${expected}, got \`${String(value)}\` (${typeof value})`);
}

/** A number in [0, 1) from the seed and the conversation: FNV-1a over both. */
function unitInterval(seed: number, request: GenerateRequest): number {
  let hash = 0x811c9dc5 ^ (Math.trunc(seed) >>> 0);
  const text = JSON.stringify(request.messages);
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) / 2 ** 32;
}
