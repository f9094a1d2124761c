import type { IngestProgress } from '@aidoc/core';
import { formatCount, formatDuration, formatRate } from './format-values.ts';

const FILLED = '█';
const EMPTY = '░';

/** Below this many columns the bar is dropped and only the counts are shown. */
const MINIMUM_BAR_COLUMNS = 10;
const MAXIMUM_BAR_COLUMNS = 30;

/** A bar of `width` cells, filled in proportion to `done / total` (empty when the total is unknown). */
export function renderBar(done: number, total: number, width: number): string {
  const cells = Math.max(0, Math.floor(width));
  const ratio = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const filled = Math.round(ratio * cells);
  return FILLED.repeat(filled) + EMPTY.repeat(cells - filled);
}

/** The figures after the bar: documents, chunks, embedded, throughput and ETA. */
export function describeProgress(progress: IngestProgress): string {
  const total = progress.documentsTotal > 0 ? formatCount(progress.documentsTotal) : '?';
  const parts = [
    `${formatCount(progress.documentsDone)}/${total} documents`,
    `${formatCount(progress.chunks)} chunks`,
    `${formatCount(progress.embedded)} embedded`,
    `${formatRate(progress.chunksPerSecond)} chunks/s`,
    `ETA ${formatDuration(progress.etaMs)}`,
  ];
  if (progress.failed > 0) parts.push(`${formatCount(progress.failed)} failed`);
  return parts.join(' · ');
}

/**
 * One line of the live (TTY) progress display, at most `columns` characters:
 * `████████░░░░░░░░  42% 3/8 documents · 120 chunks · 96 embedded · 350 chunks/s · ETA 1.2s`.
 * The bar shrinks, then disappears, on narrow terminals; the text is cut last.
 */
export function renderProgressBar(progress: IngestProgress, columns: number): string {
  const percent = progress.documentsTotal > 0 ? Math.floor((progress.documentsDone / progress.documentsTotal) * 100) : 0;
  const text = `${String(percent).padStart(3)}% ${describeProgress(progress)}`;
  const barColumns = Math.min(MAXIMUM_BAR_COLUMNS, columns - text.length - 1);
  const line = barColumns >= MINIMUM_BAR_COLUMNS ? `${renderBar(progress.documentsDone, progress.documentsTotal, barColumns)} ${text}` : text;
  return line.length > columns ? line.slice(0, Math.max(0, columns - 1)) + '…' : line;
}

/** One plain line for logs (not a TTY): no bar, no control characters. */
export function renderProgressLine(progress: IngestProgress): string {
  return `ingest: ${describeProgress(progress)}`;
}
