import { AidocError } from '@aidoc/core';
import { testEmbedder } from '@aidoc/core/testing';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { startVertexLoopbackServer, vertexLoopbackEmbedding } from '@aidoc/loopback-servers';
import { LOCATION, live, loopbackEmbedder, requestsFor } from './support/loopback-embedder.ts';

const server = await startVertexLoopbackServer();
afterAll(() => server.close());

// Fault fixtures, one project each, so the suite's checks share one server.
server.injectFault({ type: 'rate-limited', retryAfterSeconds: 2, retryInfoSeconds: 2 }, { project: 'conformance-rate-limited' });
server.injectFault({ type: 'unavailable' }, { project: 'conformance-unavailable' });
server.injectFault({ type: 'hang' }, { project: 'conformance-hanging' });

testEmbedder({
  name: 'vertex (real client, loopback server)',
  create: () => loopbackEmbedder(server, 'conformance'),
  cleanup: (embedder) => embedder.close(),
  faults: {
    // The loopback 429 carries both a Retry-After header and a RetryInfo detail; gax exposes only the detail.
    rateLimited: { create: () => loopbackEmbedder(server, 'conformance-rate-limited'), retryAfterMs: 2000 },
    unavailable: () => loopbackEmbedder(server, 'conformance-unavailable'),
    hanging: () => loopbackEmbedder(server, 'conformance-hanging'),
  },
  upstreamCalls: () => server.requestCount,
});

const texts = [
  'Metformin is contraindicated when eGFR falls below 30.',
  'Annual retinal screening for adults with type 2 diabetes.',
  'Review a penicillin allergy label before prescribing a cephalosporin.',
  'Check potassium within two weeks of starting lisinopril.',
  'Inhaled corticosteroids are first-line maintenance for persistent asthma.',
];

/** `count` texts of exactly `tokens` tokens each by estimateTokens (3 characters a token, plus one). */
function textsOfTokens(count: number, tokens: number): string[] {
  return Array.from({ length: count }, (_, index) => `t${index} `.padEnd((tokens - 1) * 3, 'x'));
}

describe('createVertexEmbedder against the loopback server', () => {
  it('declares its capabilities', () => {
    const embedder = loopbackEmbedder(server, 'capabilities');
    expect(embedder).toMatchObject({
      specificationVersion: 'v1',
      provider: 'vertex',
      model: 'text-embedding-005',
      dimensions: 768,
      maxBatchSize: 250,
      maxTokensPerBatch: 20_000,
      supportsParallelCalls: true,
      endpoint: `projects/capabilities/locations/${LOCATION}/publishers/google/models/text-embedding-005`,
    });
    const gemini = loopbackEmbedder(server, 'capabilities', { model: 'gemini-embedding-001', outputDimensionality: 3072 });
    expect(gemini.maxBatchSize).toBe(1);
    expect(gemini.dimensions).toBe(3072);
  });

  it('sends each text with the task type of its kind, to the model resource, with outputDimensionality and autoTruncate', async () => {
    const embedder = loopbackEmbedder(server, 'wire');
    await embedder.embed(texts.slice(0, 2), { kind: 'query', signal: live() });
    await embedder.embed(texts.slice(2, 3), { kind: 'document', signal: live() });
    await embedder.close();
    const [query, document] = requestsFor(server, 'wire');
    expect(query).toMatchObject({
      method: 'POST',
      location: LOCATION,
      model: 'text-embedding-005',
      status: 200,
      body: {
        instances: [
          { content: texts[0], task_type: 'RETRIEVAL_QUERY' },
          { content: texts[1], task_type: 'RETRIEVAL_QUERY' },
        ],
        parameters: { autoTruncate: true, outputDimensionality: 768 },
      },
    });
    expect(query!.url).toMatch(/^\/v1\/projects\/wire\/locations\/us-central1\/publishers\/google\/models\/text-embedding-005:predict\?/);
    expect(document!.body).toMatchObject({ instances: [{ content: texts[2], task_type: 'RETRIEVAL_DOCUMENT' }] });
    // No credentials in tests: PassThroughClient sends no Authorization header.
    expect(query!.headers.authorization).toBeUndefined();
  });

  it('honours outputDimensionality and autoTruncate: false', async () => {
    const embedder = loopbackEmbedder(server, 'dimensions', { outputDimensionality: 256, autoTruncate: false });
    const [vector] = await embedder.embed([texts[0]!], { kind: 'document', signal: live() });
    await embedder.close();
    expect(embedder.dimensions).toBe(256);
    expect(vector).toHaveLength(256);
    expect(requestsFor(server, 'dimensions')[0]!.body).toMatchObject({ parameters: { autoTruncate: false, outputDimensionality: 256 } });
  });

  it('returns the values of each prediction, in the order of the texts', async () => {
    const embedder = loopbackEmbedder(server, 'order');
    const shuffled = [texts[3]!, texts[0]!, texts[4]!, texts[1]!, texts[2]!];
    const vectors = await embedder.embed(shuffled, { kind: 'document', signal: live() });
    await embedder.close();
    expect(vectors).toHaveLength(shuffled.length);
    vectors.forEach((vector, index) => {
      expect(vector).toBeInstanceOf(Float32Array);
      expect(Array.from(vector)).toEqual(Array.from(Float32Array.from(vertexLoopbackEmbedding(shuffled[index]!, 768))));
    });
  });

  it('answers an empty batch with [] and sends nothing', async () => {
    const embedder = loopbackEmbedder(server, 'empty');
    await expect(embedder.embed([], { kind: 'query', signal: live() })).resolves.toEqual([]);
    expect(requestsFor(server, 'empty')).toHaveLength(0);
  });

  it('rejects more than maxBatchSize texts with INVALID_INPUT before any request', async () => {
    const embedder = loopbackEmbedder(server, 'batch-limit');
    const batch = Array.from({ length: 251 }, (_, index) => `note ${index}`);
    const error = await embedder.embed(batch, { kind: 'document', signal: live() }).catch((caught: unknown) => caught);
    expect(AidocError.hasCode(error, 'INVALID_INPUT')).toBe(true);
    expect((error as AidocError).message).toMatch(/at most 250 text/);
    const gemini = loopbackEmbedder(server, 'batch-limit', { model: 'gemini-embedding-001' });
    await expect(gemini.embed(['a', 'b'], { kind: 'document', signal: live() })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(requestsFor(server, 'batch-limit')).toHaveLength(0);
  });

  it('sends a batch of exactly 20,000 estimated tokens and rejects one over it before any request', async () => {
    const embedder = loopbackEmbedder(server, 'token-budget');
    const atBudget = textsOfTokens(200, 100);
    await expect(embedder.embed(atBudget, { kind: 'document', signal: live() })).resolves.toHaveLength(200);
    const overBudget = textsOfTokens(201, 100);
    const error = await embedder.embed(overBudget, { kind: 'document', signal: live() }).catch((caught: unknown) => caught);
    await embedder.close();
    expect(AidocError.hasCode(error, 'INVALID_INPUT')).toBe(true);
    expect((error as AidocError).details).toMatchObject({ tokens: 20_100, maxTokensPerBatch: 20_000 });
    const sent = requestsFor(server, 'token-budget');
    expect(sent.map((request) => [request.instances, request.tokens])).toEqual([[200, 20_000]]);
  });

  it('lets the API truncate a text over 2,048 tokens with autoTruncate, and surfaces its refusal without', async () => {
    const long = textsOfTokens(1, 3000)[0]!;
    const truncating = loopbackEmbedder(server, 'long-text');
    await expect(truncating.embed([long], { kind: 'document', signal: live() })).resolves.toHaveLength(1);
    const strict = loopbackEmbedder(server, 'long-text', { autoTruncate: false });
    const error = await strict.embed([long], { kind: 'document', signal: live() }).catch((caught: unknown) => caught);
    await Promise.all([truncating.close(), strict.close()]);
    expect(AidocError.hasCode(error, 'INVALID_INPUT')).toBe(true);
    expect((error as AidocError).retryable).toBe(false);
    expect(requestsFor(server, 'long-text').map((request) => request.status)).toEqual([200, 400]);
  });

  it('aborting a call in flight rejects ABORTED at once and closes the HTTP request', async () => {
    server.injectFault({ type: 'hang' }, { project: 'abort' });
    const embedder = loopbackEmbedder(server, 'abort');
    const controller = new AbortController();
    const call = embedder.embed([texts[0]!], { kind: 'query', signal: controller.signal });
    await vi.waitFor(() => expect(requestsFor(server, 'abort')).toHaveLength(1));
    const started = performance.now();
    controller.abort();
    await expect(call).rejects.toMatchObject({ code: 'ABORTED', retryable: false });
    expect(performance.now() - started).toBeLessThan(200);
    await vi.waitFor(() => expect(requestsFor(server, 'abort')[0]!.closedByClient).toBe(true));
    await embedder.close();
  });

  it('rejects with the abort reason when it is an AidocError (a deadline set by core)', async () => {
    server.injectFault({ type: 'hang' }, { project: 'abort-reason' });
    const embedder = loopbackEmbedder(server, 'abort-reason');
    const controller = new AbortController();
    const call = embedder.embed([texts[0]!], { kind: 'query', signal: controller.signal });
    await vi.waitFor(() => expect(requestsFor(server, 'abort-reason')).toHaveLength(1));
    const reason = new AidocError('TIMEOUT', 'embed took longer than 50 ms');
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    await embedder.close();
  });

  describe('a response that breaks the contract is INVALID_OUTPUT', () => {
    const filled = (length: number): number[] => Array.from({ length }, () => 0.1);
    const prediction = (values: unknown): unknown => ({ embeddings: { values, statistics: { truncated: false, token_count: 3 } } });
    const cases: Array<[string, unknown]> = [
      ['fewer predictions than texts', { predictions: [prediction(filled(768))] }],
      ['more predictions than texts', { predictions: [1, 2, 3].map(() => prediction(filled(768))) }],
      ['no predictions', {}],
      ['a vector of the wrong length', { predictions: [prediction(filled(768)), prediction(filled(767))] }],
      ['a value that is not a number', { predictions: [prediction(filled(768)), prediction([...filled(767), 'x'])] }],
      ['a prediction without embeddings', { predictions: [prediction(filled(768)), { values: [] }] }],
    ];
    for (const [name, body] of cases) {
      it(name, async () => {
        const project = `invalid-output-${name.replaceAll(' ', '-')}`;
        server.injectFault({ type: 'reply', body }, { project });
        const embedder = loopbackEmbedder(server, project);
        const error = await embedder.embed(texts.slice(0, 2), { kind: 'document', signal: live() }).catch((caught: unknown) => caught);
        await embedder.close();
        expect(AidocError.hasCode(error, 'INVALID_OUTPUT'), String(error)).toBe(true);
      });
    }
  });
});
