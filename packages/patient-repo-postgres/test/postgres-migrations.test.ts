// migrate(): versioned, recorded, idempotent, safe when several processes run it at once.
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_TABLE, POSTGRES_MIGRATIONS, createPostgresPatientRepository } from '../src/index.ts';
import { createTestPool, dropSchemas, loadSamplePatients, uniqueSchemaName } from './postgres-test-database.ts';

const pool = createTestPool({ max: 4 });
const created: string[] = [];
const freshSchema = (): string => {
  const schema = uniqueSchemaName('migrations');
  created.push(schema);
  return schema;
};

afterAll(async () => {
  await dropSchemas(pool, ...created);
  await pool.end();
});

async function recordedVersions(schema: string): Promise<{ version: number; name: string }[]> {
  const result = await pool.query<{ version: number; name: string }>(`select version, name from ${pg.escapeIdentifier(schema)}.${MIGRATIONS_TABLE} order by version`);
  return result.rows;
}

async function tables(schema: string): Promise<string[]> {
  const result = await pool.query<{ tablename: string }>('select tablename from pg_tables where schemaname = $1 order by tablename', [schema]);
  return result.rows.map((row) => row.tablename);
}

const expectedVersions = POSTGRES_MIGRATIONS.map(({ version, name }) => ({ version, name }));

describe('migrate', () => {
  it('creates the schema, the tables and the migrations record', async () => {
    const schema = freshSchema();
    await createPostgresPatientRepository({ pool, schema }).migrate();
    expect(await tables(schema)).toEqual(['aidoc_migrations', 'allergies', 'conditions', 'labs', 'medications', 'notes', 'patients']);
    expect(await recordedVersions(schema)).toEqual(expectedVersions);
    // Each child table: a foreign key to patients and an index led by patient_id (its primary key).
    const children = await pool.query<{ table: string; foreign_keys: number; indexes: string }>(
      `select c.relname as table,
         (select count(*) from pg_constraint k where k.conrelid = c.oid and k.contype = 'f')::integer as foreign_keys,
         (select string_agg(pg_get_indexdef(i.indexrelid), '; ') from pg_index i where i.indrelid = c.oid) as indexes
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = $1 and c.relname in ('conditions', 'medications', 'allergies', 'labs', 'notes') order by c.relname`,
      [schema],
    );
    expect(children.rows).toHaveLength(5);
    for (const row of children.rows) {
      expect(row.foreign_keys, row.table).toBe(1);
      expect(row.indexes, row.table).toContain('(patient_id, "position")');
    }
  });

  it('is idempotent: a second and third run apply nothing and keep the data', async () => {
    const schema = freshSchema();
    const repository = createPostgresPatientRepository({ pool, schema });
    await repository.migrate();
    await repository.seed(await loadSamplePatients());
    await repository.migrate();
    await repository.migrate();
    expect(await recordedVersions(schema)).toEqual(expectedVersions);
    expect((await repository.getById('1')).id).toBe('1');
  });

  it('is safe when several processes migrate one schema at once (advisory lock)', async () => {
    for (let round = 0; round < 3; round++) {
      const schema = freshSchema();
      // Separate pools: as separate processes would, each on its own connections.
      const pools = Array.from({ length: 4 }, () => createTestPool({ max: 1 }));
      try {
        await Promise.all(pools.map((each) => createPostgresPatientRepository({ pool: each, schema }).migrate()));
      } finally {
        await Promise.all(pools.map((each) => each.end()));
      }
      expect(await recordedVersions(schema)).toEqual(expectedVersions);
      expect(await tables(schema)).toHaveLength(7);
    }
  });

  it('migrates different schemas independently, at the same time', async () => {
    const first = freshSchema();
    const second = freshSchema();
    await Promise.all([createPostgresPatientRepository({ pool, schema: first }).migrate(), createPostgresPatientRepository({ pool, schema: second }).migrate()]);
    expect(await recordedVersions(first)).toEqual(expectedVersions);
    expect(await recordedVersions(second)).toEqual(expectedVersions);
  });

  it('a failed migration rolls back completely and leaves the pool usable', async () => {
    const schema = freshSchema();
    // A table in the way: version 1 cannot create `patients`, so nothing of it may remain.
    await pool.query(`create schema ${pg.escapeIdentifier(schema)}`);
    await pool.query(`create table ${pg.escapeIdentifier(schema)}.patients (x integer)`);
    const repository = createPostgresPatientRepository({ pool, schema });
    await expect(repository.migrate()).rejects.toMatchObject({ code: 'INTERNAL', details: { sqlState: '42P07', operation: 'migrate' } });
    expect(await tables(schema)).toEqual(['patients']);
    expect(pool.totalCount).toBe(pool.idleCount);
    const check = await pool.query<{ ok: number }>('select 1 as ok');
    expect(check.rows[0]!.ok).toBe(1);
  });
});
