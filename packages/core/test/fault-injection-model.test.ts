// Fault injection: a model that answers malformed output. Each kind of mistake is reported back to
// the model once (as an isError tool_result answering the faulty call), a repeat fails the briefing
// with INVALID_OUTPUT, and nothing ever crashes: no unhandled rejection, nothing left in flight.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ToolCallBlock } from '../src/contracts/chat-model.ts';
import type { PatientBriefing } from '../src/contracts/patient-briefing.ts';
import { AidocError } from '../src/errors/aidoc-error.ts';
import { resetPools } from '../src/executor/pool-registry.ts';
import { createBriefingPipeline } from '../src/pipelines/briefing-pipeline.ts';
import {
  createGuidelineVectorStore,
  createMockChatModel,
  createMockEmbedder,
  createMockPatientRepository,
  exampleBriefing,
  examplePatientRecord,
  searchCall,
  submitCall,
  type MockTurn,
} from '../src/testing/index.ts';

const DIMENSIONS = 16;

let unhandled: unknown[] = [];
const onUnhandledRejection = (reason: unknown): void => {
  unhandled.push(reason);
};

beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandledRejection);
});

afterEach(() => {
  process.off('unhandledRejection', onUnhandledRejection);
  resetPools();
});

/** Lets any promise rejected without a handler be reported (Node checks after the microtask queue drains). */
async function settleUnhandled(): Promise<void> {
  await sleep(20);
  await sleep(0);
}

function setup(turns: MockTurn[]) {
  const patients = createMockPatientRepository({ records: [examplePatientRecord('1')] });
  const vectorStore = createGuidelineVectorStore({ dimensions: DIMENSIONS });
  const embedder = createMockEmbedder({ dimensions: DIMENSIONS });
  const model = createMockChatModel({ turns });
  const pipeline = createBriefingPipeline({ patients, embedder, vectorStore, model, collection: 'guidelines' });
  const pending = () => patients.pending + vectorStore.pending + embedder.pending + model.pending;
  return { pipeline, model, pending };
}

/** A briefing missing required fields, with a field of the wrong type. */
const invalidBriefing = { patientId: '1', summary: 42, recommendations: 'reduce metformin' } as unknown as PatientBriefing;

interface Mistake {
  readonly name: string;
  /** The faulty call, under the given id. */
  readonly call: (id: string) => ToolCallBlock;
  /** What the feedback to the model must mention. */
  readonly feedback: RegExp;
}

const mistakes: Mistake[] = [
  {
    name: 'malformed tool input',
    call: (id) => ({ type: 'tool_call', id, name: 'search_guidelines', input: { query: 7, limit: 'many' } }),
    feedback: /query/,
  },
  {
    name: 'an unknown tool name',
    call: (id) => ({ type: 'tool_call', id, name: 'delete_patient_records', input: { patientId: '1' } }),
    feedback: /Unknown tool "delete_patient_records"/,
  },
  {
    name: 'an invalid final briefing',
    call: (id) => submitCall(id, invalidBriefing),
    feedback: /summary|recommendations|keyConcerns/,
  },
];

describe('fault injection: malformed model output', () => {
  for (const mistake of mistakes) {
    it(`reports ${mistake.name} to the model once, and the briefing recovers`, async () => {
      const { pipeline, model, pending } = setup([
        { content: [mistake.call('bad-1')] },
        { content: [searchCall('s1', 'metformin dose with low eGFR')] },
        { content: [submitCall('submit', exampleBriefing('1', ['S1']))] },
      ]);

      const result = await pipeline.brief('1');

      expect(result.briefing.patientId).toBe('1');
      expect(result.usage.modelTurns).toBe(3);
      expect(model.requests).toHaveLength(3);
      // The second request answers the faulty call with exactly one isError tool_result.
      const feedback = model.requests[1]!.messages.at(-1)!.content;
      expect(feedback).toHaveLength(1);
      expect(feedback[0]).toMatchObject({ type: 'tool_result', toolCallId: 'bad-1', isError: true });
      expect(feedback[0]!.type === 'tool_result' ? feedback[0]!.content : '').toMatch(mistake.feedback);
      // The recovered search's result is not an error.
      expect(model.requests[2]!.messages.at(-1)!.content[0]).toMatchObject({ type: 'tool_result', toolCallId: 's1' });
      expect(model.requests[2]!.messages.at(-1)!.content[0]).not.toMatchObject({ isError: true });
      await settleUnhandled();
      expect(unhandled).toEqual([]);
      expect(pending()).toBe(0);
    });

    it(`fails with INVALID_OUTPUT when ${mistake.name} is repeated, without crashing`, async () => {
      const { pipeline, model, pending } = setup([
        { content: [mistake.call('bad-1')] },
        { content: [mistake.call('bad-2')] },
        { content: [submitCall('submit', exampleBriefing('1', ['S1']))] },
      ]);

      const error = await pipeline.brief('1').then(
        () => undefined,
        (caught: unknown) => caught,
      );

      expect(AidocError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ code: 'INVALID_OUTPUT', retryable: false });
      // Reported once (request 2 carries the feedback), then the repeat ends the run: no third turn.
      expect(model.requests).toHaveLength(2);
      expect(model.requests[1]!.messages.at(-1)!.content[0]).toMatchObject({ type: 'tool_result', toolCallId: 'bad-1', isError: true });
      await settleUnhandled();
      expect(unhandled).toEqual([]);
      expect(pending()).toBe(0);
    });
  }

  it('survives a stream of the same mistakes: the error is an event, never an unhandled rejection', async () => {
    const { pipeline, pending } = setup([{ content: [mistakes[1]!.call('bad-1')] }, { content: [mistakes[0]!.call('bad-2')] }]);
    const events = [];
    for await (const event of pipeline.stream('1')) events.push(event);
    expect(events.at(-1)).toMatchObject({ type: 'error', code: 'INVALID_OUTPUT' });
    expect(events.filter((event) => event.type === 'error')).toHaveLength(1);
    await settleUnhandled();
    expect(unhandled).toEqual([]);
    expect(pending()).toBe(0);
  });
});
