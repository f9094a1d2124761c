import { escapeIdentifier } from 'pg';

/**
 * The statements of one schema, built once when the repository is created. Every value travels
 * as a parameter; the only text spliced in is the schema name, checked against an identifier
 * pattern by the settings and quoted here.
 */
export interface PatientRecordStatements {
  /**
   * One full record in one round trip: the patient's columns plus one `json_agg` subquery per
   * child table (ordered by `position`), each served by the child's `(patient_id, position)`
   * primary key. `$1` is the id. Child items carry the tables' column names; dates are
   * `YYYY-MM-DD` text (independent of the session's DateStyle); numerics are JSON numbers.
   */
  readonly getById: string;
  /** Ids with the age in years and the number of active conditions, for labels. */
  readonly list: string;
  /**
   * The seed, in order, each taking `$1`: the records as one JSON array. The patients are
   * upserted by id; each seeded patient's child rows are replaced (deleted, then inserted with
   * their array index as `position`).
   */
  readonly seed: readonly string[];
}

/** The most patients `list()` returns (it feeds a demo's picker, not an export). */
export const LIST_LIMIT = 1_000;

interface ChildTable {
  readonly table: string;
  /** The record's array this table holds. */
  readonly field: 'conditions' | 'medications' | 'allergies' | 'labs' | 'notes';
  /** `json_build_object` arguments reading row alias `t`. */
  readonly jsonObject: string;
  /** Columns written by the seed, after `patient_id, position`. */
  readonly columns: string;
  /** Their values, reading the record's item as JSON `item.value`. */
  readonly values: string;
}

const date = (expression: string): string => `to_char(${expression}, 'YYYY-MM-DD')`;

const CHILD_TABLES: readonly ChildTable[] = [
  {
    table: 'conditions',
    field: 'conditions',
    jsonObject: `'code', t.code, 'name', t.name, 'status', t.status, 'onset_date', ${date('t.onset_date')}`,
    columns: 'code, name, status, onset_date',
    values: `item.value->>'code', item.value->>'name', item.value->>'status', (item.value->>'onsetDate')::date`,
  },
  {
    table: 'medications',
    field: 'medications',
    jsonObject: `'name', t.name, 'dose', t.dose, 'frequency', t.frequency, 'route', t.route, 'start_date', ${date('t.start_date')}`,
    columns: 'name, dose, frequency, route, start_date',
    values: `item.value->>'name', item.value->>'dose', item.value->>'frequency', item.value->>'route', (item.value->>'startDate')::date`,
  },
  {
    table: 'allergies',
    field: 'allergies',
    jsonObject: `'substance', t.substance, 'reaction', t.reaction, 'severity', t.severity`,
    columns: 'substance, reaction, severity',
    values: `item.value->>'substance', item.value->>'reaction', item.value->>'severity'`,
  },
  {
    table: 'labs',
    field: 'labs',
    jsonObject: `'name', t.name, 'code', t.code, 'value', t.value, 'unit', t.unit, 'date', ${date('t.date')}, 'reference_low', t.reference_low, 'reference_high', t.reference_high`,
    columns: 'name, code, value, unit, date, reference_low, reference_high',
    values:
      `item.value->>'name', item.value->>'code', (item.value->>'value')::numeric, item.value->>'unit', (item.value->>'date')::date, ` +
      `(item.value->'referenceRange'->>'low')::numeric, (item.value->'referenceRange'->>'high')::numeric`,
  },
  {
    table: 'notes',
    field: 'notes',
    jsonObject: `'date', ${date('t.date')}, 'author', t.author, 'text', t.text`,
    columns: 'date, author, text',
    values: `(item.value->>'date')::date, item.value->>'author', item.value->>'text'`,
  },
];

/** The statements for `schema` (already validated as an identifier). */
export function patientRecordStatements(schema: string): PatientRecordStatements {
  const quotedSchema = escapeIdentifier(schema);
  const table = (name: string): string => `${quotedSchema}.${name}`;

  const childArrays = CHILD_TABLES.map(
    (child) =>
      `coalesce((select json_agg(json_build_object(${child.jsonObject}) order by t.position) from ${table(child.table)} t where t.patient_id = p.id), '[]'::json) as ${child.field}`,
  );
  const getById = [
    `select p.id::text as id, p.given_name, p.family_name, ${date('p.birth_date')} as birth_date, p.sex,`,
    `  ${childArrays.join(',\n  ')}`,
    `from ${table('patients')} p where p.id = $1::bigint`,
  ].join('\n');

  const list = [
    `select p.id::text as id, extract(year from age(current_date, p.birth_date))::integer as age_years,`,
    `  (select count(*) from ${table('conditions')} c where c.patient_id = p.id and c.status = 'active')::integer as active_conditions`,
    `from ${table('patients')} p order by p.id limit ${LIST_LIMIT}`,
  ].join('\n');

  const records = `json_array_elements($1::json) as record(value)`;
  const seed = [
    `insert into ${table('patients')} (id, given_name, family_name, birth_date, sex)
select (record.value->>'id')::bigint, record.value->'name'->>'given', record.value->'name'->>'family', (record.value->>'birthDate')::date, record.value->>'sex'
from ${records}
on conflict (id) do update set given_name = excluded.given_name, family_name = excluded.family_name, birth_date = excluded.birth_date, sex = excluded.sex`,
    ...CHILD_TABLES.flatMap((child) => [
      `delete from ${table(child.table)} where patient_id in (select (record.value->>'id')::bigint from ${records})`,
      `insert into ${table(child.table)} (patient_id, position, ${child.columns})
select (record.value->>'id')::bigint, item.ordinality - 1, ${child.values}
from ${records}
cross join lateral json_array_elements(record.value->'${child.field}') with ordinality as item(value, ordinality)`,
    ]),
  ];
  return { getById, list, seed };
}
