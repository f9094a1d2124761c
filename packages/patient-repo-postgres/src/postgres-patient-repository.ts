import {
  AidocError,
  PatientIdSchema,
  throwIfAborted,
  type CallOptions,
  type PatientListing,
  type PatientRecord,
  type PatientRepository,
} from '@aidoc/core';
import pg from 'pg';
import type { Pool } from 'pg';
import { POSTGRES_PROVIDER, type PostgresErrorContext } from './postgres-errors.ts';
import { runMigrations } from './postgres-migration-runner.ts';
import { POSTGRES_MIGRATIONS } from './postgres-migrations.ts';
import { toPatientRecord, type PatientRow } from './postgres-patient-record-mapping.ts';
import { patientRecordStatements } from './postgres-patient-record-sql.ts';
import { resolvePostgresSettings, type PostgresPatientRepositorySettings } from './postgres-patient-repository-settings.ts';
import { validateSeedRecords, writeSeed } from './postgres-patient-seed.ts';
import { createPostgresQueryRunner } from './postgres-query-runner.ts';

/** The PatientRepository over PostgreSQL, with the schema's lifecycle (`migrate`, `seed`, `close`). */
export interface PostgresPatientRepository extends PatientRepository {
  readonly provider: 'postgres';
  /** The PostgreSQL schema holding the tables. */
  readonly schema: string;
  /**
   * One full record, read in one statement (one round trip): the patient's row and a `json_agg`
   * subquery per child table. The id is checked with `PatientIdSchema` before anything else:
   * a malformed one rejects INVALID_INPUT without a query. Rejects NOT_FOUND for an unknown id,
   * INVALID_OUTPUT when the stored record fails `PatientRecordSchema` (naming the id and the
   * path), ABORTED as soon as the signal fires (the statement is then cancelled on the server),
   * TIMEOUT past `statementTimeoutMs`, UPSTREAM_UNAVAILABLE when the server cannot be reached,
   * RATE_LIMITED when it has no connection slot left.
   */
  getById(id: string, options?: CallOptions): Promise<PatientRecord>;
  /**
   * Up to 1,000 patients, by id, labelled "Patient 1 — 71 y, 4 active conditions": an age and
   * a count, never a name or a date. For a demo's patient picker.
   */
  list(options?: CallOptions): Promise<PatientListing[]>;
  /**
   * Creates the schema and tables, or brings them up to date: versioned migrations recorded in
   * `aidoc_migrations`, applied in one transaction under an advisory lock, so concurrent calls
   * (several processes starting at once) are safe, and a second call applies nothing.
   */
  migrate(): Promise<void>;
  /**
   * Writes records in one transaction: patients upserted by id, each one's conditions,
   * medications, allergies, labs and notes replaced, array order kept. Records are validated
   * first (INVALID_INPUT naming the position and path, nothing written).
   */
  seed(records: readonly PatientRecord[]): Promise<void>;
  /**
   * Waits for cancellations in flight, then ends the pool if the repository built it; an
   * injected pool is left open (the application owns it). Later calls reject. Safe to call twice.
   */
  close(): Promise<void>;
}

/**
 * Creates a PatientRepository over PostgreSQL. Pass the application's `pg.Pool` (the repository
 * borrows from it and never ends it), or a connection string (`connectionString`, else the
 * `DATABASE_URL` environment variable), from which the repository builds its own pool on first
 * use. Run `migrate()` once (at deploy or start-up) before the first read.
 *
 * @throws TypeError naming the setting (and the environment variable) when a setting is invalid.
 *
 * @example
 * ```ts
 * const patients = createPostgresPatientRepository({ pool });
 * await patients.migrate();
 * const record = await patients.getById('1', { signal });
 * ```
 */
export function createPostgresPatientRepository(settings?: PostgresPatientRepositorySettings): PostgresPatientRepository {
  const resolved = resolvePostgresSettings(settings, process.env);
  const { schema, poolConfig } = resolved;
  const statements = patientRecordStatements(schema);
  let pool = resolved.pool;
  let closing: Promise<void> | undefined;

  const getPool = (): Pool => {
    if (closing !== undefined) throw new AidocError('INTERNAL', 'The PostgreSQL patient repository is closed', { details: { provider: POSTGRES_PROVIDER, schema } });
    if (pool === undefined) {
      pool = new pg.Pool(poolConfig);
      // An idle client's socket error is emitted on the pool (the pool drops that client):
      // without a listener it would crash the process.
      pool.on('error', () => undefined);
    }
    return pool;
  };
  const runner = createPostgresQueryRunner(getPool, resolved.statementTimeoutMs);
  const context = (operation: string, patientId?: string): PostgresErrorContext => ({ operation, schema, ...(patientId === undefined ? {} : { patientId }) });

  return {
    specificationVersion: 'v1',
    provider: POSTGRES_PROVIDER,
    schema,

    async getById(id: string, options?: CallOptions): Promise<PatientRecord> {
      const parsedId = PatientIdSchema.safeParse(id);
      if (!parsedId.success) {
        // The id is not echoed: a malformed one may be anything (even patient data pasted by mistake).
        throw new AidocError('INVALID_INPUT', `Invalid patient id: ${parsedId.error.issues[0]?.message ?? 'malformed'}`, { details: { provider: POSTGRES_PROVIDER, schema } });
      }
      const signal = options?.signal;
      throwIfAborted(signal);
      const patientId = parsedId.data;
      const rows = await runner.query<PatientRow>({ text: statements.getById, values: [patientId], signal, context: context('getById', patientId) });
      const row = rows[0];
      if (row === undefined) throw new AidocError('NOT_FOUND', `Patient ${patientId} not found`, { details: { provider: POSTGRES_PROVIDER, schema, patientId } });
      return toPatientRecord(row, schema);
    },

    async list(options?: CallOptions): Promise<PatientListing[]> {
      const signal = options?.signal;
      throwIfAborted(signal);
      const rows = await runner.query<{ id: string; age_years: number | null; active_conditions: number }>({ text: statements.list, values: [], signal, context: context('list') });
      return rows.map((row) => ({ id: row.id, label: listingLabel(row.id, row.age_years, row.active_conditions) }));
    },

    async migrate(): Promise<void> {
      await runner.withClient(context('migrate'), (client) => runMigrations(client, schema, POSTGRES_MIGRATIONS));
    },

    async seed(records: readonly PatientRecord[]): Promise<void> {
      const valid = validateSeedRecords(records, schema);
      if (valid.length === 0) return;
      await runner.withClient(context('seed'), (client) => writeSeed(client, statements.seed, valid));
    },

    close(): Promise<void> {
      closing ??= (async () => {
        await runner.drain();
        // Only a pool this repository built; an injected one belongs to the application.
        if (resolved.pool === undefined && pool !== undefined) await pool.end();
      })();
      return closing;
    },
  };
}

function listingLabel(id: string, ageYears: number | null, activeConditions: number): string {
  const parts = [...(ageYears === null ? [] : [`${ageYears} y`]), `${activeConditions} active condition${activeConditions === 1 ? '' : 's'}`];
  return `Patient ${id} — ${parts.join(', ')}`;
}
