import { createHash } from 'node:crypto';
import { escapeIdentifier, type PoolClient } from 'pg';
import type { PostgresMigration } from './postgres-migrations.ts';

/** The table, in the target schema, that records which migrations ran. */
export const MIGRATIONS_TABLE = 'aidoc_migrations';

/**
 * Brings `schema` up to the latest migration, on one client, in one transaction:
 *
 * 1. `pg_advisory_xact_lock` on a key derived from the schema name, so a second process
 *    migrating the same schema waits here, then finds the work done (each statement of a READ
 *    COMMITTED transaction sees what committed before it). The lock ends with the transaction,
 *    even if this process dies.
 * 2. Create the schema if missing (checked first: `create schema if not exists` still demands
 *    the CREATE privilege on the database), then `aidoc_migrations`.
 * 3. Apply, in version order, each migration not recorded yet, and record it.
 *
 * Idempotent: a second run applies nothing. A failure rolls everything back. `statement_timeout`
 * is lifted for the transaction (a pool's per-request limit must not cut a migration, or the
 * wait for another process's migration, short).
 */
export async function runMigrations(client: PoolClient, schema: string, migrations: readonly PostgresMigration[]): Promise<void> {
  const quotedSchema = escapeIdentifier(schema);
  await client.query('begin');
  try {
    await client.query('set local statement_timeout = 0');
    await client.query('select pg_advisory_xact_lock($1::bigint)', [migrationLockKey(schema)]);
    const existing = await client.query('select 1 from pg_namespace where nspname = $1', [schema]);
    if (existing.rowCount === 0) await client.query(`create schema ${quotedSchema}`);
    await client.query(`set local search_path to ${quotedSchema}`);
    await client.query(
      `create table if not exists ${quotedSchema}.${MIGRATIONS_TABLE} (version integer primary key, name text not null, applied_at timestamptz not null default now())`,
    );
    const applied = await client.query<{ version: number }>(`select version from ${quotedSchema}.${MIGRATIONS_TABLE}`);
    const done = new Set(applied.rows.map((row) => row.version));
    for (const migration of [...migrations].sort((left, right) => left.version - right.version)) {
      if (done.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query(`insert into ${quotedSchema}.${MIGRATIONS_TABLE} (version, name) values ($1, $2)`, [migration.version, migration.name]);
    }
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
}

/**
 * A 64-bit advisory lock key for the schema: the first 8 bytes of SHA-256 over a name of this
 * package's own, so it does not collide with the application's advisory locks by accident.
 */
export function migrationLockKey(schema: string): string {
  return createHash('sha256').update(`@aidoc/patient-repo-postgres:migrations:${schema}`).digest().readBigInt64BE(0).toString();
}
