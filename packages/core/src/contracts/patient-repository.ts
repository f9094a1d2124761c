import type { CallOptions, SpecificationVersion } from './call-options.ts';
import type { PatientRecord } from './patient-record.ts';

/**
 * A patient in a listing: the id and a label for a picker (e.g. "Patient 1 — 71 y, T2D, CKD 3b").
 * Labels never carry names, birth dates or other identifiers.
 */
export interface PatientListing {
  readonly id: string;
  readonly label: string;
}

/** Reads patient records. */
export interface PatientRepository {
  readonly specificationVersion: SpecificationVersion;
  readonly provider: string;
  /**
   * One full, validated record. Rejects with NOT_FOUND for an unknown id, INVALID_INPUT for a
   * malformed id (never a database error), INVALID_OUTPUT when the stored record fails the schema.
   */
  getById(id: string, options?: CallOptions): Promise<PatientRecord>;
  /** The patients a demo may offer; optional (production repositories rarely list everyone). */
  list?(options?: CallOptions): Promise<PatientListing[]>;
}
