import { PredictionServiceClient } from '@google-cloud/aiplatform';
import type * as Aiplatform from '@google-cloud/aiplatform';
import { PassThroughClient } from 'google-auth-library';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { startVertexLoopbackServer } from '@aidoc/loopback-servers';
import { createVertexEmbedder } from '../src/index.ts';
import { live, loopbackEmbedder, requestsFor } from './support/loopback-embedder.ts';

// The real client, counted: every construction records its options.
const constructions = vi.hoisted(() => [] as unknown[]);
vi.mock('@google-cloud/aiplatform', async (importOriginal) => {
  const original = await importOriginal<typeof Aiplatform>();
  class CountedPredictionServiceClient extends original.PredictionServiceClient {
    constructor(...args: ConstructorParameters<typeof original.PredictionServiceClient>) {
      super(...args);
      constructions.push(args[0]);
    }
  }
  return { ...original, PredictionServiceClient: CountedPredictionServiceClient };
});

const server = await startVertexLoopbackServer();
afterAll(() => server.close());
afterEach(() => {
  constructions.length = 0;
  vi.unstubAllEnvs();
});

describe('the client', () => {
  it('is built on the first call, once, and reused by every call, concurrent ones included', async () => {
    const embedder = loopbackEmbedder(server, 'one-client');
    expect(constructions).toHaveLength(0);
    await Promise.all(Array.from({ length: 5 }, (_, index) => embedder.embed([`first wave ${index}`], { kind: 'document', signal: live() })));
    for (let index = 0; index < 3; index++) await embedder.embed([`second wave ${index}`], { kind: 'query', signal: live() });
    expect(requestsFor(server, 'one-client')).toHaveLength(8);
    expect(constructions).toHaveLength(1);
    expect(constructions[0]).toMatchObject({ apiEndpoint: '127.0.0.1', port: server.port, protocol: 'http', fallback: true });
    await embedder.close();
  });

  it('is built anew after close()', async () => {
    const embedder = loopbackEmbedder(server, 'reopen');
    await embedder.embed(['before'], { kind: 'query', signal: live() });
    await embedder.close();
    await embedder.embed(['after'], { kind: 'query', signal: live() });
    await embedder.close();
    expect(constructions).toHaveLength(2);
  });

  it('an injected client is used as is and never closed by the embedder', async () => {
    const { apiEndpoint, ...transport } = server.clientOptions;
    const client = new PredictionServiceClient({ apiEndpoint, ...transport, authClient: new PassThroughClient() });
    const embedder = createVertexEmbedder({ project: 'injected', client });
    await embedder.embed(['one'], { kind: 'query', signal: live() });
    await embedder.close();
    await embedder.embed(['two'], { kind: 'query', signal: live() });
    expect(constructions).toHaveLength(1); // the test's own
    expect(requestsFor(server, 'injected')).toHaveLength(2);
    await client.close();
  });

  it.each([
    ['europe-west4', 'europe-west4-aiplatform.googleapis.com'],
    ['global', 'aiplatform.googleapis.com'],
  ])('defaults apiEndpoint from location %s to %s', async (location, expected) => {
    // The client is built synchronously inside `embed`; aborting at once keeps it off the network.
    const embedder = createVertexEmbedder({ project: 'p', location, clientOptions: { fallback: true, authClient: new PassThroughClient() } });
    const controller = new AbortController();
    const call = embedder.embed(['text'], { kind: 'query', signal: controller.signal });
    controller.abort();
    await expect(call).rejects.toMatchObject({ code: 'ABORTED' });
    expect(constructions).toEqual([expect.objectContaining({ apiEndpoint: expected })]);
    await embedder.close();
  });
});

describe('settings', () => {
  it('project and location fall back to GOOGLE_CLOUD_PROJECT and GOOGLE_CLOUD_LOCATION', () => {
    vi.stubEnv('GOOGLE_CLOUD_PROJECT', 'env-project');
    vi.stubEnv('GOOGLE_CLOUD_LOCATION', 'europe-west1');
    expect(createVertexEmbedder().endpoint).toBe('projects/env-project/locations/europe-west1/publishers/google/models/text-embedding-005');
    expect(createVertexEmbedder({ project: 'explicit', location: 'asia-east1' }).endpoint).toMatch(/^projects\/explicit\/locations\/asia-east1\//);
  });

  it('location defaults to us-central1, model to text-embedding-005, dimensions to 768', () => {
    vi.stubEnv('GOOGLE_CLOUD_LOCATION', '');
    const embedder = createVertexEmbedder({ project: 'p' });
    expect(embedder.endpoint).toBe('projects/p/locations/us-central1/publishers/google/models/text-embedding-005');
    expect(embedder.dimensions).toBe(768);
  });

  it('a missing project names the option and the environment variable', () => {
    vi.stubEnv('GOOGLE_CLOUD_PROJECT', '');
    expect(() => createVertexEmbedder()).toThrow(new TypeError('Expected `project` (or the GOOGLE_CLOUD_PROJECT environment variable) to be a Google Cloud project id, got `undefined` (undefined)'));
  });

  it.each([
    [{ outputDimensionality: 0 }, /`outputDimensionality` to be a positive integer, got `0`/],
    [{ outputDimensionality: 1.5 }, /`outputDimensionality`/],
    [{ autoTruncate: 'yes' }, /`autoTruncate` to be a boolean/],
    [{ timeoutMs: -1 }, /`timeoutMs` to be a positive number/],
    [{ model: 'models/text-embedding-005' }, /`model`/],
    [{ location: 'US Central' }, /`location` \(or the GOOGLE_CLOUD_LOCATION environment variable\)/],
    [{ apiEndpoint: 'https://example.com' }, /`apiEndpoint` to be a host name/],
    [{ clientOptions: 'fallback' }, /`clientOptions` to be an object/],
    [{ client: {} }, /`client` to be a PredictionServiceClient/],
  ])('rejects %o', (settings, message) => {
    expect(() => createVertexEmbedder({ project: 'p', ...(settings as object) })).toThrow(message);
  });

  it('rejects a client together with apiEndpoint or clientOptions', () => {
    const client = new PredictionServiceClient({ fallback: true, authClient: new PassThroughClient() });
    expect(() => createVertexEmbedder({ project: 'p', client, apiEndpoint: 'example.com' })).toThrow(/either `client` or `apiEndpoint` \/ `clientOptions`/);
    expect(() => createVertexEmbedder({ project: 'p', client, clientOptions: {} })).toThrow(/either `client`/);
  });
});
