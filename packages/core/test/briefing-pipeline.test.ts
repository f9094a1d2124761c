import { describe, expect, it, vi } from 'vitest';
import { AidocError } from '../src/errors/aidoc-error.ts';
import type { BriefingEvent } from '../src/agent/briefing-events.ts';
import { createBriefingPipeline, type BriefingPipelineOptions } from '../src/pipelines/briefing-pipeline.ts';
import {
  createMockChatModel,
  createMockEmbedder,
  createMockPatientRepository,
  SCRIPTED_BRIEFING_EVENT_TYPES,
  createGuidelineVectorStore,
  exampleBriefing,
  exampleGuidelinePoints,
  examplePatientRecord,
  searchCall,
  submitCall,
  type MockChatModel,
  type MockEmbedder,
  type MockPatientRepository,
  type MockTurn,
  type MockVectorStore,
} from '../src/testing/index.ts';

const DIMENSIONS = 32;

function seededStore(options: { supportsQueryBatch?: boolean; latencyMs?: number } = {}) {
  return createGuidelineVectorStore({ dimensions: DIMENSIONS, supportsQueryBatch: options.supportsQueryBatch ?? true, latency: { fixedMs: options.latencyMs ?? 0 } });
}

const search = (id: string, query: string) => searchCall(id, query);
const submit = submitCall;
const briefingCiting = (...citations: string[]) => exampleBriefing('1', citations);

const twoSearchesThenSubmit: MockTurn[] = [
  { content: [{ type: 'text', text: 'Searching.' }, search('c1', 'metformin dose with low eGFR'), search('c2', 'HbA1c target type 2 diabetes')] },
  { content: [submit('c3', briefingCiting('S1'))] },
];

interface Overrides extends Partial<Pick<BriefingPipelineOptions, 'collection' | 'maxTurns' | 'collectionCheckTtlMs'>> {
  readonly patients?: MockPatientRepository;
  readonly embedder?: MockEmbedder;
  readonly vectorStore?: MockVectorStore;
  readonly model?: MockChatModel;
  readonly turns?: MockTurn[];
}

function pipelineWith(overrides: Overrides = {}) {
  const patients = createMockPatientRepository({ records: [examplePatientRecord('1')], latency: { fixedMs: 20 } });
  const embedder = createMockEmbedder({ dimensions: DIMENSIONS });
  const vectorStore = seededStore();
  const model = createMockChatModel({ turns: overrides.turns ?? twoSearchesThenSubmit });
  const { turns: _turns, ...adapterOverrides } = overrides;
  const options = { patients, embedder, vectorStore, model, collection: 'guidelines', ...adapterOverrides };
  return { pipeline: createBriefingPipeline(options), ...options, options };
}

describe('createBriefingPipeline', () => {
  it('returns a validated, cited briefing; a turn of two searches costs 2 upstream round trips', async () => {
    const { pipeline, embedder, vectorStore, model } = pipelineWith();
    const result = await pipeline.brief('1');
    expect(result.briefing.recommendations[0]!.citations).toEqual(['S1']);
    expect(result.sources.map((source) => source.id)).toEqual(['S1']);
    expect(result.sources[0]!.text.length).toBeGreaterThan(0);
    expect(embedder.calls).toHaveLength(1);
    expect(embedder.calls[0]!.input.texts).toHaveLength(2);
    expect(vectorStore.calls.filter((call) => call.method === 'queryBatch')).toHaveLength(1);
    expect(result.usage).toMatchObject({ modelTurns: 2, toolCalls: 3, embeddingCalls: 1, vectorStoreCalls: 1 });
    // The second turn saw both results, as XML-tagged sources, answering the right calls.
    const results = model.requests[1]!.messages.at(-1)!.content;
    expect(results.map((block) => (block.type === 'tool_result' ? block.toolCallId : block.type))).toEqual(['c1', 'c2']);
    expect(results[0]!.type === 'tool_result' && results[0]!.content).toMatch(/<source id="S1" document="[^"]+"/);
  });

  it('fetches the patient and the collection info concurrently, and traces every upstream call', async () => {
    const { pipeline } = pipelineWith({ vectorStore: seededStore({ latencyMs: 20 }) });
    const { trace } = await pipeline.brief('1');
    const span = (name: string) => trace.spans.find((candidate) => candidate.name === name)!;
    expect(span('vectorStore.info').start).toBeLessThan(span('patients.getById').end!);
    expect(span('patients.getById').start).toBeLessThan(span('vectorStore.info').end!);
    expect(trace.spans.filter((candidate) => candidate.name === 'model.generate')).toHaveLength(2);
    expect(trace.spans.some((candidate) => candidate.name === 'embedder.embed')).toBe(true);
    expect(trace.spans.every((candidate) => candidate.status === 'ok')).toBe(true);
  });

  it('falls back to parallel queries when the store has no queryBatch', async () => {
    const { pipeline, vectorStore } = pipelineWith({ vectorStore: seededStore({ supportsQueryBatch: false }) });
    const { usage } = await pipeline.brief('1');
    expect(vectorStore.calls.filter((call) => call.method === 'query')).toHaveLength(2);
    expect(usage.vectorStoreCalls).toBe(2);
  });

  it('rejects an unknown patient with NOT_FOUND and a malformed id with INVALID_INPUT before any I/O', async () => {
    const { pipeline, patients } = pipelineWith();
    await expect(pipeline.brief('999')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const callsBefore = patients.calls.length;
    await expect(pipeline.brief("1' OR '1'='1")).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(patients.calls).toHaveLength(callsBefore);
  });

  it('tells the user to run ingestion when the collection is missing or empty', async () => {
    const missing = pipelineWith({ collection: 'nowhere' });
    await expect(missing.pipeline.brief('1')).rejects.toMatchObject({ code: 'COLLECTION_EMPTY', message: expect.stringContaining('run ingestion') as string });
    const emptyStore = createGuidelineVectorStore({ dimensions: DIMENSIONS, empty: true });
    const empty = pipelineWith({ vectorStore: emptyStore });
    await expect(empty.pipeline.brief('1')).rejects.toMatchObject({ code: 'COLLECTION_EMPTY', message: expect.stringContaining('empty') as string });
  });

  it('asks the vector store whether the collection is ready once per collectionCheckTtlMs, with concurrent briefings sharing one call', async () => {
    const model = createMockChatModel({ turns: (request) => twoSearchesThenSubmit[request.messages.length === 1 ? 0 : 1]! });
    const infoCalls = (store: ReturnType<typeof seededStore>) => store.calls.filter((call) => call.method === 'info').length;
    const cached = pipelineWith({ model, vectorStore: seededStore({ latencyMs: 5 }) });
    await Promise.all([cached.pipeline.brief('1'), cached.pipeline.brief('1'), cached.pipeline.brief('1')]);
    await cached.pipeline.brief('1');
    expect(infoCalls(cached.vectorStore)).toBe(1);

    const unCached = pipelineWith({ model, vectorStore: seededStore(), collectionCheckTtlMs: 0 });
    await unCached.pipeline.brief('1');
    await unCached.pipeline.brief('1');
    expect(infoCalls(unCached.vectorStore)).toBe(2);
    expect(() => pipelineWith({ collectionCheckTtlMs: -1 })).toThrow(TypeError);
  });

  it('never remembers a missing collection: the first briefing after ingestion succeeds', async () => {
    const store = createGuidelineVectorStore({ dimensions: DIMENSIONS, empty: true });
    const model = createMockChatModel({ turns: (request) => twoSearchesThenSubmit[request.messages.length === 1 ? 0 : 1]! });
    const { pipeline } = pipelineWith({ vectorStore: store, model });
    await expect(pipeline.brief('1')).rejects.toMatchObject({ code: 'COLLECTION_EMPTY' });
    await store.upsert('guidelines', exampleGuidelinePoints(DIMENSIONS));
    await expect(pipeline.brief('1')).resolves.toHaveProperty('briefing');
  });

  it('rejects citations of sources that were not retrieved, allows one repair, then fails with INVALID_OUTPUT', async () => {
    const repaired = pipelineWith({ turns: [twoSearchesThenSubmit[0]!, { content: [submit('c3', briefingCiting('S1', 'S99'))] }, { content: [submit('c4', briefingCiting('S2'))] }] });
    const result = await repaired.pipeline.brief('1');
    expect(result.briefing.recommendations[0]!.citations).toEqual(['S2']);
    const feedback = repaired.model.requests[2]!.messages.at(-1)!.content[0]!;
    expect(feedback).toMatchObject({ type: 'tool_result', toolCallId: 'c3', isError: true });
    expect(feedback.type === 'tool_result' && feedback.content).toContain('"S99" is not a source retrieved');

    const stubborn = pipelineWith({
      turns: [twoSearchesThenSubmit[0]!, { content: [submit('c3', briefingCiting('S99'))] }, { content: [submit('c4', briefingCiting('S42'))] }],
    });
    await expect(stubborn.pipeline.brief('1')).rejects.toMatchObject({ code: 'INVALID_OUTPUT' });
  });

  it('reports an unknown tool and malformed tool input to the model once, then fails', async () => {
    const once = pipelineWith({
      turns: [
        { content: [{ type: 'tool_call', id: 'x1', name: 'delete_records', input: {} }] },
        twoSearchesThenSubmit[0]!,
        twoSearchesThenSubmit[1]!,
      ],
    });
    await expect(once.pipeline.brief('1')).resolves.toMatchObject({ usage: { modelTurns: 3 } });
    const twice = pipelineWith({
      turns: [
        { content: [{ type: 'tool_call', id: 'x1', name: 'delete_records', input: {} }] },
        { content: [{ type: 'tool_call', id: 'x2', name: 'search_guidelines', input: { query: 7 } }] },
      ],
    });
    await expect(twice.pipeline.brief('1')).rejects.toMatchObject({ code: 'INVALID_OUTPUT', message: expect.stringContaining('query') as string });
  });

  it('stops at maxTurns with MAX_TURNS_EXCEEDED', async () => {
    const searching: MockTurn = { content: [search('again', 'metformin')] };
    const { pipeline } = pipelineWith({ maxTurns: 3, turns: [searching, searching, searching, searching] });
    await expect(pipeline.brief('1')).rejects.toMatchObject({ code: 'MAX_TURNS_EXCEEDED' });
  });

  it('an aborted briefing stops every upstream call it started', async () => {
    const model = createMockChatModel({ turns: twoSearchesThenSubmit, latency: { fixedMs: 5_000 } });
    const { pipeline, patients, vectorStore, embedder } = pipelineWith({ model });
    const controller = new AbortController();
    const briefing = pipeline.brief('1', { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(model.pending).toBe(1);
    const abortedAt = performance.now();
    controller.abort();
    await expect(briefing).rejects.toMatchObject({ code: 'ABORTED' });
    expect(performance.now() - abortedAt).toBeLessThan(100);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(model.pending + patients.pending + vectorStore.pending + embedder.pending).toBe(0);
  });

  it('retries a rate-limited model turn after Retry-After', async () => {
    const { pipeline, model } = pipelineWith();
    model.failNext(new AidocError('RATE_LIMITED', '429', { retryAfterMs: 30 }));
    const startedAt = performance.now();
    await expect(pipeline.brief('1')).resolves.toBeDefined();
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(25);
    expect(model.calls.map((call) => call.outcome)).toEqual(['rejected', 'resolved', 'resolved']);
  });

  it('caches query embeddings and coalesces identical concurrent queries across briefings', async () => {
    const embedder = createMockEmbedder({ dimensions: DIMENSIONS, latency: { fixedMs: 30 } });
    // Each conversation: search first, submit once results are in.
    const model = createMockChatModel({ turns: (request) => twoSearchesThenSubmit[request.messages.length === 1 ? 0 : 1]! });
    const { pipeline } = pipelineWith({ embedder, model });
    await Promise.all([pipeline.brief('1'), pipeline.brief('1')]);
    const embeddedTexts = () => embedder.calls.flatMap((call) => call.input.texts);
    expect(embeddedTexts()).toHaveLength(2);
    await pipeline.brief('1');
    expect(embeddedTexts()).toHaveLength(2);
  });

  it('keeps a turn to one vector-store round trip when its embeddings come back from different calls', async () => {
    // Per-item latency: the first briefing's embedding call (three queries) returns after the
    // second's (one query), and the second briefing rides the first's call for one of its queries.
    const embedder = createMockEmbedder({ dimensions: DIMENSIONS, latency: { fixedMs: 5, perItemMs: 15 } });
    const vectorStore = seededStore();
    const turnsOf = (patientId: string, queries: string[]): MockTurn[] => [
      { content: queries.map((query, index) => search(`c${index + 1}`, query)) },
      { content: [submit('c9', exampleBriefing(patientId, ['S1']))] },
    ];
    const first = turnsOf('1', ['metformin dose with low eGFR', 'HbA1c target type 2 diabetes', 'statin intensity']);
    const second = turnsOf('2', ['metformin dose with low eGFR', 'blood pressure target']);
    const model = createMockChatModel({
      turns: (request) => {
        const turns = request.messages[0]!.content.some((block) => block.type === 'text' && block.text.includes('"id": "2"')) ? second : first;
        return turns[request.messages.length === 1 ? 0 : 1]!;
      },
    });
    const patients = createMockPatientRepository({ records: [examplePatientRecord('1'), examplePatientRecord('2')] });
    const { pipeline } = pipelineWith({ embedder, vectorStore, model, patients });
    const results = await Promise.all([pipeline.brief('1'), pipeline.brief('2')]);
    expect(embedder.calls.map((call) => call.input.texts.length).sort()).toEqual([1, 3]);
    const batches = vectorStore.calls.filter((call) => call.method === 'queryBatch');
    expect(batches.map((call) => call.input.queries.length).sort()).toEqual([2, 3]);
    expect(results.map((result) => result.usage.vectorStoreCalls)).toEqual([1, 1]);
  });

  it('formats a search result once for briefings that got the same passages, and a changed passage afresh', async () => {
    const model = createMockChatModel({ turns: (request) => twoSearchesThenSubmit[request.messages.length === 1 ? 0 : 1]! });
    const { pipeline, vectorStore } = pipelineWith({ model });
    await Promise.all([pipeline.brief('1'), pipeline.brief('1')]);
    const resultTexts = (request: (typeof model.requests)[number]) =>
      request.messages.at(-1)!.content.map((block) => (block.type === 'tool_result' ? block.content : ''));
    const [one, other] = model.requests.filter((request) => request.messages.length > 1).map(resultTexts);
    expect(one).toHaveLength(2);
    one!.forEach((text, index) => expect(text).toBe(other![index]));

    const point = vectorStore.storedPoints('guidelines')!.find((candidate) => one![0]!.includes(`${candidate.payload.text as string}`))!;
    await vectorStore.upsert('guidelines', [{ ...point, payload: { ...point.payload, text: 'Revised: halve the dose below eGFR 45.' } }]);
    await pipeline.brief('1');
    const revised = resultTexts(model.requests.at(-1)!);
    expect(revised[0]).toContain('Revised: halve the dose below eGFR 45.');
    expect(revised[0]).not.toBe(one![0]);
  });

  it('streams typed events in order, and a consumer that stops early aborts the run', async () => {
    const { pipeline } = pipelineWith();
    const events: BriefingEvent[] = [];
    for await (const event of pipeline.stream('1')) events.push(event);
    expect(events.map((event) => event.type)).toEqual([...SCRIPTED_BRIEFING_EVENT_TYPES]);
    const done = events.at(-1);
    expect(done?.type === 'done' && done.trace.spans.length).toBeGreaterThan(3);

    const slowModel = createMockChatModel({ turns: twoSearchesThenSubmit, latency: { fixedMs: 5_000 } });
    const slow = pipelineWith({ model: slowModel });
    for await (const event of slow.pipeline.stream('1')) {
      if (event.type !== 'turn_started') continue;
      // Stop while the model call is in flight.
      await vi.waitFor(() => expect(slowModel.pending).toBe(1));
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(slowModel.pending).toBe(0);
    expect(slowModel.calls[0]?.outcome).toBe('rejected');
  });

  it('streams an error event (and ends) instead of throwing', async () => {
    const { pipeline } = pipelineWith();
    const events: BriefingEvent[] = [];
    for await (const event of pipeline.stream('404')) events.push(event);
    expect(events).toEqual([{ type: 'error', code: 'NOT_FOUND', message: expect.any(String) as string, retryable: false }]);
  });

  it('refuses an adapter written for another contract version', () => {
    const { options } = pipelineWith();
    expect(() => createBriefingPipeline({ ...options, model: { ...options.model, specificationVersion: 'v9' as 'v1' } })).toThrow(/model adapter declares specificationVersion "v9"/);
  });
});
