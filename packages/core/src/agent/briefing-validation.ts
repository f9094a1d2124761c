import { PatientBriefingSchema, type PatientBriefing } from '../contracts/patient-briefing.ts';
import type { SourceRegistry } from './source-registry.ts';

export type BriefingValidation =
  | { readonly valid: true; readonly briefing: PatientBriefing }
  | { readonly valid: false; readonly issues: readonly string[] };

/**
 * Checks a submitted briefing: the schema, the patient it is about, and that every citation
 * names a source retrieved in this run (a model may not invent or recall ids).
 */
export function validateBriefing(input: unknown, patientId: string, sources: SourceRegistry): BriefingValidation {
  const parsed = PatientBriefingSchema.safeParse(input);
  if (!parsed.success) {
    return { valid: false, issues: parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`) };
  }
  const briefing = parsed.data;
  const issues: string[] = [];
  if (briefing.patientId !== patientId) issues.push(`patientId: expected "${patientId}", got "${briefing.patientId}"`);
  const cited = [
    ...briefing.recommendations.flatMap((item, index) => item.citations.map((id) => [`recommendations.${index}.citations`, id] as const)),
    ...briefing.medicationReview.flatMap((item, index) => item.citations.map((id) => [`medicationReview.${index}.citations`, id] as const)),
  ];
  for (const [path, id] of cited) {
    if (!sources.has(id)) issues.push(`${path}: "${id}" is not a source retrieved in this conversation`);
  }
  return issues.length === 0 ? { valid: true, briefing } : { valid: false, issues };
}

/** The ids a briefing cites, in first-cited order. */
export function citedSourceIds(briefing: PatientBriefing): string[] {
  const ids = [...briefing.recommendations, ...briefing.medicationReview].flatMap((item) => item.citations);
  return [...new Set(ids)];
}
