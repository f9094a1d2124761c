// The loopback Vertex server on its own (plain fetch), and what the real client sends it.
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { startVertexLoopbackServer, vertexLoopbackEmbedding } from '@aidoc/loopback-servers';
import { live, loopbackEmbedder } from './support/loopback-embedder.ts';

const server = await startVertexLoopbackServer();
afterAll(() => server.close());
beforeEach(() => server.reset());

const predictPath = (model = 'text-embedding-005', project = 'p'): string => `/v1/projects/${project}/locations/us-central1/publishers/google/models/${model}:predict`;

/** The parts of a predict answer (or a Google error) the tests read. */
interface AnswerJson {
  readonly predictions?: Array<{ readonly embeddings: { readonly values: number[]; readonly statistics: unknown } }>;
  readonly metadata?: unknown;
  readonly error?: { readonly code: number; readonly status: string; readonly message: string; readonly details?: unknown[] };
}

async function post(body: unknown, path = predictPath()): Promise<{ status: number; headers: Headers; json: AnswerJson }> {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, json: (await response.json()) as AnswerJson };
}

const instance = (content: string, taskType = 'RETRIEVAL_DOCUMENT'): unknown => ({ content, task_type: taskType });
const cosine = (left: number[], right: number[]): number => left.reduce((sum, value, index) => sum + value * right[index]!, 0);

describe('startVertexLoopbackServer', () => {
  it('receives exactly what @google-cloud/aiplatform sends in REST fallback mode', async () => {
    const embedder = loopbackEmbedder(server, 'wire');
    await embedder.embed(['hello'], { kind: 'query', signal: live() });
    await embedder.close();
    const [request] = server.requests;
    expect(request).toMatchObject({
      method: 'POST',
      url: '/v1/projects/wire/locations/us-central1/publishers/google/models/text-embedding-005:predict?$alt=json%3Benum-encoding=int',
      project: 'wire',
      location: 'us-central1',
      model: 'text-embedding-005',
      instances: 1,
      status: 200,
      body: { instances: [{ content: 'hello', task_type: 'RETRIEVAL_QUERY' }], parameters: { autoTruncate: true, outputDimensionality: 768 }, labels: {} },
    });
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['x-goog-api-client']).toMatch(/gax\/\S+-fallback/);
    expect(request!.headers['x-goog-request-params']).toBe('endpoint=projects%2Fwire%2Flocations%2Fus-central1%2Fpublishers%2Fgoogle%2Fmodels%2Ftext-embedding-005');
  });

  it('answers predictions with values, statistics and metadata', async () => {
    const { status, json } = await post({ instances: [instance('kidney disease'), instance('asthma inhaler')], parameters: { outputDimensionality: 8 } });
    expect(status).toBe(200);
    expect(json.predictions).toEqual([
      { embeddings: { values: vertexLoopbackEmbedding('kidney disease', 8), statistics: { truncated: false, token_count: 6 } } },
      { embeddings: { values: vertexLoopbackEmbedding('asthma inhaler', 8), statistics: { truncated: false, token_count: 6 } } },
    ]);
    expect(json.metadata).toEqual({ billableCharacterCount: 28 });
  });

  it('makes similar texts close and a shorter outputDimensionality a prefix of the longer vector', () => {
    const base = vertexLoopbackEmbedding('chronic kidney disease and metformin dosing', 256);
    const similar = vertexLoopbackEmbedding('metformin dosing in chronic kidney disease stage 4', 256);
    const different = vertexLoopbackEmbedding('penicillin allergy before cephalosporin', 256);
    expect(cosine(base, similar)).toBeGreaterThan(cosine(base, different) + 0.3);
    const short = vertexLoopbackEmbedding('kidney', 16);
    const long = vertexLoopbackEmbedding('kidney', 64);
    const scale = short[0]! / long[0]!;
    short.forEach((value, index) => expect(value).toBeCloseTo(long[index]! * scale, 10));
  });

  it('refuses more than 250 instances with 400 INVALID_ARGUMENT in Google error shape', async () => {
    const { status, json } = await post({ instances: Array.from({ length: 251 }, (_, index) => instance(`note ${index}`)) });
    expect(status).toBe(400);
    expect(Object.keys(json)).toEqual(['error']);
    expect(json.error).toEqual({ code: 400, status: 'INVALID_ARGUMENT', message: json.error?.message });
    expect(json.error?.message).toMatch(/251.*250/);
  });

  it('refuses more than one instance for gemini-embedding-001', async () => {
    const { status } = await post({ instances: [instance('a'), instance('b')] }, predictPath('gemini-embedding-001'));
    expect(status).toBe(400);
  });

  it('refuses a request over 20,000 tokens (estimateTokens) and accepts one at it', async () => {
    const text = (tokens: number): string => 'x'.repeat((tokens - 1) * 3);
    expect((await post({ instances: [...Array.from({ length: 9 }, () => instance(text(2000))), instance(text(2000))] })).status).toBe(200);
    const over = await post({ instances: [...Array.from({ length: 9 }, () => instance(text(2000))), instance(text(2001))] });
    expect(over.status).toBe(400);
    expect(over.json.error?.message).toMatch(/20001.*20000/);
    expect(server.requests.map((request) => request.tokens)).toEqual([20_000, 20_001]);
  });

  it('truncates a text over 2,048 tokens, or refuses it without autoTruncate', async () => {
    const long = 'word '.repeat(3000);
    const truncated = await post({ instances: [instance(long)] });
    expect(truncated.json.predictions?.[0]?.embeddings.statistics).toEqual({ truncated: true, token_count: 2048 });
    const refused = await post({ instances: [instance(long)], parameters: { autoTruncate: false } });
    expect(refused.status).toBe(400);
  });

  it.each([
    ['an unknown model', { instances: [instance('a')] }, predictPath('no-such-model'), 404, 'NOT_FOUND'],
    ['an unknown path', { instances: [instance('a')] }, '/v1/projects/p/predict', 404, 'NOT_FOUND'],
    ['a body that is not JSON', '{"instances": [', predictPath(), 400, 'INVALID_ARGUMENT'],
    ['no instances', { instances: [] }, predictPath(), 400, 'INVALID_ARGUMENT'],
    ['an instance without content', { instances: [{ task_type: 'RETRIEVAL_QUERY' }] }, predictPath(), 400, 'INVALID_ARGUMENT'],
    ['an unknown task type', { instances: [instance('a', 'RETRIEVAL_SOMETHING')] }, predictPath(), 400, 'INVALID_ARGUMENT'],
    ['too many dimensions', { instances: [instance('a')], parameters: { outputDimensionality: 769 } }, predictPath(), 400, 'INVALID_ARGUMENT'],
  ])('answers %s with %i %s', async (_name, body, path, status, grpcStatus) => {
    const response = await post(body, path);
    expect(response.status).toBe(status);
    expect(response.json.error).toMatchObject({ code: status, status: grpcStatus });
  });

  it('injects a 429 with Retry-After, and a RetryInfo detail when asked, for the matching project only, `times` times', async () => {
    server.injectFault({ type: 'rate-limited', retryAfterSeconds: 7, retryInfoSeconds: 2.5 }, { project: 'limited', times: 1 });
    const limited = await post({ instances: [instance('a')] }, predictPath('text-embedding-005', 'limited'));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(limited.json.error).toMatchObject({
      code: 429,
      status: 'RESOURCE_EXHAUSTED',
      details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '2.5s' }],
    });
    expect((await post({ instances: [instance('a')] }, predictPath('text-embedding-005', 'other'))).status).toBe(200);
    expect((await post({ instances: [instance('a')] }, predictPath('text-embedding-005', 'limited'))).status).toBe(200);
  });

  it('records a request the client abandons while it hangs', async () => {
    server.injectFault({ type: 'hang' });
    const controller = new AbortController();
    const call = fetch(`${server.url}${predictPath()}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', signal: controller.signal });
    await expect.poll(() => server.requestCount).toBe(1);
    controller.abort();
    await expect(call).rejects.toThrow();
    await expect.poll(() => server.closedByClient).toBe(1);
    expect(server.requests[0]).toMatchObject({ status: undefined, closedByClient: true });
  });
});
