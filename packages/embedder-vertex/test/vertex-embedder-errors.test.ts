import { AidocError, type AidocErrorCode } from '@aidoc/core';
import { PassThroughClient } from 'google-auth-library';
import { afterAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { startVertexLoopbackServer, type VertexLoopbackFault } from '@aidoc/loopback-servers';
import { createVertexEmbedder, type VertexEmbedderSettings } from '../src/index.ts';
import { toVertexError } from '../src/vertex-error.ts';
import { live, loopbackEmbedder, requestsFor } from './support/loopback-embedder.ts';

const server = await startVertexLoopbackServer();
afterAll(() => server.close());

/** Embeds one text for `project` (with `fault` injected for it) and returns what it rejected with. */
async function failure(project: string, fault: VertexLoopbackFault | undefined, settings: VertexEmbedderSettings = {}): Promise<AidocError> {
  if (fault !== undefined) server.injectFault(fault, { project });
  const embedder = loopbackEmbedder(server, project, settings);
  try {
    const outcome = await embedder.embed(['Metformin and eGFR'], { kind: 'query', signal: live() }).then(
      () => undefined,
      (error: unknown) => error,
    );
    if (!AidocError.isInstance(outcome)) throw new Error(`expected an AidocError, got ${String(outcome)}`);
    return outcome;
  } finally {
    await embedder.close();
  }
}

describe('upstream failures map to AidocErrors (real client, loopback server)', () => {
  const cases: Array<[string, VertexLoopbackFault, AidocErrorCode, boolean]> = [
    ['429 RESOURCE_EXHAUSTED', { type: 'rate-limited', retryAfterSeconds: 3 }, 'RATE_LIMITED', true],
    ['503 UNAVAILABLE', { type: 'unavailable' }, 'UPSTREAM_UNAVAILABLE', true],
    ['500 INTERNAL', { type: 'internal' }, 'UPSTREAM_UNAVAILABLE', true],
    ['a connection reset before the answer', { type: 'connection-reset' }, 'UPSTREAM_UNAVAILABLE', true],
    ['a connection destroyed mid-response', { type: 'truncated-response' }, 'UPSTREAM_UNAVAILABLE', true],
    ['400 INVALID_ARGUMENT', { type: 'error', httpStatus: 400, status: 'INVALID_ARGUMENT' }, 'INVALID_INPUT', false],
    ['400 FAILED_PRECONDITION', { type: 'error', httpStatus: 400, status: 'FAILED_PRECONDITION' }, 'INVALID_INPUT', false],
    ['404 NOT_FOUND', { type: 'error', httpStatus: 404, status: 'NOT_FOUND' }, 'NOT_FOUND', false],
    ['403 PERMISSION_DENIED', { type: 'error', httpStatus: 403, status: 'PERMISSION_DENIED' }, 'INVALID_INPUT', false],
    ['401 UNAUTHENTICATED', { type: 'error', httpStatus: 401, status: 'UNAUTHENTICATED' }, 'INVALID_INPUT', false],
    ['502 from a proxy, not JSON', { type: 'reply', httpStatus: 502, body: '<html>Bad Gateway</html>' }, 'UPSTREAM_UNAVAILABLE', true],
    ['504 DEADLINE_EXCEEDED', { type: 'error', httpStatus: 504, status: 'DEADLINE_EXCEEDED' }, 'TIMEOUT', true],
  ];
  for (const [name, fault, code, retryable] of cases) {
    it(`${name} → ${code}${retryable ? ', retryable' : ''}, after exactly one request (gax does not retry)`, async () => {
      const project = `errors-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`;
      const error = await failure(project, fault);
      expect(error.code, error.message).toBe(code);
      expect(error.retryable).toBe(retryable);
      expect(error.cause).toBeDefined();
      expect(requestsFor(server, project)).toHaveLength(1);
    });
  }

  it('RATE_LIMITED carries no retryAfterMs from a Retry-After header alone (gax does not expose headers)', async () => {
    const error = await failure('retry-after-header', { type: 'rate-limited', retryAfterSeconds: 3 });
    expect(error.retryAfterMs).toBeUndefined();
  });

  it('RATE_LIMITED carries retryAfterMs from a google.rpc.RetryInfo detail', async () => {
    const error = await failure('retry-info', { type: 'rate-limited', retryAfterSeconds: 3, retryInfoSeconds: 1.5 });
    expect(error.retryAfterMs).toBe(1500);
  });

  it('PERMISSION_DENIED and UNAUTHENTICATED name the credential settings', async () => {
    const denied = await failure('credentials-denied', { type: 'error', httpStatus: 403, status: 'PERMISSION_DENIED', message: 'Permission denied on resource project' });
    expect(denied.message).toMatch(/GOOGLE_APPLICATION_CREDENTIALS/);
    expect(denied.message).toMatch(/clientOptions\.credentials/);
    expect(denied.message).toMatch(/Permission denied on resource project/);
  });

  it('an unknown model is NOT_FOUND, naming the model, project and location settings', async () => {
    const error = await failure('unknown-model', undefined, { model: 'text-embedding-999' });
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toMatch(/text-embedding-999.*unknown-model.*us-central1/);
    expect(error.message).toMatch(/GOOGLE_CLOUD_PROJECT/);
  });

  it('an outputDimensionality the model does not support is INVALID_INPUT (the API refuses it)', async () => {
    const error = await failure('too-many-dimensions', undefined, { outputDimensionality: 1024 });
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/outputDimensionality/);
  });

  it('a request past timeoutMs is TIMEOUT, retryable, and the request is closed', async () => {
    const started = performance.now();
    const error = await failure('deadline', { type: 'hang' }, { timeoutMs: 150 });
    expect(error.code).toBe('TIMEOUT');
    expect(error.retryable).toBe(true);
    expect(performance.now() - started).toBeLessThan(2000);
    await expect.poll(() => requestsFor(server, 'deadline')[0]?.closedByClient).toBe(true);
  });

  it('a refused connection is UPSTREAM_UNAVAILABLE', async () => {
    const closed = await startVertexLoopbackServer();
    await closed.close();
    const embedder = createVertexEmbedder({
      project: 'refused',
      apiEndpoint: '127.0.0.1',
      clientOptions: { port: closed.port, protocol: 'http', fallback: true, authClient: new PassThroughClient() },
    });
    const refused = await embedder.embed(['text'], { kind: 'query', signal: live() }).catch((caught: unknown) => caught);
    await embedder.close();
    expect(AidocError.hasCode(refused, 'UPSTREAM_UNAVAILABLE'), String(refused)).toBe(true);
  });

  it('credentials that cannot be loaded are INVALID_INPUT naming GOOGLE_APPLICATION_CREDENTIALS, before any request, every call', async () => {
    vi.stubEnv('GOOGLE_APPLICATION_CREDENTIALS', '/nonexistent/aidoc-test-key.json');
    onTestFinished(() => {
      vi.unstubAllEnvs();
    });
    const embedder = createVertexEmbedder({
      project: 'no-credentials',
      apiEndpoint: '127.0.0.1',
      clientOptions: { port: server.port, protocol: 'http', fallback: true },
    });
    for (let attempt = 0; attempt < 2; attempt++) {
      const error = await embedder.embed(['text'], { kind: 'query', signal: live() }).catch((caught: unknown) => caught);
      expect(AidocError.hasCode(error, 'INVALID_INPUT'), String(error)).toBe(true);
      expect((error as AidocError).retryable).toBe(false);
      expect((error as AidocError).message).toMatch(/GOOGLE_APPLICATION_CREDENTIALS/);
    }
    await embedder.close();
    expect(requestsFor(server, 'no-credentials')).toHaveLength(0);
  });
});

describe('toVertexError (gRPC transport shapes, no HTTP status)', () => {
  const context = { project: 'p', location: 'us-central1', model: 'text-embedding-005' };
  it.each([
    [14, 'UPSTREAM_UNAVAILABLE'],
    [8, 'RATE_LIMITED'],
    [4, 'TIMEOUT'],
    [3, 'INVALID_INPUT'],
    [5, 'NOT_FOUND'],
    [7, 'INVALID_INPUT'],
    [16, 'INVALID_INPUT'],
    [13, 'UPSTREAM_UNAVAILABLE'],
  ] as const)('code %i → %s', (code, expected) => {
    expect(toVertexError(Object.assign(new Error('upstream said no'), { code }), context).code).toBe(expected);
  });

  it('reads a RetryInfo delay decoded as a Duration message, int64 seconds as a Long', () => {
    const long = { toNumber: () => 4 };
    const error = Object.assign(new Error('quota'), { code: 8, statusDetails: [{ retryDelay: { seconds: long, nanos: 250_000_000 } }] });
    expect(toVertexError(error, context).retryAfterMs).toBe(4250);
  });

  it('a socket error without a gRPC code is UPSTREAM_UNAVAILABLE; anything else INTERNAL', () => {
    expect(toVertexError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), context).code).toBe('UPSTREAM_UNAVAILABLE');
    expect(toVertexError(new Error('something odd'), context).code).toBe('INTERNAL');
  });
});
