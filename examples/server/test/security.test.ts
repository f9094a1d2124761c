// Security: the API key guards every route that holds data, hostile (SQL-ish) patient ids never
// reach a database as SQL, and a full run over the real embedded defaults logs no patient's name
// or birth date.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { AidocError, createIngestPipeline, resetPools, type PatientRecord, type PatientRepository } from '@aidoc/core';
import { createMockPatientRepository, examplePatientRecord } from '@aidoc/core/testing';
import { loadConfig } from '@aidoc/example-config';
import { createFileVectorStore, createHashingEmbedder, sampleGuidelinesDirectory, samplePatientsFile } from '@aidoc/local';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildServer } from '../src/build-server.ts';
import { API_KEY, logCapture, mockAdapters, mockServer, parseServerSentEvents } from './support/test-server.ts';

const samplePatients = JSON.parse(await readFile(samplePatientsFile, 'utf8')) as PatientRecord[];
const mockPatient = examplePatientRecord('1');

/** Strings that identify a patient: given and family names and birth date of every known record. */
const identifyingStrings = [...samplePatients, mockPatient].flatMap((record) => [record.name.given, record.name.family, record.birthDate]);

const SQL_INJECTION_IDS = [
  "1' OR '1'='1",
  "1 OR 1=1",
  "1; DROP TABLE patients; --",
  "1'; DROP TABLE patients; --",
  "1 UNION SELECT id, null, null FROM patients --",
  "' OR ''='",
  "1)) OR ((1=1",
  "1/**/OR/**/1=1",
  "1; SELECT pg_sleep(5)",
  "$1",
  "1::text",
  "1' AND (SELECT 1 FROM pg_user LIMIT 1)='1",
  '1"; --',
  '1%27%20OR%201=1',
  '-1',
  '0',
  '1e3',
  '999999999999999999999',
];

/** Valid ids that no patient has: NOT_FOUND, answered by the repository. */
const UNKNOWN_VALID_IDS = ['999999999999', '424242'];

function expectErrorBody(response: LightMyRequestResponse, status: number, what: string): void {
  expect(response.statusCode, `${what} → ${response.body.slice(0, 200)}`).toBe(status);
  expect(response.json(), what).toEqual({ code: expect.any(String) as string, message: expect.any(String) as string });
}

/** True when the body says nothing about a database (driver errors, SQL, stack traces). */
function mentionsDatabase(text: string): boolean {
  return /syntax error|relation "|column "|pg_|postgres|sqlstate|at .*\.ts:\d+|\bselect\b.*\bfrom\b/i.test(text);
}

function segment(id: string): string {
  return encodeURIComponent(id);
}

describe('the API key', () => {
  let server: FastifyInstance | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
    resetPools();
  });

  const guarded = [
    { method: 'GET' as const, url: '/api/v1/patients', allowed: 200 },
    { method: 'POST' as const, url: '/api/v1/patients/1/briefing', allowed: 200 },
    { method: 'POST' as const, url: '/api/v1/patients/1/briefing', accept: 'text/event-stream', allowed: 200 },
    { method: 'POST' as const, url: '/api/v1/patients/1/briefing?trace=1', allowed: 200 },
    { method: 'POST' as const, url: '/api/v1/patients/424242/briefing', allowed: 404 },
    { method: 'POST' as const, url: "/api/v1/patients/1'%20OR%201=1/briefing", allowed: 400 },
    { method: 'GET' as const, url: '/readyz', allowed: 200 },
    { method: 'GET' as const, url: '/metrics', allowed: 200 },
    { method: 'GET' as const, url: '/api/v1/unknown', allowed: 404 },
    { method: 'GET' as const, url: '/unknown', allowed: 404 },
    { method: 'DELETE' as const, url: '/api/v1/patients/1', allowed: 404 },
    { method: 'PUT' as const, url: '/api/v1/patients', allowed: 404 },
  ];
  const sameLength = 'x'.repeat(API_KEY.length);
  const rejected: readonly (string | undefined)[] = [
    undefined,
    '',
    'Bearer',
    'Bearer ',
    `Bearer ${sameLength}`,
    `Bearer ${API_KEY.slice(0, -1)}Z`,
    `Bearer ${API_KEY.slice(0, -1)}`,
    `Bearer ${API_KEY}0`,
    `Bearer ${API_KEY.repeat(4)}`,
    'Bearer short',
    API_KEY,
    `Basic ${Buffer.from(`user:${API_KEY}`).toString('base64')}`,
    `Token ${API_KEY}`,
    `Bearer ${API_KEY.toUpperCase()}`,
    `Bearer ${API_KEY}, Bearer ${API_KEY}`,
  ];

  it('answers 401 on every data route (and unknown ones) without the right key, and serves them with it', async () => {
    expect(sameLength).not.toBe(API_KEY);
    ({ server } = await mockServer({ environment: { AIDOC_API_KEY: API_KEY } }));
    for (const request of guarded) {
      const headers = request.accept === undefined ? {} : { accept: request.accept };
      for (const authorization of rejected) {
        const response = await server.inject({ method: request.method, url: request.url, headers: { ...headers, ...(authorization === undefined ? {} : { authorization }) } });
        const what = `${request.method} ${request.url} with ${JSON.stringify(authorization)}`;
        expectErrorBody(response, 401, what);
        expect(response.headers['www-authenticate'], what).toBe('Bearer');
        expect(response.json<{ code: string }>().code, what).toBe('UNAUTHORIZED');
        for (const text of identifyingStrings) expect(response.body, what).not.toContain(text);
      }
      // Key-like query parameters and cookies are not a way in.
      const sideDoor = await server.inject({ method: request.method, url: `${request.url}${request.url.includes('?') ? '&' : '?'}api_key=${API_KEY}&access_token=${API_KEY}`, headers: { ...headers, cookie: `authorization=Bearer ${API_KEY}`, 'x-api-key': API_KEY } });
      expect(sideDoor.statusCode, `${request.method} ${request.url} via query/cookie`).toBe(401);

      const allowed = await server.inject({ method: request.method, url: request.url, headers: { ...headers, authorization: `Bearer ${API_KEY}` } });
      expect(allowed.statusCode, `${request.method} ${request.url} with the key → ${allowed.body.slice(0, 200)}`).toBe(request.allowed);
    }
  });

  it('leaves /healthz, / and /assets/* open, holding no patient data, and the page under a strict content security policy', async () => {
    ({ server } = await mockServer({ environment: { AIDOC_API_KEY: API_KEY } }));
    const health = await server.inject({ method: 'GET', url: '/healthz' });
    expect(health.json()).toEqual({ status: 'ok' });
    const page = await server.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    const assets = await Promise.all(['app.js', 'styles.css'].map((name) => server!.inject({ method: 'GET', url: `/assets/${name}` })));
    for (const response of [health, page, ...assets]) {
      expect(response.statusCode).toBe(200);
      for (const text of identifyingStrings) expect(response.body).not.toContain(text);
      for (const record of samplePatients) expect(response.body).not.toContain(`"id":"${record.id}","name"`);
    }
    // The page may run only its own script and style, fetch only its own API, and not be framed.
    const policy = page.headers['content-security-policy'];
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("connect-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).not.toContain('unsafe-inline');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    // The open prefix does not open anything else.
    for (const url of ['/assets/../api/v1/patients', '/assets/%2e%2e/api/v1/patients', '/assets/..%2fapi/v1/patients', '/healthz/../api/v1/patients', '/healthz?x=/api/v1/patients']) {
      const response = await server.inject({ method: 'GET', url });
      expect(response.body, url).not.toContain('"patients"');
      for (const text of identifyingStrings) expect(response.body, url).not.toContain(text);
    }
  });
});

describe('SQL-injection patient ids (mock repository)', () => {
  let server: FastifyInstance;
  const patients = createMockPatientRepository({ records: [mockPatient] });
  beforeAll(async () => {
    ({ server } = await mockServer({ adapters: mockAdapters({ patients }) }));
  });
  afterAll(async () => {
    await server?.close();
    resetPools();
  });

  it('answers 400 or 404, never a database error, and never hands a malformed id to the repository', async () => {
    for (const id of [...SQL_INJECTION_IDS, ...UNKNOWN_VALID_IDS]) {
      for (const accept of ['application/json', 'text/event-stream']) {
        const response = await server.inject({ method: 'POST', url: `/api/v1/patients/${segment(id)}/briefing`, headers: { accept } });
        const what = `${JSON.stringify(id)} (${accept})`;
        expect(mentionsDatabase(response.body), `${what}: ${response.body}`).toBe(false);
        if (accept === 'text/event-stream' && response.statusCode === 200) {
          // A stream that started answers with one `error` event instead of a status.
          const events = parseServerSentEvents(response.body);
          expect(events.map((event) => event.event), what).toEqual(['error']);
          expect(['INVALID_INPUT', 'NOT_FOUND'], what).toContain((events[0]!.data as { code: string }).code);
          continue;
        }
        expect([400, 404], `${what} → ${response.statusCode} ${response.body.slice(0, 200)}`).toContain(response.statusCode);
        expect(response.json(), what).toEqual({ code: expect.any(String) as string, message: expect.any(String) as string });
      }
    }
    const asked = patients.calls.filter((call) => call.method === 'getById').map((call) => (call.input as { id: string }).id);
    for (const id of asked) expect(id, 'an id the repository was asked for').toMatch(/^[1-9]\d{0,11}$/);
  });
});

/** True when a PostgreSQL server accepts TCP connections on 127.0.0.1:5432 within a second. */
async function postgresReachable(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (reachable: boolean) => {
      socket.destroy();
      resolve(reachable);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(5432, '127.0.0.1', () => done(true));
  });
}

interface PostgresModule {
  createPostgresPatientRepository(settings: { connectionString: string; schema: string; statementTimeoutMs?: number }): PatientRepository & {
    migrate(): Promise<void>;
    seed(records: readonly PatientRecord[]): Promise<void>;
    close(): Promise<void>;
  };
}
interface PgModule {
  default: { Pool: new (config: { connectionString: string; max: number }) => { query(text: string): Promise<{ rows: Record<string, unknown>[] }>; end(): Promise<void>; on(event: 'error', listener: () => void): void } };
}

/** A module loaded by name, outside this package's declared dependencies (see below). */
async function importByName<Module>(name: string): Promise<Module> {
  const imported: unknown = await import(name);
  return imported as Module;
}

const DATABASE_URL = process.env.PG_TEST_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const databaseAvailable = await postgresReachable();

describe.skipIf(!databaseAvailable)('SQL-injection patient ids (real PostgreSQL repository)', () => {
  // Loaded by name: the server package does not depend on the adapter (example-config does).
  const schema = `aidoc_test_security_${Math.random().toString(16).slice(2, 12)}`;
  let repository: Awaited<ReturnType<PostgresModule['createPostgresPatientRepository']>>;
  let pool: InstanceType<PgModule['default']['Pool']>;
  let server: FastifyInstance;

  beforeAll(async () => {
    const postgres = await importByName<PostgresModule>('@aidoc/patient-repo-postgres');
    const pg = await importByName<PgModule>('pg');
    pool = new pg.default.Pool({ connectionString: DATABASE_URL, max: 2 });
    pool.on('error', () => undefined);
    repository = postgres.createPostgresPatientRepository({ connectionString: DATABASE_URL, schema });
    await repository.migrate();
    await repository.seed(samplePatients);
    ({ server } = await mockServer({ adapters: mockAdapters({ patients: repository as unknown as ReturnType<typeof createMockPatientRepository> }) }));
  }, 20_000);

  afterAll(async () => {
    await server?.close();
    await repository?.close();
    await pool?.query(`drop schema if exists "${schema}" cascade`);
    await pool?.end();
    resetPools();
  });

  it('answers 400 or 404 over HTTP, never a database error, and leaves the data intact', async () => {
    for (const id of [...SQL_INJECTION_IDS, ...UNKNOWN_VALID_IDS]) {
      const response = await server.inject({ method: 'POST', url: `/api/v1/patients/${segment(id)}/briefing` });
      const what = JSON.stringify(id);
      expect([400, 404], `${what} → ${response.statusCode} ${response.body.slice(0, 200)}`).toContain(response.statusCode);
      expect(mentionsDatabase(response.body), `${what}: ${response.body}`).toBe(false);
    }
    const real = await server.inject({ method: 'POST', url: '/api/v1/patients/1/briefing' });
    expect(real.statusCode, real.body.slice(0, 200)).toBe(200);
    const listing = await server.inject({ method: 'GET', url: '/api/v1/patients' });
    expect(listing.json<{ patients: unknown[] }>().patients).toHaveLength(samplePatients.length);
    const count = await pool.query(`select count(*)::integer as count from "${schema}".patients`);
    expect(count.rows[0]!.count).toBe(samplePatients.length);
  });

  it('rejects hostile ids in the repository itself with INVALID_INPUT or NOT_FOUND, never a driver error', async () => {
    for (const id of [...SQL_INJECTION_IDS, ...UNKNOWN_VALID_IDS]) {
      const error = await repository.getById(id).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(AidocError.isInstance(error), `${JSON.stringify(id)}: ${String(error)}`).toBe(true);
      expect(['INVALID_INPUT', 'NOT_FOUND'], JSON.stringify(id)).toContain((error as AidocError).code);
      expect(mentionsDatabase((error as AidocError).message), (error as AidocError).message).toBe(false);
    }
  });
});

describe('logs of a full run over the embedded defaults', () => {
  let dataDirectory: string;
  beforeAll(async () => {
    dataDirectory = await mkdtemp(path.join(os.tmpdir(), 'aidoc-security-logs-'));
    await using writer = createFileVectorStore({ directory: path.join(dataDirectory, 'vectors') });
    const ingest = createIngestPipeline({ embedder: createHashingEmbedder(), vectorStore: writer, collection: 'guidelines', sourceRoot: sampleGuidelinesDirectory });
    await ingest.ingest([sampleGuidelinesDirectory]);
  }, 30_000);
  afterAll(async () => {
    resetPools();
    vi.restoreAllMocks();
    await rm(dataDirectory, { recursive: true, force: true });
  });

  it("never log a sample patient's given name, family name or birth date", async () => {
    const capture = logCapture();
    // Everything else a run could print goes to the same capture.
    const printed: string[] = [];
    for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
      vi.spyOn(console, method).mockImplementation((...items: unknown[]) => {
        printed.push(items.map((item) => (typeof item === 'string' ? item : JSON.stringify(item))).join(' '));
      });
    }
    const server = await buildServer({ config: loadConfig({ AIDOC_DATA_DIR: dataDirectory, PORT: '0', AIDOC_API_KEY: API_KEY }), logger: { level: 'trace', stream: capture.stream } });
    const authorization = `Bearer ${API_KEY}`;
    let requests = 0;
    const send = async (options: InjectOptions): Promise<LightMyRequestResponse> => {
      requests++;
      return server.inject(options);
    };
    try {
      const listing = await send({ method: 'GET', url: '/api/v1/patients', headers: { authorization } });
      expect(listing.statusCode).toBe(200);
      for (const record of samplePatients) {
        const json = await send({ method: 'POST', url: `/api/v1/patients/${record.id}/briefing?trace=1`, headers: { authorization, 'content-type': 'application/json' }, payload: '{}' });
        expect(json.statusCode, `patient ${record.id}: ${json.body.slice(0, 200)}`).toBe(200);
        const stream = await send({ method: 'POST', url: `/api/v1/patients/${record.id}/briefing`, headers: { authorization, accept: 'text/event-stream' } });
        expect(stream.statusCode).toBe(200);
        expect(parseServerSentEvents(stream.body).map((event) => event.event).slice(-2)).toEqual(['briefing', 'done']);
        // Error requests that carry the patient's identity where a careless log would keep it.
        await send({ method: 'POST', url: `/api/v1/patients/${segment(record.name.family)}/briefing`, headers: { authorization } });
        await send({ method: 'POST', url: `/api/v1/patients/${record.id}/briefing`, headers: { authorization, 'content-type': 'application/json' }, payload: JSON.stringify({ name: record.name, birthDate: record.birthDate }) });
        await send({ method: 'POST', url: `/api/v1/patients/${record.id}/briefing`, headers: { authorization, 'content-type': 'application/json' }, payload: `{"given":"${record.name.given}"` });
        await send({ method: 'POST', url: `/api/v1/patients/${record.id}/briefing`, headers: { authorization, 'content-type': 'text/plain' }, payload: record.name.given });
        await send({ method: 'GET', url: `/api/v1/patients?name=${segment(record.name.given)}&birthDate=${record.birthDate}`, headers: { authorization: `Bearer ${record.name.family}-${record.birthDate}` } });
        await send({ method: 'GET', url: `/${segment(record.name.given)}/${record.birthDate}` });
      }
      for (const id of ['424242', "1' OR '1'='1", '0']) await send({ method: 'POST', url: `/api/v1/patients/${segment(id)}/briefing`, headers: { authorization } });
      await send({ method: 'POST', url: '/api/v1/patients/1/briefing', headers: { authorization, 'content-type': 'application/json' }, payload: `{"x":"${'y'.repeat(20_000)}"}` });
      await send({ method: 'GET', url: '/readyz', headers: { authorization } });
      await send({ method: 'GET', url: '/metrics', headers: { authorization } });
    } finally {
      await server.close();
    }

    const logged = `${capture.text()}\n${printed.join('\n')}`;
    // The capture did see the run (one line per request at least), so finding nothing means something.
    expect(capture.lines().filter((line) => line.msg === 'request completed').length).toBeGreaterThanOrEqual(requests);
    const found = identifyingStrings.filter((text) => logged.includes(text));
    expect(found, 'patient identifiers found in the logs').toEqual([]);
  }, 20_000);
});
