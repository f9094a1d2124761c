import type { PatientRecord } from '@aidoc/core';
import { findClinicalFindings, type ClinicalFinding } from './offline-clinical-findings.ts';
import { derivePatientFacts, type PatientFacts } from './offline-patient-facts.ts';

/** What the rules conclude from one record: its facts and findings. */
export interface PatientAnalysis {
  readonly facts: PatientFacts;
  readonly findings: readonly ClinicalFinding[];
}

/**
 * The planning and briefing turns of a conversation read the same record object (it is parsed
 * once per distinct text), so the rules run once per record object, not once per turn or briefing.
 */
const analysisByRecord = new WeakMap<PatientRecord, PatientAnalysis>();

export function analysePatient(record: PatientRecord): PatientAnalysis {
  let analysis = analysisByRecord.get(record);
  if (analysis === undefined) {
    const facts = derivePatientFacts(record);
    analysis = { facts, findings: findClinicalFindings(facts) };
    analysisByRecord.set(record, analysis);
  }
  return analysis;
}
