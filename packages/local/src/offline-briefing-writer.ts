import { isOutOfRange, type FollowUp, type MedicationReviewItem, type PatientBriefing, type Recommendation } from '@aidoc/core';
import type { ClinicalFinding } from './offline-clinical-findings.ts';
import { reviewMedications } from './offline-medication-review.ts';
import { describeSex, type PatientFacts } from './offline-patient-facts.ts';
import { firstQuotableSentence, selectQuote, type Quote } from './offline-quote-selector.ts';
import { byRank, type ParsedSource } from './offline-sources.ts';

/** What came back from the searches of this conversation. */
export interface RetrievedEvidence {
  /** Sources per search query, as the tool results gave them. */
  readonly byQuery: ReadonlyMap<string, readonly ParsedSource[]>;
  /** Every distinct source (by id), in order of first appearance. */
  readonly all: readonly ParsedSource[];
}

const MAX_RECOMMENDATIONS = 8;
const MAX_FOLLOW_UPS = 8;
const MAX_MEDICATION_CITATIONS = 2;

/**
 * Assembles the briefing from the record's findings and the retrieved passages. Every
 * recommendation quotes one sentence of a retrieved source, verbatim, and cites that source's id,
 * so no citation can name a source that was not retrieved. Returns undefined when no passage can
 * be quoted (no sources at all): a recommendation needs a citation, so there is no honest
 * briefing to submit.
 */
export function writeBriefing(facts: PatientFacts, findings: readonly ClinicalFinding[], evidence: RetrievedEvidence): PatientBriefing | undefined {
  const recommendations = writeRecommendations(findings, evidence);
  if (recommendations.length === 0) return undefined;
  return {
    patientId: facts.record.id,
    summary: writeSummary(facts, evidence),
    // Findings come most severe first, so the concerns do too.
    keyConcerns: findings.flatMap((item) => (item.concern === undefined ? [] : [{ ...item.concern }])),
    medicationReview: writeMedicationReview(facts, findings, evidence),
    recommendations,
    followUps: writeFollowUps(findings),
  };
}

function writeRecommendations(findings: readonly ClinicalFinding[], evidence: RetrievedEvidence): Recommendation[] {
  const used = new Set<string>();
  const recommendations: Recommendation[] = [];
  for (const item of findings) {
    if (item.query === undefined || recommendations.length >= MAX_RECOMMENDATIONS) continue;
    const quote = selectQuote({ keywords: item.keywords, preferred: evidence.byQuery.get(item.query) ?? [], all: evidence.all, exclude: used });
    if (quote === undefined) continue;
    used.add(quote.sentence);
    recommendations.push(recommendation(item.topic ?? 'Guideline point for this patient', item.reason ?? item.concern?.evidence, quote));
  }
  if (recommendations.length === 0) {
    const quote = firstQuotableSentence(evidence.all);
    if (quote !== undefined) {
      recommendations.push(recommendation('Guideline point retrieved for this patient', 'No rule-based finding matched a retrieved passage; this is the closest passage found.', quote));
    }
  }
  return recommendations;
}

function recommendation(topic: string, reason: string | undefined, quote: Quote): Recommendation {
  const where = [quote.source.title, quote.source.section].filter((part) => part.length > 0).join(' › ');
  return {
    recommendation: `${topic}. Guideline: "${quote.sentence}"`,
    rationale: `${reason ?? 'Relevant to this patient.'} Quoted from ${where.length > 0 ? `"${where}"` : 'a retrieved guideline passage'} [${quote.source.id}].`,
    citations: [quote.source.id],
  };
}

function writeMedicationReview(facts: PatientFacts, findings: readonly ClinicalFinding[], evidence: RetrievedEvidence): MedicationReviewItem[] {
  const ranked = [...evidence.all].sort(byRank);
  return reviewMedications(facts, findings).map(({ item, terms }) => ({ ...item, citations: medicationCitations(ranked, terms) }));
}

/** The ids of the best-ranked sources that mention the medication, lowest id first. */
function medicationCitations(ranked: readonly ParsedSource[], terms: readonly string[]): string[] {
  const citing: ParsedSource[] = [];
  for (const source of ranked) {
    if (citing.length >= MAX_MEDICATION_CITATIONS) break;
    if (source.passage.mentionsAny(terms)) citing.push(source);
  }
  return citing.sort((left, right) => left.number - right.number).map((source) => source.id);
}

function writeFollowUps(findings: readonly ClinicalFinding[]): FollowUp[] {
  const seen = new Set<string>();
  const followUps: FollowUp[] = [];
  for (const followUp of findings.flatMap((item) => item.followUps)) {
    if (seen.has(followUp.action) || followUps.length >= MAX_FOLLOW_UPS) continue;
    seen.add(followUp.action);
    followUps.push({ ...followUp });
  }
  if (followUps.length === 0) followUps.push({ action: 'Routine medication review', timeframe: 'within 12 months' });
  return followUps;
}

/** Age, sex, conditions, medicines and abnormal results; never the patient's name. */
function writeSummary(facts: PatientFacts, evidence: RetrievedEvidence): string {
  const { record } = facts;
  const who =
    facts.age === undefined
      ? `Patient ${record.id} (${record.sex}).`
      : `${facts.age}-year-old ${describeSex(record.sex)} (patient ${record.id}; age at the latest record entry, ${facts.latestDate}).`;
  const conditions = facts.activeConditions.length === 0 ? 'No active conditions recorded.' : `Active conditions: ${facts.activeConditions.map((condition) => condition.name).join('; ')}.`;
  const medicines = `${record.medications.length} medication${record.medications.length === 1 ? '' : 's'} on the list.`;
  const allergies =
    record.allergies.length === 0
      ? 'No recorded allergies.'
      : `Allergies: ${record.allergies.map((allergy) => `${allergy.substance}${allergy.reaction === undefined ? '' : ` (${allergy.reaction.toLowerCase()})`}`).join('; ')}.`;
  const abnormal = facts.labSeries.filter((series) => isOutOfRange(series.latest)).map((series) => `${series.latest.name} ${series.latest.value}${series.latest.unit === '' ? '' : ` ${series.latest.unit}`}`);
  const results = abnormal.length === 0 ? 'Latest results within their reference ranges.' : `Out-of-range latest results: ${abnormal.join(', ')}.`;
  const provenance = `Prepared by the offline rule-based model (not a language model) from ${evidence.all.length} retrieved guideline passage${evidence.all.length === 1 ? '' : 's'}; a clinician must check it.`;
  return [who, conditions, medicines, allergies, results, provenance].join(' ');
}
