import { randomUUID } from 'node:crypto';
import type { ToolCallBlock } from '../contracts/chat-model.ts';
import type { PatientBriefing } from '../contracts/patient-briefing.ts';
import type { VectorPoint } from '../contracts/vector-store.ts';
import { hashEmbedding } from './hash-embedding.ts';
import type { MockTurn, MockTurnFunction } from './mock-chat-model.ts';
import { createMockVectorStore, type MockVectorStore, type MockVectorStoreOptions } from './mock-vector-store.ts';

/** Three short guideline passages, enough for a briefing to search and cite. */
export const EXAMPLE_GUIDELINE_PASSAGES = [
  { title: 'CKD drug dosing', section: 'Metformin', text: 'Reduce the metformin dose when eGFR falls below 45 and stop it below 30.' },
  { title: 'Type 2 diabetes', section: 'Targets', text: 'Aim for an HbA1c around 7% in most adults with type 2 diabetes.' },
  { title: 'Hypertension', section: 'ACE inhibitors', text: 'Check potassium and creatinine within two weeks of starting an ACE inhibitor.' },
] as const;

/** The passages as points (vectors from `hashEmbedding`, so a mock embedder's queries find them). */
export function exampleGuidelinePoints(dimensions: number): VectorPoint[] {
  return EXAMPLE_GUIDELINE_PASSAGES.map((passage) => ({
    id: randomUUID(),
    vector: hashEmbedding(passage.text, dimensions),
    payload: { ...passage, source: `${passage.title}.md` },
  }));
}

/** A mock vector store whose `collection` (default `guidelines`) holds the example passages. */
export function createGuidelineVectorStore(
  options: MockVectorStoreOptions & { readonly dimensions: number; readonly collection?: string; readonly empty?: boolean },
): MockVectorStore {
  const { dimensions, collection = 'guidelines', empty = false, ...storeOptions } = options;
  return createMockVectorStore({ ...storeOptions, collections: { [collection]: { dimensions, points: empty ? [] : exampleGuidelinePoints(dimensions) } } });
}

/** A valid briefing for `patientId` whose recommendation and medication review cite `citations`. */
export function exampleBriefing(patientId: string, citations: readonly string[] = ['S1']): PatientBriefing {
  return {
    patientId,
    summary: 'Type 2 diabetes with chronic kidney disease, stage 3.',
    keyConcerns: [{ concern: 'Falling eGFR on metformin', evidence: 'eGFR 38', severity: 'high' }],
    medicationReview: [{ medication: 'Metformin', assessment: 'Dose too high for eGFR 38', action: 'adjust', citations: citations.slice(0, 1) }],
    recommendations: [{ recommendation: 'Reduce metformin', rationale: 'eGFR below 45', citations: [...citations] }],
    followUps: [{ action: 'Repeat eGFR', timeframe: '3 months' }],
  };
}

export const searchCall = (id: string, query: string, limit = 2): ToolCallBlock => ({ type: 'tool_call', id, name: 'search_guidelines', input: { query, limit } });
export const submitCall = (id: string, briefing: PatientBriefing): ToolCallBlock => ({ type: 'tool_call', id, name: 'submit_briefing', input: briefing });

/**
 * A briefing conversation for `createMockChatModel({ turns })`: the first turn searches (the given
 * queries, in one turn), the next submits `exampleBriefing` for the patient in the record, citing
 * S1. Works for any number of concurrent briefings (it reads each conversation, not a counter).
 */
export function scriptedBriefingTurns(
  queries: readonly string[] = ['metformin dose with low eGFR', 'HbA1c target type 2 diabetes'],
): MockTurnFunction {
  return (request): MockTurn => {
    if (request.messages.length === 1) {
      return { content: [{ type: 'text', text: 'Searching.' }, ...queries.map((query, index) => searchCall(`c${index + 1}`, query))] };
    }
    const first = request.messages[0]?.content[0];
    const patientId = /<patient_record id="(\d+)"/.exec(first?.type === 'text' ? first.text : '')?.[1] ?? '1';
    return { content: [submitCall('submit', exampleBriefing(patientId))] };
  };
}

/**
 * The event types a briefing over `scriptedBriefingTurns()` (two searches) yields, in order: what
 * `stream()` and an SSE endpoint built on it must emit.
 */
export const SCRIPTED_BRIEFING_EVENT_TYPES = [
  'patient_loaded',
  'turn_started',
  'text',
  'tool_call',
  'tool_call',
  'tool_result',
  'tool_result',
  'turn_started',
  'tool_call',
  'tool_result',
  'briefing',
  'done',
] as const;
