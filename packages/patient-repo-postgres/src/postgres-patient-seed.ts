import { AidocError, PatientIdSchema, PatientRecordSchema, type PatientRecord } from '@aidoc/core';
import type { PoolClient } from 'pg';
import { POSTGRES_PROVIDER } from './postgres-errors.ts';

/**
 * Checks seed records against `PatientRecordSchema` before anything is written: INVALID_INPUT
 * names the record's position, its id when well-formed, and the failing path (never a value).
 * Two records with one id are refused too (the upsert could not order them).
 */
export function validateSeedRecords(records: unknown, schema: string): PatientRecord[] {
  if (!Array.isArray(records)) {
    throw new AidocError('INVALID_INPUT', 'seed(records) expects an array of patient records', { details: { provider: POSTGRES_PROVIDER, schema } });
  }
  const seen = new Set<string>();
  return records.map((item: unknown, index) => {
    const parsed = PatientRecordSchema.safeParse(item);
    const id = wellFormedId(item);
    const which = `record ${index}${id === undefined ? '' : ` (id ${id})`}`;
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = issue === undefined || issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.');
      throw new AidocError('INVALID_INPUT', `seed: ${which} does not match PatientRecordSchema at ${path}: ${issue?.message ?? 'invalid'}`, {
        details: { provider: POSTGRES_PROVIDER, schema, index, patientId: id, path },
      });
    }
    if (seen.has(parsed.data.id)) {
      throw new AidocError('INVALID_INPUT', `seed: ${which} repeats the id of an earlier record`, { details: { provider: POSTGRES_PROVIDER, schema, index, patientId: id } });
    }
    seen.add(parsed.data.id);
    return parsed.data;
  });
}

/** Runs the seed statements in one transaction; all records land, or none. */
export async function writeSeed(client: PoolClient, statements: readonly string[], records: readonly PatientRecord[]): Promise<void> {
  const payload = JSON.stringify(records);
  await client.query('begin');
  try {
    await client.query('set local statement_timeout = 0');
    for (const statement of statements) await client.query(statement, [payload]);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
}

function wellFormedId(item: unknown): string | undefined {
  if (typeof item !== 'object' || item === null || !('id' in item)) return undefined;
  return PatientIdSchema.safeParse(item.id).success ? (item.id as string) : undefined;
}
