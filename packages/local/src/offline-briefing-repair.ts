import {
  FollowUpSchema,
  KeyConcernSchema,
  MedicationReviewItemSchema,
  PatientBriefingSchema,
  RecommendationSchema,
  type PatientBriefing,
} from '@aidoc/core';

/**
 * Answers a repair request (core rejected the submitted briefing): keeps what was valid in the
 * submission, drops citations to ids that were never retrieved, drops items that stay invalid,
 * and fills what is missing from a freshly written briefing. Returns undefined when nothing valid
 * can be assembled (no recommendation with a retrieved citation).
 */
export function repairBriefing(
  submitted: unknown,
  patientId: string,
  retrievedIds: ReadonlySet<string>,
  fresh: PatientBriefing | undefined,
): PatientBriefing | undefined {
  const previous = isObject(submitted) ? submitted : {};
  const keepCitations = (item: unknown): unknown =>
    isObject(item) && Array.isArray(item.citations) ? { ...item, citations: item.citations.filter((id) => typeof id === 'string' && retrievedIds.has(id)) } : item;

  const valid = <T>(items: unknown, schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } }): T[] =>
    (Array.isArray(items) ? items : []).flatMap((item) => {
      const parsed = schema.safeParse(keepCitations(item));
      return parsed.success ? [parsed.data] : [];
    });

  const recommendations = valid(previous.recommendations, RecommendationSchema);
  const candidate = {
    patientId,
    summary: typeof previous.summary === 'string' && previous.summary.trim().length > 0 ? previous.summary : (fresh?.summary ?? `Patient ${patientId}.`),
    keyConcerns: Array.isArray(previous.keyConcerns) ? valid(previous.keyConcerns, KeyConcernSchema) : (fresh?.keyConcerns ?? []),
    medicationReview: Array.isArray(previous.medicationReview) ? valid(previous.medicationReview, MedicationReviewItemSchema) : (fresh?.medicationReview ?? []),
    recommendations: recommendations.length > 0 ? recommendations : (fresh?.recommendations ?? []),
    followUps: Array.isArray(previous.followUps) ? valid(previous.followUps, FollowUpSchema) : (fresh?.followUps ?? []),
  };
  const parsed = PatientBriefingSchema.safeParse(candidate);
  if (parsed.success) return parsed.data;
  return fresh !== undefined && PatientBriefingSchema.safeParse(fresh).success ? fresh : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
