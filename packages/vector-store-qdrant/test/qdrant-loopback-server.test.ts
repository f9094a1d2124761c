import { afterAll, describe, expect, it } from 'vitest';
import { startQdrantLoopbackServer } from '@aidoc/loopback-servers';

// The loopback server is only as good as its fidelity: these tests speak raw HTTP to it.
const server = await startQdrantLoopbackServer();
const secured = await startQdrantLoopbackServer({ apiKey: 'loopback-secret' });

afterAll(async () => {
  await Promise.all([server.close(), secured.close()]);
});

/** An answer as the tests read it: Qdrant's envelope, loosely typed. */
interface Answer {
  readonly status: number;
  readonly body: { readonly result?: unknown; readonly status?: unknown; readonly title?: unknown } | undefined;
  /** `status.error` of an error envelope ('' when absent). */
  readonly error: string;
}

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, target = server): Promise<Answer> {
  const response = await fetch(`${target.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  const parsed = (text === '' ? undefined : JSON.parse(text)) as Answer['body'];
  const status = parsed?.status;
  const error = typeof status === 'object' && status !== null && 'error' in status && typeof status.error === 'string' ? status.error : '';
  return { status: response.status, body: parsed, error };
}

/** The ids (and rounded scores) of a query or scroll answer. */
function points(answer: Answer): { id: unknown; score?: number }[] {
  return (answer.body?.result as { points: { id: unknown; score?: number }[] }).points;
}

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';

describe('Qdrant loopback server', () => {
  it('answers GET / with bare version info and the rest in the { result, status, time } envelope', async () => {
    const root = await call('GET', '/');
    expect(root).toMatchObject({ status: 200, body: { title: 'qdrant - vector search engine', version: '1.19.0' } });
    const created = await call('PUT', '/collections/envelope', { vectors: { size: 2, distance: 'Cosine' } });
    expect(created).toMatchObject({ status: 200, body: { result: true, status: 'ok' } });
    expect(typeof (created.body as { time?: unknown }).time).toBe('number');
    expect(await call('GET', '/collections/envelope/exists')).toMatchObject({ status: 200, body: { result: { exists: true } } });
    const again = await call('PUT', '/collections/envelope', { vectors: { size: 2, distance: 'Cosine' } });
    expect([again.status, again.error]).toEqual([409, 'Wrong input: Collection `envelope` already exists!']);
    expect(await call('GET', '/collections/missing')).toMatchObject({ status: 404, body: { status: { error: "Not found: Collection `missing` doesn't exist!" } } });
  });

  it('rejects requests the OpenAPI description rejects, with the schema errors', async () => {
    await call('PUT', '/collections/strict', { vectors: { size: 2, distance: 'Cosine' } });
    const before = server.requests.length;
    const badLimit = await call('POST', '/collections/strict/points/query', { query: [1, 0], limit: 0 });
    expect(badLimit.status).toBe(400);
    expect(badLimit.error).toMatch(/\/limit: must be >= 1/);
    const badFilter = await call('POST', '/collections/strict/points/query', { query: [1, 0], filter: { must: [], unknown: true } });
    expect(badFilter.error).toMatch(/\/filter: must NOT have additional properties/);
    const badId = await call('PUT', '/collections/strict/points?wait=true', { points: [{ id: 'not-a-uuid', vector: [1, 0] }] });
    expect(badId.status).toBe(400);
    expect(badId.error).toMatch(/\/points\/0\/id/);
    const badDistance = await call('PUT', '/collections/other', { vectors: { size: 2, distance: 'cosine' } });
    expect(badDistance.error).toMatch(/\/vectors\/distance: must be equal to one of the allowed values/);
    const badQuery = await call('PUT', '/collections/strict/points?wait=maybe', { points: [] });
    expect(badQuery.status).toBe(400);
    expect(badQuery.error).toMatch(/\/wait: must be boolean/);
    const notJson = await call('POST', '/collections/strict/points/scroll', '{"limit": ');
    expect(notJson.status).toBe(400);
    expect(notJson.error).toMatch(/Format error in JSON body/);
    expect(await call('POST', '/collections/strict/points/search', { vector: [1, 0], limit: 1 })).toMatchObject({ status: 404 });
    expect(server.requests.slice(before).map((request) => request.status)).toEqual([400, 400, 400, 400, 400, 400, 404]);
    expect(server.requests.slice(before).map((request) => request.requestErrors.length > 0)).toEqual([true, true, true, true, true, true, false]);
    // A fault answers anyway, but the request is still checked and its errors recorded.
    server.failNext({ status: 503 });
    expect((await call('POST', '/collections/strict/points/query', { query: [1, 0], limit: -1 })).status).toBe(503);
    expect(new Set(server.requests.at(-1)?.requestErrors.map((error) => error.path))).toEqual(new Set(['/limit']));
    expect(server.pointCount('strict')).toBe(0);
  });

  it('checks its own answers against the description: a bad one is a recorded violation and a 500', async () => {
    await call('PUT', '/collections/checked', { vectors: { size: 2, distance: 'Cosine' } });
    server.failNext({ transformResponse: () => ({ result: { points: [{ id: 'not-a-uuid', score: 'high' }] }, status: 'ok', time: 0 }) });
    const answer = await call('POST', '/collections/checked/points/query', { query: [1, 0] });
    expect(answer.status).toBe(500);
    expect(answer.error).toMatch(/failed the OpenAPI check/);
    const violations = server.takeSpecViolations();
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({ operationId: 'query_points', status: 200 });
    expect(violations[0]?.errors.map((error) => error.path)).toEqual(expect.arrayContaining(['/result/points/0', '/result/points/0/id', '/result/points/0/score']));
    expect(() => server.assertNoSpecViolations()).not.toThrow();
  });

  it('fails close() while a spec violation is unaccounted for', async () => {
    const sloppy = await startQdrantLoopbackServer({ faults: { next: [{ transformResponse: () => ({ title: 42 }) }] } });
    await call('GET', '/', undefined, {}, sloppy);
    expect(() => sloppy.assertNoSpecViolations()).toThrow(/root 200: \(body\): must have required property 'version'/);
    await expect(sloppy.close()).rejects.toThrow(/do not match the OpenAPI description/);
  });

  it('says where the description should be when it is missing', async () => {
    await expect(startQdrantLoopbackServer({ specPath: '/nonexistent/qdrant-openapi.json' })).rejects.toThrow(/OpenAPI description at \/nonexistent\/qdrant-openapi.json.*specPath/);
  });

  it('enforces the API key: 401 without one, 403 for a wrong one', async () => {
    expect((await call('GET', '/collections', undefined, {}, secured)).status).toBe(401);
    expect((await call('GET', '/collections', undefined, { 'api-key': 'wrong' }, secured)).status).toBe(403);
    expect((await call('GET', '/collections', undefined, { 'api-key': 'loopback-secret' }, secured)).status).toBe(200);
    expect((await call('GET', '/collections', undefined, { authorization: 'Bearer loopback-secret' }, secured)).status).toBe(200);
  });

  it('searches exactly by cosine, filters, and scrolls in Qdrant\'s id order', async () => {
    await call('PUT', '/collections/semantics', { vectors: { size: 2, distance: 'Cosine' } });
    const upsert = await call('PUT', '/collections/semantics/points?wait=true', {
      points: [
        { id: B.toUpperCase(), vector: [0, 3], payload: { tag: ['x', 'y'], n: 2 } },
        { id: 5, vector: [1, 1], payload: { tag: 'x', n: 1 } },
        { id: `urn:uuid:${A}`, vector: [2, 0], payload: { tag: 'z', n: null } },
      ],
    });
    expect(upsert.body?.result).toEqual({ operation_id: 1, status: 'completed' });
    const query = await call('POST', '/collections/semantics/points/query', { query: [1, 0], limit: 10, with_payload: true });
    expect(points(query).map((point) => [point.id, Number(point.score?.toFixed(4))])).toEqual([
      [A, 1],
      [5, 0.7071],
      [B, 0],
    ]);
    const filtered = await call('POST', '/collections/semantics/points/query', { query: [1, 0], filter: { must: { key: 'tag', match: { value: 'x' } }, must_not: [{ key: 'n', range: { lt: 2 } }] } });
    expect(points(filtered).map((point) => point.id)).toEqual([B]);
    const page = await call('POST', '/collections/semantics/points/scroll', { limit: 2 });
    expect(page.body?.result).toEqual({
      points: [
        { id: 5, payload: { tag: 'x', n: 1 } },
        { id: A, payload: { tag: 'z', n: null } },
      ],
      next_page_offset: B,
    });
    const wrongSize = await call('POST', '/collections/semantics/points/query', { query: [1, 0, 0] });
    expect(wrongSize).toMatchObject({ status: 400, body: { status: { error: 'Wrong input: Vector dimension error: expected dim: 2, got 3' } } });
    const nested = await call('POST', '/collections/semantics/points/query', { query: [1, 0], filter: { must: [{ should: [{ key: 'n', match: { value: 1 } }] }] } });
    expect(nested.status).toBe(501);
    expect(nested.error).toMatch(/Not implemented by the Qdrant loopback server/);
  });
});
