/** The CLI's exit codes. */
export const ExitCode = {
  /** Every document ingested (or unchanged). */
  OK: 0,
  /** At least one document failed, or the run itself failed (an adapter out of retries, a locked store). */
  FAILED: 1,
  /** Bad arguments or a bad configuration: nothing was run. */
  USAGE: 2,
  /** Cancelled with Ctrl-C (128 + SIGINT). */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
