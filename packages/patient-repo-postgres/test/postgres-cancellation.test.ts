// Abort and statement timeout against statements really running on the server (a view that
// sleeps): the call rejects promptly, the backend's statement is cancelled (pg_stat_activity
// shows it gone long before the sleep would end), and no pool client leaks.
import { getEventListeners } from 'node:events';
import { AidocError } from '@aidoc/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresPatientRepository } from '../src/index.ts';
import { activeStatements, createSlowSchema, createTestPool, dropSchemas, eventually, loadSamplePatients, uniqueSchemaName } from './postgres-test-database.ts';

const schema = uniqueSchemaName('cancellation');
const admin = createTestPool({ max: 2 });
let slow = '';

beforeAll(async () => {
  const repository = createPostgresPatientRepository({ pool: admin, schema });
  await repository.migrate();
  await repository.seed(await loadSamplePatients());
  slow = await createSlowSchema(admin, schema, 60);
});

afterAll(async () => {
  await dropSchemas(admin, slow, schema);
  await admin.end();
});

/** Rejection of `promise` and how long after `from` it came; fails the test if it resolves. */
async function rejection(promise: Promise<unknown>, from: number): Promise<{ error: AidocError; elapsedMs: number }> {
  try {
    await promise;
  } catch (error) {
    if (!AidocError.isInstance(error)) throw error;
    return { error, elapsedMs: performance.now() - from };
  }
  throw new Error('expected a rejection');
}

/** No checked-out client, nobody waiting: every client borrowed went back (or was discarded). */
const poolAtRest = (pool: { totalCount: number; idleCount: number; waitingCount: number }): boolean => pool.totalCount === pool.idleCount && pool.waitingCount === 0;

describe('abort', () => {
  it('rejects ABORTED within 200 ms, cancels the statement on the server, and leaks no client', async () => {
    const pool = createTestPool({ max: 2 });
    const repository = createPostgresPatientRepository({ pool, schema: slow, statementTimeoutMs: 0 });
    try {
      const controller = new AbortController();
      const call = repository.getById('1', { signal: controller.signal });
      expect(await eventually(async () => (await activeStatements(admin, slow)) === 1, 2_000)).toBe(true);
      const abortedAt = performance.now();
      controller.abort();
      const { error, elapsedMs } = await rejection(call, abortedAt);
      expect(error.code).toBe('ABORTED');
      expect(error.retryable).toBe(false);
      expect(elapsedMs).toBeLessThan(200);
      // The sleep had 60 s to go: only a cancel ends it this soon.
      expect(await eventually(async () => (await activeStatements(admin, slow)) === 0, 2_000)).toBe(true);
      await repository.close();
      expect(poolAtRest(pool)).toBe(true);
      // The interrupted connection was discarded rather than handed back with an uncertain state.
      expect(pool.totalCount).toBe(0);
    } finally {
      await repository.close();
      await pool.end();
    }
  });

  it('an abort while the pool makes the call wait rejects at once; the client, when free, goes back', async () => {
    const pool = createTestPool({ max: 1 });
    const hanging = createPostgresPatientRepository({ pool, schema: slow, statementTimeoutMs: 0 });
    const fast = createPostgresPatientRepository({ pool, schema });
    try {
      const holder = new AbortController();
      const holding = hanging.getById('1', { signal: holder.signal }).catch((error: unknown) => error);
      expect(await eventually(async () => (await activeStatements(admin, slow)) === 1, 2_000)).toBe(true);
      const waiter = new AbortController();
      const waiting = fast.getById('2', { signal: waiter.signal });
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(pool.waitingCount).toBe(1);
      const abortedAt = performance.now();
      waiter.abort();
      const { error, elapsedMs } = await rejection(waiting, abortedAt);
      expect(error.code).toBe('ABORTED');
      expect(elapsedMs).toBeLessThan(50);
      holder.abort();
      expect(AidocError.hasCode(await holding, 'ABORTED')).toBe(true);
      await hanging.close();
      expect(await eventually(() => poolAtRest(pool), 2_000)).toBe(true);
      // The pool still serves: nothing is stuck in it.
      expect((await fast.getById('2')).id).toBe('2');
    } finally {
      await Promise.all([hanging.close(), fast.close()]);
      await pool.end();
    }
  });

  it('20 concurrent calls aborted at random moments all reject ABORTED; no statement or client is left', async () => {
    const pool = createTestPool({ max: 4 });
    const repository = createPostgresPatientRepository({ pool, schema: slow, statementTimeoutMs: 0 });
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, async (_, index) => {
          const controller = new AbortController();
          const call = repository.getById(String((index % 6) + 1), { signal: controller.signal });
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 80));
          const abortedAt = performance.now();
          controller.abort();
          return rejection(call, abortedAt);
        }),
      );
      expect(outcomes.map((outcome) => outcome.error.code)).toEqual(Array.from({ length: 20 }, () => 'ABORTED'));
      expect(Math.max(...outcomes.map((outcome) => outcome.elapsedMs))).toBeLessThan(200);
      await repository.close();
      expect(poolAtRest(pool)).toBe(true);
      expect(await eventually(async () => (await activeStatements(admin, slow)) === 0, 2_000)).toBe(true);
    } finally {
      await repository.close();
      await pool.end();
    }
  });

  it('leaves no abort listener on the signal after a successful call', async () => {
    const repository = createPostgresPatientRepository({ pool: admin, schema });
    const controller = new AbortController();
    await repository.getById('1', { signal: controller.signal });
    await repository.list({ signal: controller.signal });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});

describe('statement timeout', () => {
  it('statementTimeoutMs rejects TIMEOUT (retryable) and cancels the statement, on an injected pool', async () => {
    const pool = createTestPool({ max: 2 });
    const repository = createPostgresPatientRepository({ pool, schema: slow, statementTimeoutMs: 150 });
    try {
      const started = performance.now();
      const { error, elapsedMs } = await rejection(repository.getById('1'), started);
      expect(error.code).toBe('TIMEOUT');
      expect(error.retryable).toBe(true);
      expect(error.details).toMatchObject({ patientId: '1', statementTimeoutMs: 150 });
      expect(elapsedMs).toBeGreaterThanOrEqual(145);
      expect(elapsedMs).toBeLessThan(600);
      expect(await eventually(async () => (await activeStatements(admin, slow)) === 0, 2_000)).toBe(true);
      await repository.close();
      expect(poolAtRest(pool)).toBe(true);
    } finally {
      await pool.end();
    }
  });

  it("the server's own statement_timeout (SQLSTATE 57014) maps to TIMEOUT", async () => {
    const pool = createTestPool({ max: 2, statement_timeout: 150 });
    const repository = createPostgresPatientRepository({ pool, schema: slow, statementTimeoutMs: 0 });
    try {
      const { error, elapsedMs } = await rejection(repository.getById('1'), performance.now());
      expect(error.code).toBe('TIMEOUT');
      expect(error.retryable).toBe(true);
      expect(error.details).toMatchObject({ sqlState: '57014', patientId: '1' });
      expect(elapsedMs).toBeLessThan(1_000);
      // A server-side timeout leaves the connection healthy: it went back to the pool.
      expect(pool.totalCount).toBe(1);
      expect(poolAtRest(pool)).toBe(true);
    } finally {
      await repository.close();
      await pool.end();
    }
  });

  it('a repository built from a connection string enforces statementTimeoutMs too', async () => {
    const { TEST_DATABASE_URL } = await import('./postgres-test-database.ts');
    const repository = createPostgresPatientRepository({ connectionString: TEST_DATABASE_URL, schema: slow, statementTimeoutMs: 150 });
    try {
      const { error } = await rejection(repository.getById('3'), performance.now());
      expect(error.code).toBe('TIMEOUT');
      expect(await eventually(async () => (await activeStatements(admin, slow)) === 0, 2_000)).toBe(true);
    } finally {
      await repository.close();
    }
  });
});
