import {
  PatientRecordSchema,
  SEARCH_TOOL_NAME,
  SUBMIT_TOOL_NAME,
  memoiseText,
  parsePatientRecord,
  type ChatMessage,
  type PatientRecord,
  type ToolCallBlock,
  type ToolResultBlock,
} from '@aidoc/core';
import { deepFreeze } from './deep-freeze.ts';
import type { RetrievedEvidence } from './offline-briefing-writer.ts';
import { readSources, type ParsedSource } from './offline-sources.ts';

/** Where the briefing conversation stands, read from its messages. */
export interface ConversationState {
  /** The patient record of the first user message that holds one. */
  readonly record: PatientRecord | undefined;
  /** Why there is no record: none found, or it fails the schema. */
  readonly recordProblem: string | undefined;
  /** Every `search_guidelines` result so far (failed searches included, with no sources). */
  readonly searches: readonly { readonly query: string | undefined; readonly isError: boolean; readonly sources: readonly ParsedSource[] }[];
  /** Set when the last message answers a `submit_briefing` call with an error: a repair request. */
  readonly repairRequest: { readonly submitted: unknown; readonly errorText: string } | undefined;
  /** True when a `submit_briefing` call was answered without error. */
  readonly accepted: boolean;
  /** How many tool calls the conversation holds, so new call ids stay unique. */
  readonly toolCallCount: number;
}

/**
 * Reads the conversation. Pure: the same messages give the same state.
 * The record and each tool result are read once per distinct text and remembered.
 */
export function readConversation(messages: readonly ChatMessage[]): ConversationState {
  const calls = new Map<string, ToolCallBlock>();
  const results: ToolResultBlock[] = [];
  for (const message of messages) {
    for (const block of message.content) {
      if (block.type === 'tool_call') calls.set(block.id, block);
      else if (block.type === 'tool_result') results.push(block);
    }
  }
  const { record, recordProblem } = findRecord(messages);
  const searches = results
    .filter((result) => {
      const name = calls.get(result.toolCallId)?.name;
      // A result whose call is unknown still counts when it looks like search results.
      return name === SEARCH_TOOL_NAME || (name === undefined && result.content.includes('<search_results'));
    })
    .map((result) => ({
      query: queryOf(calls.get(result.toolCallId)),
      isError: result.isError === true,
      sources: result.isError === true ? [] : sourcesOf(result.content),
    }));
  const last = messages.at(-1);
  const submitError =
    last?.role === 'user'
      ? last.content.find(
          (block): block is ToolResultBlock => block.type === 'tool_result' && block.isError === true && calls.get(block.toolCallId)?.name === SUBMIT_TOOL_NAME,
        )
      : undefined;
  return {
    record,
    recordProblem,
    searches,
    repairRequest: submitError === undefined ? undefined : { submitted: calls.get(submitError.toolCallId)?.input, errorText: submitError.content },
    accepted: results.some((result) => result.isError !== true && calls.get(result.toolCallId)?.name === SUBMIT_TOOL_NAME),
    toolCallCount: calls.size,
  };
}

/** Groups the sources of the successful searches by query and lists each source id once. */
export function collectEvidence(state: ConversationState): RetrievedEvidence {
  const byQuery = new Map<string, ParsedSource[]>();
  const byId = new Map<string, ParsedSource>();
  for (const search of state.searches) {
    for (const source of search.sources) if (!byId.has(source.id)) byId.set(source.id, source);
    if (search.query === undefined) continue;
    byQuery.set(search.query, [...(byQuery.get(search.query) ?? []), ...search.sources]);
  }
  return { byQuery, all: [...byId.values()] };
}

function queryOf(call: ToolCallBlock | undefined): string | undefined {
  const input = call?.input;
  return typeof input === 'object' && input !== null && 'query' in input && typeof input.query === 'string' ? input.query : undefined;
}

function findRecord(messages: readonly ChatMessage[]): RecordReading {
  for (const message of messages) {
    if (message.role !== 'user') continue;
    const reading = readRecord(message);
    if (reading !== undefined) return reading;
  }
  return { record: undefined, recordProblem: 'no <patient_record> element was found in the user messages' };
}

interface RecordReading {
  readonly record: PatientRecord | undefined;
  readonly recordProblem: string | undefined;
}

/** What a text that holds no `<patient_record>` reads as (memoised results cannot be undefined). */
const NO_RECORD: RecordReading = { record: undefined, recordProblem: undefined };
/** Records remembered by text (the oldest dropped first past this). */
const MAX_RECORDS = 256;

/**
 * The reading of a message text. The turns of one conversation send the same text again, and
 * briefings on the same patient send equal texts: each distinct text is parsed and validated once.
 */
const readRecordText: (text: string) => RecordReading = memoiseText((text) => parseRecord(text) ?? NO_RECORD, MAX_RECORDS);

/** The record of one user message (or why it is unusable); undefined when it holds none. */
function readRecord(message: ChatMessage): RecordReading | undefined {
  const reading = readRecordText(userText(message));
  return reading === NO_RECORD ? undefined : reading;
}

/** The message's text blocks joined by newlines ('' when it has none). */
function userText(message: ChatMessage): string {
  let text: string | undefined;
  for (const block of message.content) if (block.type === 'text') text = text === undefined ? block.text : `${text}\n${block.text}`;
  return text ?? '';
}

function parseRecord(text: string): RecordReading | undefined {
  if (!text.includes('<patient_record')) return undefined;
  let data: unknown;
  try {
    data = parsePatientRecord(text);
  } catch {
    return { record: undefined, recordProblem: 'the <patient_record> element does not hold valid JSON' };
  }
  if (data === undefined) return undefined;
  // The record is untrusted text from the conversation: validated, once per message.
  const parsed = PatientRecordSchema.safeParse(data);
  // Shared by every conversation that sends this text: frozen, so no reader can change it for the others.
  if (parsed.success) return { record: deepFreeze(parsed.data), recordProblem: undefined };
  const issue = parsed.error.issues[0];
  return { record: undefined, recordProblem: `the patient record does not match the schema at ${issue?.path.map(String).join('.') || '(root)'}` };
}

/** Search results remembered by text (the oldest dropped first past this). */
const MAX_RESULTS = 1024;

/**
 * The sources of a successful search result. Every turn after a search sends its result again,
 * and briefings asking the same question get the same text back: each distinct text is read once.
 */
const sourcesOf: (content: string) => readonly ParsedSource[] = memoiseText(readSources, MAX_RESULTS);
