import type { ChatMessage, ChatModel, GenerateResult, ToolCallBlock, ToolResultBlock } from '../contracts/chat-model.ts';
import type { PatientBriefing } from '../contracts/patient-briefing.ts';
import type { PatientRecord } from '../contracts/patient-record.ts';
import { AidocError } from '../errors/aidoc-error.ts';
import { callUpstream, type CallPolicy } from '../executor/call-policy.ts';
import { takeCpuTurn } from '../executor/cpu-turns.ts';
import { gather } from '../executor/gather.ts';
import { withSpan } from '../tracing/trace-context.ts';
import type { BriefingEvent, BriefingUsage } from './briefing-events.ts';
import {
  BRIEFING_SYSTEM_PROMPT,
  SEARCH_TOOL_NAME,
  SUBMIT_TOOL_NAME,
  SearchInputSchema,
  searchToolDefinition,
  submitToolDefinition,
} from './briefing-protocol.ts';
import { citedSourceIds, validateBriefing } from './briefing-validation.ts';
import type { RunSearch } from './guideline-search.ts';
import { SourceRegistry } from './source-registry.ts';
import type { SearchResultTexts } from './search-result-texts.ts';
import { formatPatientRecord, type RetrievedSource } from './source-xml.ts';

export interface BriefingAgentOptions {
  readonly model: ChatModel;
  readonly modelPolicy: CallPolicy;
  /** Turns before giving up with MAX_TURNS_EXCEEDED. */
  readonly maxTurns: number;
  /** Output budget of one model turn. */
  readonly maxTokens: number;
  /** Formats search results for the model, one string per distinct result across the pipeline's runs. */
  readonly searchResultTexts: SearchResultTexts;
}

export interface BriefingAgentRun {
  readonly record: PatientRecord;
  readonly search: RunSearch;
  readonly signal: AbortSignal | undefined;
  readonly emit: (event: BriefingEvent) => void;
}

export interface BriefingAgentResult {
  readonly briefing: PatientBriefing;
  /** The sources the briefing cites, in first-cited order. */
  readonly sources: RetrievedSource[];
  readonly usage: BriefingUsage;
}

/** What one tool call produced: a result for the model, a protocol mistake, or the final briefing. */
interface ToolOutcome {
  readonly result: ToolResultBlock;
  /** The ids of the sources the result holds (none for an error). */
  readonly sourceIds?: readonly string[];
  readonly mistake?: string;
  readonly briefing?: PatientBriefing;
}

/**
 * The agent loop: turns against any ChatModel. Each turn's tool calls run concurrently (the
 * searches of a turn share one embedding call and one vector-store round trip); results go back
 * as XML-tagged sources with ids; the run ends when the model submits a briefing that passes the
 * schema and cites only retrieved sources. A protocol mistake (bad tool input, unknown tool,
 * invalid briefing, a turn without a tool call) is reported to the model once; a second one
 * fails with INVALID_OUTPUT. Running out of turns fails with MAX_TURNS_EXCEEDED.
 */
export async function runBriefingAgent(options: BriefingAgentOptions, run: BriefingAgentRun): Promise<BriefingAgentResult> {
  const { record, search, signal, emit } = run;
  const sources = new SourceRegistry();
  const messages: ChatMessage[] = [
    { role: 'user', content: [{ type: 'text', text: `Prepare a briefing for this patient.\n\n${formatPatientRecord(record)}` }] },
  ];
  const usage = { inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 0, cacheCreationInputTokens: 0, modelTurns: 0, toolCalls: 0 };
  let correctionsLeft = 1;
  const mistake = (issues: readonly string[]): void => {
    if (correctionsLeft-- > 0) return;
    throw new AidocError('INVALID_OUTPUT', `The model's output stayed invalid after one correction: ${issues.join('; ')}`, {
      details: { patientId: record.id, issues },
    });
  };

  for (let turn = 1; turn <= options.maxTurns; turn++) {
    emit({ type: 'turn_started', turn });
    // Building the request (and an in-process model's own work) is CPU: it takes its turn.
    await takeCpuTurn(signal);
    const result = await generate(options, messages, signal, (text) => emit({ type: 'text', turn, text }));
    usage.modelTurns++;
    usage.inputTokens += result.usage.inputTokens;
    usage.outputTokens += result.usage.outputTokens;
    usage.cacheReadInputTokens += result.usage.cacheReadInputTokens ?? 0;
    usage.cacheCreationInputTokens += result.usage.cacheCreationInputTokens ?? 0;
    messages.push({ role: 'assistant', content: result.content });

    const calls = result.content.filter((block): block is ToolCallBlock => block.type === 'tool_call');
    if (calls.length === 0) {
      const issue = `The turn ended (${result.stopReason}) without a tool call; call ${SEARCH_TOOL_NAME} or ${SUBMIT_TOOL_NAME}.`;
      mistake([issue]);
      messages.push({ role: 'user', content: [{ type: 'text', text: issue }] });
      continue;
    }
    for (const call of calls) emit({ type: 'tool_call', turn, id: call.id, name: call.name, input: call.input });
    usage.toolCalls += calls.length;

    // Searches first, all at once; a submission is judged against everything retrieved so far.
    const searches = calls.filter((call) => call.name !== SUBMIT_TOOL_NAME);
    const searchOutcomes = await gather(
      searches.map((call) => () => runTool(call, record, search, sources, options.searchResultTexts, signal)),
      { signal, trace: false },
    );
    const submissions = calls.filter((call) => call.name === SUBMIT_TOOL_NAME);
    const submissionOutcomes = submissions.map((call, index) =>
      index === 0 ? submit(call, record, sources) : rejected(call, `Only one ${SUBMIT_TOOL_NAME} call per turn is accepted.`),
    );
    const outcomes = [...searchOutcomes, ...submissionOutcomes];
    for (const outcome of outcomes) {
      const call = calls.find((candidate) => candidate.id === outcome.result.toolCallId)!;
      emit({ type: 'tool_result', turn, id: call.id, name: call.name, isError: outcome.result.isError === true, sourceIds: outcome.sourceIds ?? [] });
    }

    const final = outcomes.find((outcome) => outcome.briefing !== undefined)?.briefing;
    if (final !== undefined) {
      const cited = citedSourceIds(final).map((id) => sources.get(id)!);
      return { briefing: final, sources: cited, usage: { ...usage, ...search.counters } };
    }
    const mistakes = outcomes.flatMap((outcome) => (outcome.mistake === undefined ? [] : [outcome.mistake]));
    if (mistakes.length > 0) mistake(mistakes);
    // Results in call order, one per call, as the Messages API expects.
    const resultsByCall = new Map(outcomes.map((outcome) => [outcome.result.toolCallId, outcome.result]));
    messages.push({ role: 'user', content: calls.map((call) => resultsByCall.get(call.id)!) });
  }
  throw new AidocError('MAX_TURNS_EXCEEDED', `No briefing after ${options.maxTurns} model turns`, {
    details: { patientId: record.id, maxTurns: options.maxTurns },
  });
}

/** Built once: a template in the call would build a new string for every span. */
const SEARCH_SPAN_NAME = `tool: ${SEARCH_TOOL_NAME}`;

/** One array for every turn, so a model may cache per-request work on it by identity. */
const BRIEFING_TOOLS = [searchToolDefinition, submitToolDefinition] as const;

function generate(
  options: BriefingAgentOptions,
  messages: readonly ChatMessage[],
  signal: AbortSignal | undefined,
  onTextDelta: (text: string) => void,
): Promise<GenerateResult> {
  // The conversation grows after this call; the model (and a retry) must see this turn's copy.
  const snapshot = messages.slice();
  return callUpstream('model.generate', options.modelPolicy, signal, (attemptSignal) =>
    options.model.generate({
      system: BRIEFING_SYSTEM_PROMPT,
      messages: snapshot,
      tools: BRIEFING_TOOLS,
      toolChoice: 'auto',
      maxTokens: options.maxTokens,
      signal: attemptSignal,
      onTextDelta,
    }),
  );
}

async function runTool(
  call: ToolCallBlock,
  record: PatientRecord,
  search: RunSearch,
  sources: SourceRegistry,
  resultTexts: SearchResultTexts,
  signal: AbortSignal | undefined,
): Promise<ToolOutcome> {
  if (call.name !== SEARCH_TOOL_NAME) {
    return rejected(call, `Unknown tool "${call.name}". The tools are ${SEARCH_TOOL_NAME} and ${SUBMIT_TOOL_NAME}.`);
  }
  const input = SearchInputSchema.safeParse(call.input);
  if (!input.success) {
    return rejected(call, `Invalid ${SEARCH_TOOL_NAME} input: ${input.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ')}`);
  }
  const { query, limit } = input.data;
  return withSpan(
    SEARCH_SPAN_NAME,
    async (span) => {
      span?.setAttribute('query.length', query.length).setAttribute('patient.id', record.id);
      const hits = await search.search(query, limit, signal);
      const found = sources.add(hits);
      return {
        result: { type: 'tool_result', toolCallId: call.id, content: resultTexts.format(query, found) },
        sourceIds: found.map((source) => source.id),
      };
    },
    'internal',
  );
}

function submit(call: ToolCallBlock, record: PatientRecord, sources: SourceRegistry): ToolOutcome {
  const validation = validateBriefing(call.input, record.id, sources);
  if (validation.valid) {
    return { result: { type: 'tool_result', toolCallId: call.id, content: 'Briefing accepted.' }, briefing: validation.briefing };
  }
  return rejected(call, `The briefing was rejected. Fix these and call ${SUBMIT_TOOL_NAME} again: ${validation.issues.join('; ')}`);
}

function rejected(call: ToolCallBlock, message: string): ToolOutcome {
  return { result: { type: 'tool_result', toolCallId: call.id, content: message, isError: true }, mistake: message };
}
