// The published PatientRepository conformance suite against a real PostgreSQL server: the known
// record must equal the sample JSON field for field; the fault fixtures are real too (a
// statement sleeping on the server, a closed port, a role whose connection limit is 0).
import { randomBytes } from 'node:crypto';
import { testPatientRepository } from '@aidoc/core/testing';
import pg from 'pg';
import { afterAll, expect } from 'vitest';
import { createPostgresPatientRepository, type PostgresPatientRepository } from '../src/index.ts';
import {
  activeStatements,
  closedPort,
  createSlowSchema,
  createTestPool,
  dropSchemas,
  eventually,
  loadSamplePatients,
  uniqueSchemaName,
  urlForUser,
} from './postgres-test-database.ts';

const samples = await loadSamplePatients();
const schema = uniqueSchemaName('conformance');
const pool = createTestPool();
let acquired = 0;
pool.on('acquire', () => {
  acquired += 1;
});
const limitedRole = `aidoc_test_limited_${randomBytes(5).toString('hex')}`;

let ready: Promise<string> | undefined;
/** Migrates and seeds the schema once, and builds the slow twin and the limited role; returns the slow schema. */
const setUp = (): Promise<string> =>
  (ready ??= (async () => {
    const repository = createPostgresPatientRepository({ pool, schema });
    await repository.migrate();
    await repository.seed(samples);
    await pool.query(`create role ${pg.escapeIdentifier(limitedRole)} login connection limit 0`);
    return createSlowSchema(pool, schema, 60);
  })());

afterAll(async () => {
  const slow = await setUp();
  // Every hanging statement the suite aborted was cancelled on the server, not just abandoned.
  expect(await eventually(async () => (await activeStatements(pool, slow)) === 0, 3_000)).toBe(true);
  await dropSchemas(pool, slow, schema);
  await pool.query(`drop role if exists ${pg.escapeIdentifier(limitedRole)}`);
  await pool.end();
});

testPatientRepository<PostgresPatientRepository>({
  name: 'postgres',
  create: async () => {
    await setUp();
    return createPostgresPatientRepository({ pool, schema });
  },
  cleanup: (repository) => repository.close(),
  knownId: '1',
  expected: samples.find((record) => record.id === '1'),
  upstreamCalls: () => acquired,
  faults: {
    hanging: async () => createPostgresPatientRepository({ pool, schema: await setUp(), statementTimeoutMs: 0 }),
    unavailable: async () => createPostgresPatientRepository({ connectionString: `postgres://postgres@127.0.0.1:${await closedPort()}/test`, schema }),
    rateLimited: {
      create: async () => {
        await setUp();
        return createPostgresPatientRepository({ connectionString: urlForUser(limitedRole), schema });
      },
      retryAfterMs: undefined,
    },
  },
});
