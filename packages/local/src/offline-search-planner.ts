import type { SearchInput } from '@aidoc/core';
import type { ClinicalFinding } from './offline-clinical-findings.ts';

/** A search the offline model asks for, and the finding it serves. */
export interface PlannedSearch {
  readonly input: SearchInput;
  readonly finding: ClinicalFinding;
}

/**
 * The guideline searches for one turn: one per finding that asks for one, most pressing first,
 * without duplicate queries, at most `maxSearches`. Deterministic: the findings' order decides.
 */
export function planSearches(findings: readonly ClinicalFinding[], maxSearches: number, limit: number): PlannedSearch[] {
  const seen = new Set<string>();
  const planned: PlannedSearch[] = [];
  for (const finding of findings) {
    if (planned.length >= maxSearches) break;
    if (finding.query === undefined) continue;
    const normalised = finding.query.trim().toLowerCase();
    if (seen.has(normalised)) continue;
    seen.add(normalised);
    planned.push({ input: { query: finding.query, limit }, finding });
  }
  return planned;
}
