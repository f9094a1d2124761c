import type { DocumentReport, IngestProgress, IngestReport } from '@aidoc/core';

/** What the summary table shows: the totals of a run, from its report or (failing that) its last progress. */
export interface RunSummary {
  readonly collection: string;
  readonly dryRun: boolean;
  /** Set when the run did not complete: `interrupted` (Ctrl-C) or `failed` (the run itself failed). */
  readonly outcome: 'completed' | 'interrupted' | 'failed';
  readonly documents: number;
  readonly chunks: number;
  readonly embedded: number;
  readonly skipped: number;
  /** Undefined when only progress is known (progress does not count replaced documents). */
  readonly replaced: number | undefined;
  readonly deleted: number;
  readonly failed: number;
  readonly elapsedMs: number;
  readonly chunksPerSecond: number;
  /** Documents that failed on their own (unreadable, unparsable, empty), with their reasons. */
  readonly failures: readonly { readonly source: string; readonly reason: string }[];
  /** Documents the run stopped before finishing (an abort or a run failure); they are not failures of their own. */
  readonly unfinished: number;
}

type Outcome = RunSummary['outcome'];

/** The summary of a run that produced a report (completed, or carried in the error's `details.report`). */
export function summaryFromReport(report: IngestReport, outcome: Outcome): RunSummary {
  const { totals } = report;
  const failedDocuments = report.documents.filter((document) => document.status === 'failed');
  const unfinished = failedDocuments.filter(isUnfinished);
  return {
    collection: report.collection,
    dryRun: report.dryRun,
    outcome,
    documents: totals.documents,
    chunks: totals.chunks,
    embedded: totals.embedded,
    skipped: totals.skipped,
    replaced: totals.replaced,
    deleted: totals.deleted,
    failed: totals.failed - unfinished.length,
    elapsedMs: report.elapsedMs,
    chunksPerSecond: report.chunksPerSecond,
    failures: failedDocuments
      .filter((document) => !isUnfinished(document))
      .map((document) => ({ source: document.source, reason: document.reason ?? 'failed' })),
    unfinished: unfinished.length,
  };
}

/** The summary of a run known only by its last progress snapshot (`details.progress`). */
export function summaryFromProgress(progress: IngestProgress, context: { collection: string; dryRun: boolean; outcome: Outcome }): RunSummary {
  return {
    ...context,
    documents: progress.documentsTotal,
    chunks: progress.chunks,
    embedded: context.dryRun ? progress.embedded : progress.upserted,
    skipped: progress.skipped,
    replaced: undefined,
    deleted: progress.deleted,
    failed: progress.failed,
    elapsedMs: progress.elapsedMs,
    chunksPerSecond: progress.chunksPerSecond,
    failures: [],
    unfinished: Math.max(0, progress.documentsTotal - progress.documentsDone),
  };
}

/** A document the run stopped before it was done: its failure is the run's, not its own. */
function isUnfinished(document: DocumentReport): boolean {
  return document.errorCode !== undefined && document.reason?.startsWith('not finished') === true;
}
