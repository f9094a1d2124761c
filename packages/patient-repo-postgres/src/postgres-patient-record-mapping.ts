import { AidocError, PatientRecordSchema, type PatientRecord } from '@aidoc/core';
import { POSTGRES_PROVIDER } from './postgres-errors.ts';

/** The row `getById`'s statement returns: the patient's columns and one JSON array per child table. */
export interface PatientRow {
  readonly id: string;
  readonly given_name: unknown;
  readonly family_name: unknown;
  readonly birth_date: unknown;
  readonly sex: unknown;
  readonly conditions: unknown;
  readonly medications: unknown;
  readonly allergies: unknown;
  readonly labs: unknown;
  readonly notes: unknown;
}

/**
 * Maps a row to a PatientRecord (snake_case columns to the record's fields, SQL nulls to absent
 * optional fields, the two reference bounds to `referenceRange`) and validates it against
 * `PatientRecordSchema`. Whatever the database holds, the result is a valid record or an
 * INVALID_OUTPUT naming the id and the failing path, never the stored value.
 */
export function toPatientRecord(row: PatientRow, schema: string): PatientRecord {
  const candidate = {
    id: row.id,
    name: present({ given: row.given_name, family: row.family_name }),
    birthDate: row.birth_date,
    sex: row.sex,
    conditions: mapItems(row.conditions, (item) => present({ code: item.code, name: item.name, status: item.status, onsetDate: item.onset_date })),
    medications: mapItems(row.medications, (item) =>
      present({ name: item.name, dose: item.dose, frequency: item.frequency, route: item.route, startDate: item.start_date }),
    ),
    allergies: mapItems(row.allergies, (item) => present({ substance: item.substance, reaction: item.reaction, severity: item.severity })),
    labs: mapItems(row.labs, (item) =>
      present({
        name: item.name,
        code: item.code,
        value: item.value,
        unit: item.unit,
        date: item.date,
        referenceRange: present({ low: item.reference_low, high: item.reference_high }),
      }),
    ),
    notes: mapItems(row.notes, (item) => present({ date: item.date, author: item.author, text: item.text })),
  };
  const parsed = PatientRecordSchema.safeParse(candidate);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue === undefined || issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.');
  // zod's messages state the expectation, not the value, so they carry no patient data.
  throw new AidocError(
    'INVALID_OUTPUT',
    `Patient ${row.id} stored in PostgreSQL does not match PatientRecordSchema at ${path}: ${issue?.message ?? 'invalid'}` +
      (parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more issue(s))` : ''),
    { details: { provider: POSTGRES_PROVIDER, schema, patientId: row.id, path, issueCount: parsed.error.issues.length } },
  );
}

/** Applies `map` to each object of a JSON array; anything else passes through for the schema to report. */
function mapItems(value: unknown, map: (item: Readonly<Record<string, unknown>>) => unknown): unknown {
  if (!Array.isArray(value)) return value;
  return value.map((item: unknown) => (typeof item === 'object' && item !== null && !Array.isArray(item) ? map(item as Readonly<Record<string, unknown>>) : item));
}

/** The fields whose value is not SQL null: optional fields are absent from a record, not null. */
function present(fields: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== null && value !== undefined));
}
