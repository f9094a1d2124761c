import type { PatientRecord } from '../contracts/patient-record.ts';

/**
 * A fictional, complete and valid patient record (type 2 diabetes with reduced kidney function
 * on metformin), for seeding mocks and adapters under test. Each call returns a fresh copy.
 *
 * @param id - The record's id. @default '1'
 */
export function examplePatientRecord(id = '1'): PatientRecord {
  return {
    id,
    name: { given: 'Alex', family: 'Example' },
    birthDate: '1958-04-12',
    sex: 'other',
    conditions: [
      { code: 'E11.9', name: 'Type 2 diabetes mellitus', status: 'active', onsetDate: '2012-06-01' },
      { code: 'N18.3', name: 'Chronic kidney disease, stage 3', status: 'active' },
    ],
    medications: [
      { name: 'Metformin', dose: '1000 mg', frequency: 'twice daily', route: 'oral', startDate: '2012-06-15' },
      { name: 'Lisinopril', dose: '10 mg', frequency: 'once daily' },
    ],
    allergies: [{ substance: 'Penicillin', reaction: 'rash', severity: 'moderate' }],
    labs: [
      { name: 'eGFR', code: '33914-3', value: 38, unit: 'mL/min/1.73m2', date: '2024-11-02', referenceRange: { low: 60 } },
      { name: 'HbA1c', code: '4548-4', value: 7.9, unit: '%', date: '2024-11-02', referenceRange: { high: 6.5 } },
    ],
    notes: [{ date: '2024-11-05', author: 'Dr. Sample', text: 'eGFR declining; review metformin dose.' }],
  };
}
