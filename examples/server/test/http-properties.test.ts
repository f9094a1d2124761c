// Property tests over the HTTP API (server.inject, mocks): whatever the id, body, headers or
// method, the answer is a 2xx for a valid request and otherwise a 4xx with a JSON `{ code, message }`
// body; never a 5xx, never an error log, and /healthz keeps answering.
import { PatientIdSchema, resetPools } from '@aidoc/core';
import fc from 'fast-check';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_LIMIT_BYTES } from '../src/build-server.ts';
import { logCapture, mockServer } from './support/test-server.ts';

const NUM_RUNS = 100;
const BRIEFING_URL = '/api/v1/patients/1/briefing';
/** The mock repository holds patient "1" only. */
const KNOWN_PATIENT = '1';

type InjectMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'OPTIONS' | 'HEAD' | 'TRACE' | 'SEARCH' | 'PROPFIND' | 'LOCK';

let server: FastifyInstance;
let logs: ReturnType<typeof logCapture>;

beforeAll(async () => {
  logs = logCapture();
  ({ server } = await mockServer({ logger: logs.stream }));
});
afterAll(async () => {
  await server?.close();
  resetPools();
});

/** Percent-encodes every UTF-8 byte outside the unreserved set (works for lone surrogates too). */
function encodeSegment(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((byte) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

function describeRequest(response: LightMyRequestResponse, what: string): string {
  return `${what} → ${response.statusCode} ${response.body.slice(0, 200)}`;
}

/** A 4xx with a JSON `{ code, message }` body (HEAD answers carry no body). */
function expectClientError(response: LightMyRequestResponse, what: string, method: string = 'GET'): void {
  expect(response.statusCode, describeRequest(response, what)).toBeGreaterThanOrEqual(400);
  expect(response.statusCode, describeRequest(response, what)).toBeLessThan(500);
  if (method === 'HEAD') return;
  expect(response.headers['content-type'], describeRequest(response, what)).toMatch(/^application\/json/);
  const body = JSON.parse(response.body) as unknown;
  expect(body, describeRequest(response, what)).toEqual({ code: expect.any(String) as string, message: expect.any(String) as string });
  const { code, message } = body as { code: string; message: string };
  expect(code, what).toMatch(/^[A-Z_]+$/);
  expect(message.length, what).toBeGreaterThan(0);
}

/** A successful JSON briefing for patient 1. */
function expectBriefing(response: LightMyRequestResponse, what: string): void {
  expect(response.statusCode, describeRequest(response, what)).toBe(200);
  expect((response.json<{ briefing: { patientId: string } }>()).briefing.patientId, what).toBe(KNOWN_PATIENT);
}

/** No 5xx was logged, nothing at error level, and the server still answers /healthz. */
async function expectStillHealthy(): Promise<void> {
  const bad = logs.lines().filter((line) => (typeof line.status === 'number' && line.status >= 500) || (typeof line.level === 'number' && line.level >= 50));
  expect(bad).toEqual([]);
  const health = await server.inject({ method: 'GET', url: '/healthz' });
  expect(health.statusCode).toBe(200);
  expect(health.json()).toEqual({ status: 'ok' });
}

const hostileIds: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.stringMatching(/^\d{1,16}$/),
  fc.bigInt({ min: -(10n ** 14n), max: 10n ** 14n }).map(String),
  fc.integer({ min: 1, max: 200_000 }).map((length) => '9'.repeat(length)),
  fc.integer({ min: 1, max: 20_000 }).chain((length) => fc.string({ unit: 'grapheme-ascii', minLength: length, maxLength: length })),
  fc.constantFrom(
    '../../../etc/passwd',
    '..%2F..%2Fhealthz',
    '..',
    '.',
    '1/../../healthz',
    "1' OR '1'='1",
    "1; DROP TABLE patients; --",
    '1 UNION SELECT * FROM pg_user',
    "' OR 1=1 --",
    '1%00',
    '\u0000',
    '0',
    '00',
    '1.0',
    '1e3',
    '-1',
    ' 1',
    '1 ',
    '１',
    '٣',
    '0x1',
    'null',
    'undefined',
    '__proto__',
    'constructor',
    '{{7*7}}',
    '${jndi:ldap://x}',
    '<script>alert(1)</script>',
  ),
);

describe('the HTTP API under arbitrary input', () => {
  it('answers any patient id with a briefing (existing valid id), 404 (unknown valid id) or a 4xx JSON error', async () => {
    await fc.assert(
      fc.asyncProperty(hostileIds, fc.boolean(), async (id, raw) => {
        // Encoded ids reach the route as the exact string; raw ones exercise the router itself.
        const segment = raw && /^[\x21-\x7e]*$/.test(id) && !id.includes('#') && !id.includes('?') ? id : encodeSegment(id);
        const url = `/api/v1/patients/${segment}/briefing`;
        const response = await server.inject({ method: 'POST', url });
        const what = `POST ${url.slice(0, 120)}`;
        // Ids over Fastify's maxParamLength (100) get 414, malformed %-escapes 400, both answered
        // before routing (frameworkErrors) with the usual `{ code, message }` body.
        if (response.statusCode === 414) {
          expect(segment.length, what).toBeGreaterThan(100);
          expect(response.json(), what).toEqual({ code: 'URI_TOO_LONG', message: expect.any(String) as string });
          return;
        }
        if (segment === encodeSegment(id) && id !== '.' && id !== '..') {
          // The exact id reached the route (dot segments are resolved by the router): the contract's
          // own schema decides 400 against 200/404.
          const expected = PatientIdSchema.safeParse(id).success ? (id === KNOWN_PATIENT ? 200 : 404) : 400;
          expect(response.statusCode, describeRequest(response, what)).toBe(expected);
        }
        if (response.statusCode === 200) {
          // Only the one known patient may succeed (e.g. a raw `1` or `%31`).
          expect(decodeURIComponent(segment), what).toBe(KNOWN_PATIENT);
          expectBriefing(response, what);
          return;
        }
        expectClientError(response, what);
      }),
      { numRuns: NUM_RUNS },
    );
    await expectStillHealthy();
  });

  it('accepts only no body or `{}` on the briefing; other JSON, malformed JSON and oversized bodies are 4xx', async () => {
    const bodies = fc.oneof(
      fc.json({ maxDepth: 4 }).map((text) => ({ text, kind: 'json' as const })),
      fc.string({ maxLength: 200 }).map((text) => ({ text, kind: 'text' as const })),
      fc.string({ unit: 'binary', maxLength: 200 }).map((text) => ({ text, kind: 'text' as const })),
      fc.constantFrom('', '{}', ' { } ', '{"a":1}', '[]', 'null', '0', '"x"', '{', '{"__proto__":{"polluted":true}}', '{"constructor":{"prototype":{"x":1}}}', '\u0000', '\ufeff{}').map((text) => ({ text, kind: 'text' as const })),
      fc.integer({ min: BODY_LIMIT_BYTES + 1, max: BODY_LIMIT_BYTES * 8 }).map((size) => ({ text: `{"padding":"${'x'.repeat(size)}"}`, kind: 'huge' as const })),
      fc.integer({ min: BODY_LIMIT_BYTES + 1, max: BODY_LIMIT_BYTES * 4 }).map((size) => ({ text: ' '.repeat(size), kind: 'huge' as const })),
    );
    await fc.assert(
      fc.asyncProperty(bodies, async ({ text, kind }) => {
        const response = await server.inject({ method: 'POST', url: BRIEFING_URL, headers: { 'content-type': 'application/json' }, payload: text });
        const what = `${kind} body ${JSON.stringify(text.slice(0, 80))} (${Buffer.byteLength(text)} bytes)`;
        if (kind === 'huge') {
          expect(response.statusCode, describeRequest(response, what)).toBe(413);
          return expectClientError(response, what);
        }
        let parsed: unknown;
        let parses = true;
        try {
          // Fastify's JSON parser drops a leading byte-order mark, as the ingest decoder does.
          const json = text.startsWith('\ufeff') ? text.slice(1) : text;
          parsed = json === '' ? undefined : JSON.parse(json);
        } catch {
          parses = false;
        }
        const empty = parses && (parsed === undefined || (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && Object.keys(parsed).length === 0));
        if (empty) return expectBriefing(response, what);
        expectClientError(response, what);
      }),
      { numRuns: NUM_RUNS },
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await expectStillHealthy();
  });

  it('answers arbitrary headers and content types with a 2xx or a 4xx JSON error', async () => {
    const token = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/).filter((name) => !['content-length', 'transfer-encoding', 'connection', 'host', 'expect', 'upgrade'].includes(name));
    const headerValue = fc.oneof(fc.stringMatching(/^[\x20-\x7e]{0,200}$/), fc.constantFrom('', ' ', '*/*', 'text/event-stream', 'application/json; charset=utf-16', 'application/json; charset=latin1'));
    const contentType = fc.oneof(
      headerValue,
      fc.constantFrom('application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/octet-stream', 'application/json;;;', 'application/jsonx'),
    );
    const request = fc.record({
      headers: fc.dictionary(token, headerValue, { maxKeys: 6 }),
      contentType: fc.option(contentType, { nil: undefined }),
      accept: fc.option(fc.oneof(headerValue, fc.constantFrom('text/event-stream', 'application/json', 'text/html', '*/*', 'text/event-stream;q=0')), { nil: undefined }),
      body: fc.option(fc.oneof(fc.constant('{}'), fc.constant(''), fc.string({ maxLength: 40 }), fc.constant('<xml/>')), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(request, async ({ headers, contentType: type, accept, body }) => {
        const allHeaders: Record<string, string> = { ...headers };
        if (type !== undefined) allHeaders['content-type'] = type;
        if (accept !== undefined) allHeaders.accept = accept;
        const response = await server.inject({ method: 'POST', url: BRIEFING_URL, headers: allHeaders, ...(body === undefined ? {} : { payload: body }) });
        const what = `POST with ${JSON.stringify(allHeaders).slice(0, 300)} body ${JSON.stringify(body)}`;
        expect(response.statusCode, describeRequest(response, what)).toBeLessThan(500);
        if (response.statusCode >= 400) return expectClientError(response, what);
        expect(response.statusCode, describeRequest(response, what)).toBe(200);
        if (/^text\/event-stream/.test(String(response.headers['content-type']))) {
          expect(response.body, what).toContain('event: briefing');
          expect(response.body, what).not.toContain('event: error');
        } else {
          expectBriefing(response, what);
        }
      }),
      { numRuns: NUM_RUNS },
    );
    await expectStillHealthy();
  });

  it('answers any method on every known path with a 2xx (the route) or a 4xx JSON error', async () => {
    const methods: InjectMethod[] = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'SEARCH', 'PROPFIND', 'LOCK'];
    const routes: Readonly<Record<string, readonly string[]>> = {
      '/': ['GET', 'HEAD'],
      '/healthz': ['GET', 'HEAD'],
      '/readyz': ['GET', 'HEAD'],
      '/metrics': ['GET', 'HEAD'],
      '/api/v1/patients': ['GET', 'HEAD'],
      [BRIEFING_URL]: ['POST'],
      '/api/v1/patients/1': [],
      '/api/v1': [],
      '/api/v1/patients/1/briefing/extra': [],
      '/assets/app.js': ['GET', 'HEAD'],
      '/assets/missing.js': [],
      '/assets/../package.json': [],
      '/%2e%2e/%2e%2e/package.json': [],
      '/healthz/../readyz/../../etc/passwd': [],
      '/assets/%2e%2e/': [],
      '//healthz': [],
      '/HEALTHZ': [],
    };
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...methods), fc.constantFrom(...Object.keys(routes)), fc.option(fc.stringMatching(/^[a-z=&%0-9]{0,30}$/), { nil: undefined }), async (method, path, query) => {
        const url = query === undefined ? path : `${path}?${query}`;
        const response = await server.inject({ method, url });
        const what = `${method} ${url}`;
        if (routes[path]!.includes(method) && !(path === BRIEFING_URL && query !== undefined && /%/.test(query))) {
          expect(response.statusCode, describeRequest(response, what)).toBeGreaterThanOrEqual(200);
          expect(response.statusCode, describeRequest(response, what)).toBeLessThan(300);
          return;
        }
        expect(response.statusCode, describeRequest(response, what)).toBeLessThan(500);
        if (response.statusCode >= 400) return expectClientError(response, what, method);
        // The only other success: a route matched after normalisation (e.g. `//healthz`) must not leak files.
        expect(response.body, what).not.toContain('"name": "@aidoc');
        expect(response.body, what).not.toContain('root:');
      }),
      { numRuns: NUM_RUNS },
    );
    await expectStillHealthy();
  });

  it('answers GET /assets/ and /assets// (a directory) with a 4xx JSON error, not a 500', async () => {
    for (const url of ['/assets/', '/assets//']) {
      const response = await server.inject({ method: 'GET', url });
      expectClientError(response, `GET ${url}`);
    }
  });

  it('answers a patient id over 100 characters with a `{ code, message }` 414 that does not echo the id', async () => {
    const url = `/api/v1/patients/${'9'.repeat(150)}/briefing`;
    const response = await server.inject({ method: 'POST', url });
    expectClientError(response, `POST ${url}`);
    expect(response.body).not.toContain('9'.repeat(150));
  });

  it('answers a malformed %-escape in the path with a `{ code, message }` 400', async () => {
    const response = await server.inject({ method: 'POST', url: '/api/v1/patients/%/briefing' });
    expectClientError(response, 'POST /api/v1/patients/%/briefing');
  });
});
