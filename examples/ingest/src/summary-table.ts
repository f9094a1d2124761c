import { formatCount, formatDuration, formatRate } from './format-values.ts';
import type { RunSummary } from './run-summary.ts';

/**
 * The end-of-run table (stdout), then the failed files with their reasons:
 *
 * ```
 * Ingested into "guidelines"
 *   Documents                8
 *   Chunks                  96
 *   ...
 * ```
 */
export function renderSummaryTable(summary: RunSummary): string {
  const rows: [string, string][] = [
    ['Documents', formatCount(summary.documents)],
    ['Chunks', formatCount(summary.chunks)],
    [summary.dryRun ? 'Would embed' : 'Embedded', formatCount(summary.embedded)],
    ['Skipped unchanged', formatCount(summary.skipped)],
    [summary.dryRun ? 'Would replace' : 'Replaced', summary.replaced === undefined ? '-' : formatCount(summary.replaced)],
    [summary.dryRun ? 'Would delete stale' : 'Deleted stale', formatCount(summary.deleted)],
    ['Failed', formatCount(summary.failed)],
    ['Time', formatDuration(summary.elapsedMs)],
    ['Chunks/s', formatRate(summary.chunksPerSecond)],
  ];
  if (summary.unfinished > 0) rows.splice(7, 0, ['Not finished', formatCount(summary.unfinished)]);
  const labelWidth = Math.max(...rows.map(([label]) => label.length));
  const valueWidth = Math.max(...rows.map(([, value]) => value.length));
  const lines = [title(summary), ...rows.map(([label, value]) => `  ${label.padEnd(labelWidth)}  ${value.padStart(valueWidth)}`)];
  return lines.join('\n') + '\n' + renderFailures(summary);
}

/** `Failed files (n):` and one `  source: reason` line each; empty when nothing failed. */
export function renderFailures(summary: Pick<RunSummary, 'failures'>): string {
  if (summary.failures.length === 0) return '';
  const lines = summary.failures.map(({ source, reason }) => `  ${source}: ${reason}`);
  return `\nFailed files (${summary.failures.length}):\n${lines.join('\n')}\n`;
}

function title(summary: RunSummary): string {
  const collection = `"${summary.collection}"`;
  const dryRun = summary.dryRun ? ' (dry run: nothing was written)' : '';
  if (summary.outcome === 'interrupted') return `Interrupted: done so far in ${collection}${dryRun}`;
  if (summary.outcome === 'failed') return `Ingest failed: done so far in ${collection}${dryRun}`;
  return `${summary.dryRun ? 'Dry run into' : 'Ingested into'} ${collection}${dryRun}`;
}
