import { randomUUID } from 'node:crypto';
import { createBriefingPipeline, type BriefingEvent, type PatientBriefing } from '@aidoc/core';
import { createMockEmbedder, createMockPatientRepository, createMockVectorStore, examplePatientRecord, hashEmbedding } from '@aidoc/core/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAnthropicModel } from '../src/index.ts';
import {
  startAnthropicLoopbackServer,
  type AnthropicLoopbackResponder,
  type AnthropicLoopbackServer,
} from '@aidoc/loopback-servers';

// The whole tool-use protocol end to end: core's briefing pipeline drives the real adapter and
// the real SDK over HTTP against a scripted Messages API; the other upstreams are core's mocks.

const DIMENSIONS = 32;
const GUIDELINES = [
  { title: 'CKD drug dosing', section: 'Metformin', text: 'Reduce the metformin dose when eGFR falls below 45 and stop it below 30.' },
  { title: 'Type 2 diabetes', section: 'Targets', text: 'Aim for an HbA1c around 7% in most adults with type 2 diabetes.' },
  { title: 'Hypertension', section: 'ACE inhibitors', text: 'Check potassium and creatinine within two weeks of starting an ACE inhibitor.' },
];
const PLANNING_TEXT = 'I will search the guidelines for both questions.';

function briefingCiting(citation: string): PatientBriefing {
  return {
    patientId: '1',
    summary: 'Adult with type 2 diabetes and reduced kidney function.',
    keyConcerns: [{ concern: 'Metformin with reduced eGFR', evidence: 'eGFR below 45', severity: 'high' }],
    medicationReview: [{ medication: 'Metformin', assessment: 'Dose needs review', action: 'adjust', citations: [citation] }],
    recommendations: [{ recommendation: 'Reduce the metformin dose', rationale: 'eGFR below 45', citations: [citation] }],
    followUps: [{ action: 'Repeat eGFR', timeframe: '3 months' }],
  };
}

/**
 * Until sources come back: two searches in parallel (with a sentence of text). Then: submit a
 * briefing citing the first source returned.
 */
const twoSearchesThenSubmit: AnthropicLoopbackResponder = (request) => {
  const last = request.messages.at(-1)!;
  const results = typeof last.content === 'string' ? [] : last.content.filter((block) => block.type === 'tool_result');
  const sourceIds = results.flatMap((result) => [...(typeof result.content === 'string' ? result.content : '').matchAll(/<source id="(S\d+)"/g)].map((match) => match[1]!));
  if (sourceIds.length === 0) {
    return {
      content: [
        { type: 'text', text: PLANNING_TEXT },
        { type: 'tool_use', name: 'search_guidelines', input: { query: 'metformin dose with low eGFR', limit: 2 } },
        { type: 'tool_use', name: 'search_guidelines', input: { query: 'HbA1c target in type 2 diabetes', limit: 2 } },
      ],
    };
  }
  return { content: [{ type: 'tool_use', name: 'submit_briefing', input: briefingCiting(sourceIds[0]!) }] };
};

function pipelineOn(server: AnthropicLoopbackServer, stream: boolean | undefined) {
  return createBriefingPipeline({
    patients: createMockPatientRepository({ records: [examplePatientRecord('1')] }),
    embedder: createMockEmbedder({ dimensions: DIMENSIONS }),
    vectorStore: createMockVectorStore({
      collections: {
        guidelines: {
          dimensions: DIMENSIONS,
          points: GUIDELINES.map((guideline) => ({
            id: randomUUID(),
            vector: hashEmbedding(guideline.text, DIMENSIONS),
            payload: { ...guideline, source: `${guideline.title}.md` },
          })),
        },
      },
    }),
    model: createAnthropicModel({ apiKey: 'pipeline-key', baseURL: server.url, ...(stream === undefined ? {} : { stream }) }),
    collection: 'guidelines',
    policies: { model: { pool: 'model', timeoutMs: 10_000, retry: { attempts: 3, baseDelayMs: 5 } } },
  });
}

let server: AnthropicLoopbackServer;
beforeAll(async () => {
  server = await startAnthropicLoopbackServer({ apiKey: 'pipeline-key', respond: twoSearchesThenSubmit });
});
afterAll(() => server.close());
beforeEach(() => {
  server.reset();
  server.setFault(undefined);
});

describe('createBriefingPipeline with the Anthropic adapter over the loopback Messages API', () => {
  for (const stream of [undefined, false]) {
    it(`runs two parallel searches, then submit_briefing, into a cited briefing (${stream === undefined ? 'streaming, the default with onTextDelta' : 'JSON'})`, async () => {
      const result = await pipelineOn(server, stream).brief('1');

      expect(result.briefing.recommendations[0]!.citations).toEqual(['S1']);
      expect(result.sources.map((source) => source.id)).toEqual(['S1']);
      expect(result.usage).toMatchObject({ modelTurns: 2, toolCalls: 3 });

      // Two turns reached the Messages API, streamed when the pipeline passed onTextDelta.
      const [first, second] = server.messageRequests;
      expect(server.messageRequests).toHaveLength(2);
      expect(server.requests.map((request) => request.stream)).toEqual([stream !== false, stream !== false]);
      expect(first!.tools!.map((tool) => tool.name)).toEqual(['search_guidelines', 'submit_briefing']);
      expect(first!.tools!.at(-1)!.cache_control).toEqual({ type: 'ephemeral' });
      expect(first!.tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: false });
      expect(first!.system).toEqual([expect.objectContaining({ type: 'text', cache_control: { type: 'ephemeral' } })]);

      // The second turn replays the first and answers both tool_use blocks, in order, in one user message.
      expect(second!.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
      const assistant = second!.messages[1]!.content as { type: string; id?: string; text?: string }[];
      expect(assistant.map((block) => block.type)).toEqual(['text', 'tool_use', 'tool_use']);
      expect(assistant[0]!.text).toBe(PLANNING_TEXT);
      const results = second!.messages[2]!.content as { type: string; tool_use_id?: string; content?: string; is_error?: boolean }[];
      expect(results.map((block) => [block.type, block.tool_use_id])).toEqual([
        ['tool_result', assistant[1]!.id],
        ['tool_result', assistant[2]!.id],
      ]);
      expect(results[0]!.content).toMatch(/<search_results query="metformin dose with low eGFR">\n<source id="S1"/);
      expect(results.some((block) => block.is_error === true)).toBe(false);

      // The second turn read tools and system from the (simulated) prompt cache.
      expect(result.usage.cacheCreationInputTokens).toBeGreaterThan(0);
      expect(result.usage.cacheReadInputTokens).toBeGreaterThan(0);
    });
  }

  it('streams the model text to the briefing events, turn by turn', async () => {
    const events: BriefingEvent[] = [];
    for await (const event of pipelineOn(server, undefined).stream('1')) events.push(event);
    const text = events.flatMap((event) => (event.type === 'text' ? [event] : []));
    expect(text.every((event) => event.turn === 1)).toBe(true);
    expect(text.map((event) => event.text).join('')).toBe(PLANNING_TEXT);
    expect(text.length).toBeGreaterThan(1);
    expect(events.at(-1)!.type).toBe('done');
  });

  it("recovers from a transient 529 by core's retry (the adapter itself never retries)", async () => {
    server.setFault({ type: 'overloaded', times: 1 });
    const result = await pipelineOn(server, undefined).brief('1');
    expect(result.briefing.recommendations).toHaveLength(1);
    expect(server.requests.map((request) => request.status)).toEqual([529, 200, 200]);
  });

  it('a bad tool input from the model goes back as an is_error tool_result the model can correct', async () => {
    let turn = 0;
    server.setResponder((request) => {
      turn++;
      if (turn === 1) return { content: [{ type: 'tool_use', name: 'search_guidelines', input: { query: '' } }] };
      return twoSearchesThenSubmit(request, { requestIndex: turn - 1, replyIndex: turn - 1, headers: {} });
    });
    const result = await pipelineOn(server, undefined).brief('1');
    expect(result.briefing.recommendations).toHaveLength(1);
    const correction = server.messageRequests[1]!.messages.at(-1)!.content;
    expect(correction).toEqual([expect.objectContaining({ type: 'tool_result', is_error: true })]);
    expect(server.messageRequests).toHaveLength(3);
  });
});
