import { z } from 'zod';

/** Patient ids are positive integers written as decimal strings ("1", "42"). */
export const PatientIdSchema = z.string().regex(/^[1-9]\d{0,11}$/, 'a patient id is a positive integer (1 to 12 digits)');

const isoDate = z.iso.date();

export const ConditionSchema = z.object({
  /** ICD-10 code when known, e.g. "E11.9". */
  code: z.string().min(1).optional(),
  name: z.string().min(1),
  status: z.enum(['active', 'resolved']),
  onsetDate: isoDate.optional(),
});

export const MedicationSchema = z.object({
  name: z.string().min(1),
  /** Dose with unit, e.g. "1000 mg". */
  dose: z.string().min(1),
  /** e.g. "twice daily". */
  frequency: z.string().min(1),
  route: z.string().min(1).optional(),
  startDate: isoDate.optional(),
});

export const AllergySchema = z.object({
  substance: z.string().min(1),
  reaction: z.string().min(1).optional(),
  severity: z.enum(['mild', 'moderate', 'severe']).optional(),
});

export const LabResultSchema = z
  .object({
    name: z.string().min(1),
    /** LOINC code when known, e.g. "33914-3" (eGFR). */
    code: z.string().min(1).optional(),
    value: z.number().finite(),
    unit: z.string(),
    date: isoDate,
    referenceRange: z.object({ low: z.number().finite().optional(), high: z.number().finite().optional() }),
  })
  .refine((lab) => lab.referenceRange.low === undefined || lab.referenceRange.high === undefined || lab.referenceRange.low <= lab.referenceRange.high, {
    message: 'referenceRange.low must not exceed referenceRange.high',
    path: ['referenceRange'],
  });

export const ClinicalNoteSchema = z.object({
  date: isoDate,
  author: z.string().min(1).optional(),
  text: z.string().min(1),
});

/** One patient's record, as every PatientRepository returns it (validated). */
export const PatientRecordSchema = z.object({
  id: PatientIdSchema,
  name: z.object({ given: z.string().min(1), family: z.string().min(1) }),
  birthDate: isoDate,
  sex: z.enum(['female', 'male', 'other', 'unknown']),
  conditions: z.array(ConditionSchema),
  medications: z.array(MedicationSchema),
  allergies: z.array(AllergySchema),
  labs: z.array(LabResultSchema),
  notes: z.array(ClinicalNoteSchema),
});

export type PatientRecord = z.infer<typeof PatientRecordSchema>;
export type Condition = z.infer<typeof ConditionSchema>;
export type Medication = z.infer<typeof MedicationSchema>;
export type Allergy = z.infer<typeof AllergySchema>;
export type LabResult = z.infer<typeof LabResultSchema>;
export type ClinicalNote = z.infer<typeof ClinicalNoteSchema>;

/** Whether a lab value falls outside its reference range. */
export function isOutOfRange(lab: LabResult): boolean {
  const { low, high } = lab.referenceRange;
  return (low !== undefined && lab.value < low) || (high !== undefined && lab.value > high);
}
