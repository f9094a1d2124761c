/** Options every adapter call takes. */
export interface CallOptions {
  /**
   * Cancels the call. Adapters pass it down to their client, so an aborted request stops its
   * upstream I/O; the call then rejects with an AidocError `ABORTED`.
   */
  readonly signal?: AbortSignal;
}

/** The contract version every adapter declares; core checks it in one place (`assertSpecification`). */
export type SpecificationVersion = 'v1';
