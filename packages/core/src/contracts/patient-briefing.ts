import { z } from 'zod';
import { PatientIdSchema } from './patient-record.ts';

/** Source ids are assigned per briefing run ("S1", "S2", ...) as search results come back. */
export const SourceIdSchema = z.string().regex(/^S\d+$/, 'a source id looks like "S1"');

const citations = z.array(SourceIdSchema).min(1).describe('ids of the retrieved sources this rests on, e.g. ["S1", "S3"]');

export const KeyConcernSchema = z.object({
  concern: z.string().min(1),
  /** What in the record shows it (a lab value, a medication, a note). */
  evidence: z.string().min(1),
  severity: z.enum(['low', 'medium', 'high']),
});

export const MedicationReviewItemSchema = z.object({
  medication: z.string().min(1),
  assessment: z.string().min(1),
  action: z.enum(['continue', 'adjust', 'stop', 'monitor', 'review']),
  citations: z.array(SourceIdSchema),
});

export const RecommendationSchema = z.object({
  recommendation: z.string().min(1),
  rationale: z.string().min(1),
  /** Every recommendation rests on at least one retrieved guideline source. */
  citations,
});

export const FollowUpSchema = z.object({
  action: z.string().min(1),
  timeframe: z.string().min(1),
});

/** The structured briefing a doctor receives: the final output of the agent loop. */
export const PatientBriefingSchema = z.object({
  patientId: PatientIdSchema,
  summary: z.string().min(1),
  keyConcerns: z.array(KeyConcernSchema),
  medicationReview: z.array(MedicationReviewItemSchema),
  recommendations: z.array(RecommendationSchema).min(1),
  followUps: z.array(FollowUpSchema),
});

export type PatientBriefing = z.infer<typeof PatientBriefingSchema>;
export type KeyConcern = z.infer<typeof KeyConcernSchema>;
export type MedicationReviewItem = z.infer<typeof MedicationReviewItemSchema>;
export type Recommendation = z.infer<typeof RecommendationSchema>;
export type FollowUp = z.infer<typeof FollowUpSchema>;
