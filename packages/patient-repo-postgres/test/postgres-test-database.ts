// Shared by the tests: a REAL PostgreSQL server (PG_TEST_URL, default the local trust-auth
// server), each test file working in schemas of its own, created here and dropped after.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { PatientRecord } from '@aidoc/core';
import pg from 'pg';

export const TEST_DATABASE_URL = process.env.PG_TEST_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The six sample patients of @aidoc/local, read from its JSON file (adapters do not depend on each other). */
export async function loadSamplePatients(): Promise<PatientRecord[]> {
  const text = await readFile(new URL('../../local/sample-data/patients.json', import.meta.url), 'utf8');
  return JSON.parse(text) as PatientRecord[];
}

/** A fresh schema name, unique to this run: `aidoc_test_<label>_<random>`. */
export function uniqueSchemaName(label: string): string {
  return `aidoc_test_${label}_${randomBytes(5).toString('hex')}`;
}

/** A pool on the test database, with an error listener (a cancelled backend's socket may close late). */
export function createTestPool(config: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 8, ...config });
  pool.on('error', () => undefined);
  return pool;
}

/**
 * Drops the schemas (cascade), ignoring ones that do not exist. Statements still running on them
 * are terminated first, so a test that failed to cancel one cannot block the clean-up (the
 * tests assert on cancellation before they get here).
 */
export async function dropSchemas(pool: pg.Pool, ...schemas: string[]): Promise<void> {
  for (const schema of schemas) {
    await pool.query(
      `select pg_terminate_backend(pid) from pg_stat_activity where pid <> pg_backend_pid() and query like '%' || $1 || '%' and query not like '%pg_stat_activity%'`,
      [schema],
    );
    await pool.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
  }
}

/**
 * A schema whose `patients` is a view over `source`'s that sleeps `seconds` per row read, and
 * whose child tables are plain views over `source`'s: a repository pointed at it hangs in
 * `getById` (a real statement, running on the server) until cancelled.
 */
export async function createSlowSchema(pool: pg.Pool, source: string, seconds: number): Promise<string> {
  const slow = `${source}_slow`;
  const s = pg.escapeIdentifier(slow);
  const from = pg.escapeIdentifier(source);
  await pool.query(`create schema ${s}`);
  await pool.query(`create function ${s}.pause(seconds double precision) returns boolean volatile language plpgsql as $$ begin perform pg_sleep(seconds); return true; end $$`);
  await pool.query(`create view ${s}.patients as select p.* from ${from}.patients p where ${s}.pause(${Number(seconds)})`);
  for (const table of ['conditions', 'medications', 'allergies', 'labs', 'notes']) {
    await pool.query(`create view ${s}.${table} as select * from ${from}.${table}`);
  }
  return slow;
}

/** Backends (other than the asking one) running a statement that mentions `marker`. */
export async function activeStatements(pool: pg.Pool, marker: string): Promise<number> {
  const result = await pool.query<{ count: number }>(
    `select count(*)::integer as count from pg_stat_activity where state = 'active' and pid <> pg_backend_pid() and query like '%' || $1 || '%' and query not like '%pg_stat_activity%'`,
    [marker],
  );
  return result.rows[0]!.count;
}

/** Polls `check` every 10 ms until it returns true; false if `timeoutMs` passes first. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A loopback port nothing listens on (bound, then released): connecting there is refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve, reject) => server.close((error) => (error === undefined ? resolve() : reject(error))));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** The test database URL with another user name. */
export function urlForUser(user: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.username = user;
  url.password = '';
  return url.toString();
}

/** The AidocError `promise` rejects with (fails the test if it resolves or rejects otherwise). */

export { rejectionOf } from '@aidoc/core/testing';
