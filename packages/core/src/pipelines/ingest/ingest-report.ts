import type { AidocErrorCode } from '../../errors/aidoc-error.ts';
import type { Trace } from '../../tracing/span.ts';
import type { DocumentFormat } from './source-document.ts';

/**
 * What happened to a document: `ingested` (something was written or deleted), `unchanged`
 * (every chunk was already stored as is; nothing written), `failed` (see `reason`).
 */
export type DocumentStatus = 'ingested' | 'unchanged' | 'failed';

/** One document's outcome. In a dry run, counts say what a real run would do. */
export interface DocumentReport {
  /** File path relative to the source root (`/`-separated), or the inline id; the points' `source`. */
  readonly source: string;
  readonly status: DocumentStatus;
  /** Undefined when the file's type was not supported. */
  readonly format: DocumentFormat | undefined;
  /** Undefined when the document failed before it was parsed. */
  readonly title: string | undefined;
  /** Page count (PDFs). */
  readonly pages: number | undefined;
  /** Chunks the document was cut into. */
  readonly chunks: number;
  /** Chunks embedded and written this run. */
  readonly embedded: number;
  /** Chunks already stored unchanged (not embedded again). */
  readonly skipped: number;
  /** Stale points deleted: chunks of the previous version that no longer exist. */
  readonly deleted: number;
  /** True when the document was already stored and changed: its new chunks replaced the old ones. */
  readonly replaced: boolean;
  /** Why it failed (`failed` only), e.g. `not valid UTF-8 (...)`, `not a PDF (no %PDF- header)`. */
  readonly reason?: string;
  /** Set when a failure came from an AidocError (e.g. ABORTED for a document the run did not finish). */
  readonly errorCode?: AidocErrorCode;
}

/** Sums over the documents of a run. */
export interface IngestTotals {
  readonly documents: number;
  /** Documents with something written or deleted. */
  readonly ingested: number;
  /** Documents already stored exactly as they are. */
  readonly unchanged: number;
  /** Documents that failed (see their `reason`). */
  readonly failed: number;
  /** Documents that were stored before and changed (a subset of `ingested`). */
  readonly replaced: number;
  /** Chunks cut from the documents that loaded. */
  readonly chunks: number;
  /** Chunks embedded and written. */
  readonly embedded: number;
  /** Chunks skipped because their point was already stored unchanged. */
  readonly skipped: number;
  /** Stale points deleted. */
  readonly deleted: number;
}

/** The outcome of `IngestPipeline.ingest`. */
export interface IngestReport {
  readonly collection: string;
  /** True when nothing was written (`dryRun`): counts say what a real run would do. */
  readonly dryRun: boolean;
  /** In the order the sources were resolved (folders walked in name order). */
  readonly documents: readonly DocumentReport[];
  readonly totals: IngestTotals;
  readonly elapsedMs: number;
  /** Chunks settled (embedded and written, or skipped as unchanged) per second of the run. */
  readonly chunksPerSecond: number;
  /** The trace the run recorded into, when it ran inside `runTraced` (spans: ingest, document, embed, upsert, ...). */
  readonly trace: Trace | undefined;
}
