import { describe, expect, it } from 'vitest';
import { PatientRecordSchema, type PatientRecord } from '../src/contracts/patient-record.ts';
import { createMockPatientRepository, examplePatientRecord } from '../src/testing/index.ts';

describe('createMockPatientRepository', () => {
  it('returns the validated record, a copy independent of the seed', async () => {
    const seed = examplePatientRecord('7');
    expect(PatientRecordSchema.safeParse(seed).success).toBe(true);
    const repository = createMockPatientRepository({ records: [seed] });
    (seed.name as { given: string }).given = 'Changed';
    const record = await repository.getById('7');
    expect(record.name.given).toBe('Alex');
    (record.name as { given: string }).given = 'Mutated';
    expect((await repository.getById('7')).name.given).toBe('Alex');
  });

  it('rejects a malformed id INVALID_INPUT before any simulated I/O, an unknown one NOT_FOUND', async () => {
    const repository = createMockPatientRepository({ records: [examplePatientRecord('1')], faults: { unavailableRate: 1 } });
    await expect(repository.getById('1; DROP TABLE patients')).rejects.toMatchObject({ code: 'INVALID_INPUT', retryable: false });
    expect(repository.calls[0]!.reachedUpstream).toBe(false);
    const healthy = createMockPatientRepository();
    await expect(healthy.getById('2')).rejects.toMatchObject({ code: 'NOT_FOUND', details: { id: '2' } });
  });

  it('rejects INVALID_OUTPUT when a stored record fails the schema, as a database adapter would', async () => {
    const broken: PatientRecord = { ...examplePatientRecord('3'), birthDate: '12/04/1958' };
    const repository = createMockPatientRepository({ records: [broken] });
    await expect(repository.getById('3')).rejects.toMatchObject({ code: 'INVALID_OUTPUT', details: { id: '3' } });
  });

  it('lists patients in id order with labels that carry no clinical data', async () => {
    const repository = createMockPatientRepository({ records: [examplePatientRecord('10'), examplePatientRecord('2')] });
    expect(await repository.list()).toEqual([
      { id: '2', label: 'Patient 2' },
      { id: '10', label: 'Patient 10' },
    ]);
  });

  it('rejects bad options with a TypeError naming them', () => {
    expect(() => createMockPatientRepository({ records: [examplePatientRecord('1'), examplePatientRecord('1')] })).toThrow(/distinct ids/);
    expect(() => createMockPatientRepository({ records: [{} as PatientRecord] })).toThrow(/`records\[\]\.id`/);
    expect(() => createMockPatientRepository({ records: 5 as never })).toThrow(/`records`/);
  });
});
