// getById, list and seed against a real server, checked around the adapter (Auth.js style): what
// the tables hold is read with plain SQL, next to what the repository returns.
import type { PatientRecord } from '@aidoc/core';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPostgresPatientRepository } from '../src/index.ts';
import { createTestPool, dropSchemas, loadSamplePatients, rejectionOf, uniqueSchemaName } from './postgres-test-database.ts';

const schema = uniqueSchemaName('repository');
const quoted = pg.escapeIdentifier(schema);
const pool = createTestPool();
let acquired = 0;
pool.on('acquire', () => {
  acquired += 1;
});
const repository = createPostgresPatientRepository({ pool, schema });
let samples: PatientRecord[] = [];

beforeAll(async () => {
  samples = await loadSamplePatients();
  await repository.migrate();
});

beforeEach(async () => {
  await pool.query(`truncate ${quoted}.patients cascade`);
  await repository.seed(samples);
});

afterAll(async () => {
  await repository.close();
  await dropSchemas(pool, schema);
  await pool.end();
});


const count = async (table: string): Promise<number> => (await pool.query<{ count: number }>(`select count(*)::integer as count from ${quoted}.${table}`)).rows[0]!.count;

/** A record with every optional field set, and one with none: the mapping must carry both exactly. */
const fullRecord: PatientRecord = {
  id: '900000000001',
  name: { given: 'Test', family: 'Everything' },
  birthDate: '1960-02-29',
  sex: 'other',
  conditions: [{ code: 'E11.9', name: 'Condition', status: 'resolved', onsetDate: '2000-01-31' }],
  medications: [{ name: 'Drug', dose: '1 mg', frequency: 'daily', route: 'oral', startDate: '2001-12-01' }],
  allergies: [{ substance: 'Dust', reaction: 'Sneezing', severity: 'severe' }],
  labs: [
    { name: 'Exact', code: '1-1', value: 0.1, unit: 'x', date: '2020-01-01', referenceRange: { low: -2.5, high: 1e21 } },
    { name: 'Integer', value: 5, unit: '', date: '2020-01-02', referenceRange: { high: 5 } },
    { name: 'Tiny', value: 1.2345678901234566e-7, unit: 'u', date: '2020-01-03', referenceRange: {} },
  ],
  notes: [{ date: '2021-06-30', author: 'Dr A', text: 'A note with \'quotes\', "double quotes", a backslash \\ and ünïcode.' }],
};
const minimalRecord: PatientRecord = {
  id: '900000000002',
  name: { given: 'Test', family: 'Nothing' },
  birthDate: '1999-12-31',
  sex: 'unknown',
  conditions: [],
  medications: [],
  allergies: [],
  labs: [],
  notes: [{ date: '2021-06-30', text: 'Only a note.' }],
};

describe('getById', () => {
  it('returns each sample patient exactly as the JSON holds it', async () => {
    for (const sample of samples) expect(await repository.getById(sample.id)).toEqual(sample);
  });

  it('carries every optional field, and their absence, exactly (numeric values come back as numbers)', async () => {
    await repository.seed([fullRecord, minimalRecord]);
    expect(await repository.getById(fullRecord.id)).toStrictEqual(fullRecord);
    expect(await repository.getById(minimalRecord.id)).toStrictEqual(minimalRecord);
    const stored = await pool.query<{ value: string }>(`select value::text from ${quoted}.labs where patient_id = $1 order by position`, [fullRecord.id]);
    // Stored as exact numerics (the JSON's shortest round-trip text), read back as the same doubles.
    expect(stored.rows.map((row) => row.value)).toEqual(['0.1', '5', '0.00000012345678901234566']);
    expect(stored.rows.map((row) => Number(row.value))).toEqual(fullRecord.labs.map((lab) => lab.value));
  });

  it('keeps the order of every list, whatever the values', async () => {
    const sample = samples[0]!;
    const reversed: PatientRecord = {
      ...sample,
      conditions: [...sample.conditions].reverse(),
      medications: [...sample.medications].reverse(),
      labs: [...sample.labs].reverse(),
      notes: [...sample.notes].reverse(),
    };
    await repository.seed([reversed]);
    expect(await repository.getById(sample.id)).toEqual(reversed);
    const positions = await pool.query<{ name: string }>(`select name from ${quoted}.medications where patient_id = $1 order by position`, [sample.id]);
    expect(positions.rows.map((row) => row.name)).toEqual(reversed.medications.map((medication) => medication.name));
  });

  it('refuses SQL injection attempts with INVALID_INPUT, without a query, and the tables stay intact', async () => {
    const before = acquired;
    for (const id of ['1; DROP TABLE patients', '1 OR 1=1', "'", "1'; DROP TABLE patients; --", '1) OR (1=1', '1 UNION SELECT 1', '$1', '１']) {
      const error = await rejectionOf(repository.getById(id));
      expect(error.code, id).toBe('INVALID_INPUT');
      expect(error.message).not.toContain(id);
    }
    expect(acquired).toBe(before);
    expect(await count('patients')).toBe(6);
    expect(await count('conditions')).toBe(samples.reduce((total, record) => total + record.conditions.length, 0));
  });

  it('a record that fails PatientRecordSchema rejects INVALID_OUTPUT naming the id and the path, not the data', async () => {
    await pool.query(`insert into ${quoted}.conditions (patient_id, position, name, status) values (1, 5, '', 'active')`);
    const error = await rejectionOf(repository.getById('1'));
    expect(error.code).toBe('INVALID_OUTPUT');
    expect(error.message).toContain('Patient 1');
    expect(error.message).toContain('conditions.5.name');
    expect(error.details).toMatchObject({ patientId: '1', path: 'conditions.5.name' });
    expect(error.message).not.toMatch(/Harold|Sampleton/);

    await pool.query(`update ${quoted}.labs set reference_low = 10, reference_high = 1 where patient_id = 2 and position = 0`);
    const range = await rejectionOf(repository.getById('2'));
    expect(range.code).toBe('INVALID_OUTPUT');
    expect(range.details).toMatchObject({ patientId: '2', path: 'labs.0.referenceRange' });
  });

  it('NOT_FOUND for an id no patient has, including one beyond the stored range', async () => {
    expect((await rejectionOf(repository.getById('7'))).code).toBe('NOT_FOUND');
    expect((await rejectionOf(repository.getById('999999999999'))).code).toBe('NOT_FOUND');
  });

  it('a schema that was never migrated rejects INTERNAL saying to run migrate()', async () => {
    const unmigrated = createPostgresPatientRepository({ pool, schema: uniqueSchemaName('unmigrated') });
    const error = await rejectionOf(unmigrated.getById('1'));
    expect(error.code).toBe('INTERNAL');
    expect(error.message).toContain('migrate()');
    expect(error.retryable).toBe(false);
  });

  it('serves concurrent reads correctly (each call gets its own record)', async () => {
    const ids = Array.from({ length: 60 }, (_, index) => String((index % 6) + 1));
    const records = await Promise.all(ids.map((id) => repository.getById(id)));
    expect(records.map((record) => record.id)).toEqual(ids);
    expect(pool.totalCount).toBeLessThanOrEqual(8);
  });
});

describe('list', () => {
  it('lists the patients by id with labels that carry no name or date', async () => {
    const listings = await repository.list();
    expect(listings.map((listing) => listing.id)).toEqual(['1', '2', '3', '4', '5', '6']);
    for (const listing of listings) {
      const record = samples.find((sample) => sample.id === listing.id)!;
      const active = record.conditions.filter((condition) => condition.status === 'active').length;
      expect(listing.label).toMatch(new RegExp(`^Patient ${listing.id} — \\d+ y, ${active} active conditions?$`));
      expect(listing.label).not.toContain(record.name.family);
      expect(listing.label).not.toContain(record.birthDate);
    }
  });
});

describe('seed', () => {
  it('upserts by id and replaces the child rows (no duplicates on a second seed)', async () => {
    const sample = samples[0]!;
    const changed: PatientRecord = { ...sample, name: { given: 'Changed', family: 'Name' }, medications: sample.medications.slice(0, 2), allergies: [] };
    await repository.seed([changed]);
    await repository.seed(samples.slice(1));
    expect(await repository.getById('1')).toEqual(changed);
    expect(await count('patients')).toBe(6);
    expect(await count('medications')).toBe(samples.slice(1).reduce((total, record) => total + record.medications.length, 2));
  });

  it('refuses invalid records with INVALID_INPUT naming the position and path, writing nothing', async () => {
    const bad = { ...samples[1]!, id: '42', labs: [{ ...samples[1]!.labs[0]!, value: Number.NaN }] };
    const error = await rejectionOf(repository.seed([fullRecord, bad]));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toContain('record 1 (id 42)');
    expect(error.details).toMatchObject({ index: 1, path: 'labs.0.value' });
    expect(await count('patients')).toBe(6);

    const duplicate = await rejectionOf(repository.seed([fullRecord, fullRecord]));
    expect(duplicate.code).toBe('INVALID_INPUT');
    expect(duplicate.message).toContain('repeats the id');
  });

  it('is all or nothing: a record the database refuses rolls the whole seed back', async () => {
    // A record valid for PatientRecordSchema that a (test-only) table constraint refuses.
    await pool.query(`alter table ${quoted}.notes add constraint short_notes check (length(text) < 1000)`);
    try {
      const long: PatientRecord = { ...minimalRecord, notes: [{ date: '2020-01-01', text: 'x'.repeat(2_000) }] };
      const error = await rejectionOf(repository.seed([fullRecord, long]));
      expect(error.code).toBe('INTERNAL');
      expect(error.details).toMatchObject({ sqlState: '23514', operation: 'seed' });
      expect(error.message).not.toContain('xxxx');
      expect(await count('patients')).toBe(6);
      // The failed transaction did not poison the pool.
      expect((await repository.getById('1')).id).toBe('1');
    } finally {
      await pool.query(`alter table ${quoted}.notes drop constraint short_notes`);
    }
  });
});
