// Settings, pool ownership and connection failures.
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresPatientRepository } from '../src/index.ts';
import {
  TEST_DATABASE_URL,
  closedPort,
  createSlowSchema,
  createTestPool,
  dropSchemas,
  eventually,
  loadSamplePatients,
  rejectionOf,
  uniqueSchemaName,
} from './postgres-test-database.ts';

const schema = uniqueSchemaName('connection');
const admin = createTestPool({ max: 2 });

afterAll(async () => {
  await dropSchemas(admin, schema);
  await admin.end();
});


describe('pool ownership', () => {
  it('close() leaves an injected pool open', async () => {
    const pool = createTestPool({ max: 2 });
    const repository = createPostgresPatientRepository({ pool, schema });
    await repository.migrate();
    await repository.close();
    await repository.close();
    expect(pool.ended).toBe(false);
    expect(pool.ending).toBe(false);
    expect((await pool.query<{ ok: number }>('select 1 as ok')).rows[0]!.ok).toBe(1);
    await pool.end();
  });

  it('close() ends the pool the repository built from a connection string; later calls reject', async () => {
    const repository = createPostgresPatientRepository({ connectionString: TEST_DATABASE_URL, schema, maxConnections: 2 });
    await repository.migrate();
    await repository.seed(await loadSamplePatients());
    expect((await repository.getById('1')).id).toBe('1');
    await repository.close();
    const error = await rejectionOf(repository.getById('1'));
    expect(error.code).toBe('INTERNAL');
    expect(error.message).toContain('closed');
  });

  it('reads DATABASE_URL when neither pool nor connectionString is given', async () => {
    const previous = process.env.DATABASE_URL;
    process.env.DATABASE_URL = TEST_DATABASE_URL;
    try {
      const repository = createPostgresPatientRepository({ schema });
      await repository.migrate();
      expect((await repository.list()).length).toBeGreaterThanOrEqual(0);
      await repository.close();
    } finally {
      if (previous === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = previous;
    }
  });
});

describe('connection failures', () => {
  it('a server that is not there (connection refused) rejects UPSTREAM_UNAVAILABLE, retryable, for every operation', async () => {
    const repository = createPostgresPatientRepository({ connectionString: `postgres://postgres@127.0.0.1:${await closedPort()}/test`, schema });
    try {
      const samples = await loadSamplePatients();
      for (const call of [() => repository.getById('1'), () => repository.list(), () => repository.migrate(), () => repository.seed(samples)]) {
        const error = await rejectionOf(call());
        expect(error.code).toBe('UPSTREAM_UNAVAILABLE');
        expect(error.retryable).toBe(true);
        expect(error.details).toMatchObject({ provider: 'postgres', systemCode: 'ECONNREFUSED' });
      }
    } finally {
      await repository.close();
    }
  });

  it('a connection terminated by the server mid-statement rejects UPSTREAM_UNAVAILABLE and is not reused', async () => {
    const pool = createTestPool({ max: 1 });
    const repository = createPostgresPatientRepository({ pool, schema });
    await repository.migrate();
    await repository.seed(await loadSamplePatients());
    const slow = await createSlowSchema(admin, schema, 30);
    const slowRepository = createPostgresPatientRepository({ pool, schema: slow, statementTimeoutMs: 0 });
    try {
      const call = slowRepository.getById('1');
      void call.catch(() => undefined); // inspected below, after the backend is terminated
      let pid: number | undefined;
      expect(
        await eventually(async () => {
          const { rows } = await admin.query<{ pid: number }>(`select pid from pg_stat_activity where state = 'active' and query like '%' || $1 || '%' and query not like '%pg_stat_activity%'`, [slow]);
          pid = rows[0]?.pid;
          return pid !== undefined;
        }, 2_000),
      ).toBe(true);
      await admin.query('select pg_terminate_backend($1)', [pid]);
      const error = await rejectionOf(call);
      expect(error.code).toBe('UPSTREAM_UNAVAILABLE');
      expect(error.retryable).toBe(true);
      expect(error.details).toMatchObject({ sqlState: '57P01', operation: 'getById', patientId: '1' });
      // The dead connection was discarded, not handed to the next caller.
      expect(await eventually(() => pool.totalCount === 0, 1_000)).toBe(true);
      expect((await repository.getById('2')).id).toBe('2');
    } finally {
      await Promise.all([repository.close(), slowRepository.close()]);
      await pool.end();
      await dropSchemas(admin, slow);
    }
  });
});

describe('pool exhaustion', () => {
  it("no connection freed within the pool's connectionTimeoutMillis rejects TIMEOUT, retryable", async () => {
    const pool = createTestPool({ max: 1, connectionTimeoutMillis: 100 });
    const repository = createPostgresPatientRepository({ pool, schema });
    const held = await pool.connect();
    try {
      const error = await rejectionOf(repository.getById('1'));
      expect(error.code).toBe('TIMEOUT');
      expect(error.retryable).toBe(true);
      expect(error.message).toContain('no pool connection came free');
    } finally {
      held.release();
      await repository.close();
      await pool.end();
    }
  });
});

describe('settings', () => {
  const pool = {} as pg.Pool;
  const withoutDatabaseUrl = <T>(fn: () => T): T => {
    const previous = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    try {
      return fn();
    } finally {
      if (previous !== undefined) process.env.DATABASE_URL = previous;
    }
  };

  it('names the option and the environment variable when there is nowhere to connect', () => {
    expect(() => withoutDatabaseUrl(() => createPostgresPatientRepository())).toThrow(/`connectionString`.*DATABASE_URL/);
    expect(() => withoutDatabaseUrl(() => createPostgresPatientRepository({ connectionString: ' ' }))).toThrow(TypeError);
  });

  it('never echoes a connection string (it may hold a password)', () => {
    expect(() => createPostgresPatientRepository({ pool: createTestPoolStub(), connectionString: 'postgres://user:secret@host/db' })).toThrow(/<redacted>/);
    expect(() => createPostgresPatientRepository({ pool: createTestPoolStub(), connectionString: 'postgres://user:secret@host/db' })).not.toThrow(/secret/);
  });

  it('refuses bad values, p-queue style', () => {
    expect(() => createPostgresPatientRepository({ connectionString: TEST_DATABASE_URL, schema: 'x; drop table patients' })).toThrow(
      /^Expected `schema` to be a PostgreSQL identifier.*got `x; drop table patients` \(string\)$/,
    );
    expect(() => createPostgresPatientRepository({ connectionString: TEST_DATABASE_URL, schema: 'a'.repeat(64) })).toThrow(/`schema`/);
    expect(() => createPostgresPatientRepository({ connectionString: TEST_DATABASE_URL, statementTimeoutMs: -1 })).toThrow(/`statementTimeoutMs`/);
    expect(() => createPostgresPatientRepository({ connectionString: TEST_DATABASE_URL, statementTimeoutMs: 1.5 })).toThrow(/`statementTimeoutMs`/);
    expect(() => createPostgresPatientRepository({ connectionString: TEST_DATABASE_URL, maxConnections: 0 })).toThrow(/^Expected `maxConnections` to be a positive integer, got `0` \(number\)$/);
    expect(() => createPostgresPatientRepository({ pool })).toThrow(/`pool`/);
    expect(() => createPostgresPatientRepository({ pool: createTestPoolStub(), maxConnections: 3 })).toThrow(/`maxConnections`.*`pool`/);
    expect(() => createPostgresPatientRepository({ connectionString: TEST_DATABASE_URL, maxConection: 3 } as never)).toThrow(/Unknown setting `maxConection`/);
  });

  it('builds nothing and connects nowhere until first used', () => {
    const repository = createPostgresPatientRepository({ connectionString: 'postgres://nobody@127.0.0.1:1/none' });
    expect(repository.provider).toBe('postgres');
    expect(repository.schema).toBe('public');
  });
});

/** Something shaped like a pool, for settings checks that never reach it. */
function createTestPoolStub(): pg.Pool {
  return { connect: () => Promise.reject(new Error('unused')), query: () => Promise.reject(new Error('unused')) } as unknown as pg.Pool;
}
