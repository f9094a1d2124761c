import { criticalPathOf } from './critical-path.ts';
import type { Span, Trace } from './span.ts';
import { buildSpanTree, type SpanTree } from './span-tree.ts';
import { expectInteger } from '../errors/validate-option.ts';
import { formatMs, shortenMiddle } from './text-report.ts';

export interface WaterfallOptions {
  /**
   * Width of the bar, in characters, spanning the trace's wall time.
   * @default 60
   */
  width?: number;
  /** Colours the bars with ANSI escapes (for terminals; keep it off for logs and files). @default false */
  color?: boolean;
  /**
   * Most span rows drawn. Spans on the critical path are always kept (as long as they fit);
   * the others are dropped in tree order, each run of dropped spans shown as one "… N more" line.
   * @default 100
   */
  maxRows?: number;
  /**
   * Width of the label column (indentation and name); longer names are shortened in the middle.
   * @default 32
   */
  labelWidth?: number;
}

const GLYPH = { running: '█', queued: '░', backoff: '~' } as const;

const ANSI = {
  reset: '\u001B[0m',
  bold: '\u001B[1m',
  dim: '\u001B[2m',
  red: '\u001B[31m',
  yellow: '\u001B[33m',
  cyan: '\u001B[36m',
} as const;

interface Row {
  readonly span: Span;
  /** The span's parent in the tree (undefined for the root). */
  readonly parent: Span | undefined;
  readonly depth: number;
}

/**
 * Draws a trace as a text waterfall: one row per span in tree order (children indented under
 * their parent, by start), its duration, and a bar on a time axis spanning the trace's wall
 * time. A bar shows how the span's time split: queued for a pool slot (`░`), sleeping between
 * retries (`~`), then running (`█`); the order inside one bar is a summary, not a timeline.
 * Rows on the critical path are marked `*`, failed spans `!`, spans still running `…`.
 */
export function renderWaterfall(trace: Trace, options: WaterfallOptions = {}): string {
  const width = options.width ?? 60;
  const color = options.color ?? false;
  const maxRows = options.maxRows ?? 100;
  const labelWidth = options.labelWidth ?? 32;
  expectInteger('width', width, 10);
  expectInteger('maxRows', maxRows, 1);
  expectInteger('labelWidth', labelWidth, 8);

  const tree = buildSpanTree(trace);
  const critical = new Set(criticalPathOf(tree).spans);
  const rows = treeRows(tree);
  const shown = selectRows(rows, critical, maxRows);

  const origin = tree.root.start;
  const wallMs = Math.max(0, tree.end(tree.root) - origin);
  const durations = rows.map((row) => `${formatMs(tree.end(row.span) - row.span.start)} ms`);
  const durationWidth = Math.max(...durations.filter((_, index) => shown.has(index)).map((text) => text.length));
  const paint = (text: string, ...styles: string[]): string =>
    color && styles.length > 0 && text.trim().length > 0 ? styles.join('') + text + ANSI.reset : text;

  const prefixWidth = 3 + labelWidth + 1 + durationWidth + 1;
  const axisEnd = `${formatMs(wallMs)} ms`;
  const lines = [
    `trace ${trace.name}: ${formatMs(wallMs)} ms, ${rows.length} span${rows.length === 1 ? '' : 's'}`,
    ' '.repeat(prefixWidth) + '|0' + axisEnd.padStart(width - 1) + '|',
  ];

  let hiddenRun: Row[] = [];
  const flushHidden = (): void => {
    const first = hiddenRun[0];
    if (first === undefined) return;
    const label = indentation(first.depth, labelWidth) + `… ${hiddenRun.length} more`;
    lines.push('   ' + paint(label, ANSI.dim));
    hiddenRun = [];
  };

  rows.forEach((row, index) => {
    if (!shown.has(index)) {
      hiddenRun.push(row);
      return;
    }
    flushHidden();
    const span = row.span;
    const onPath = critical.has(span);
    const status = span.status === 'error' ? '!' : span.end === undefined ? '…' : ' ';
    const marker = (onPath ? '*' : ' ') + status + ' ';
    const indent = indentation(row.depth, labelWidth);
    const suffix = span.attempts > 1 ? ` ×${span.attempts}` : '';
    const label = (indent + shortenMiddle(span.name + suffix, labelWidth - indent.length)).padEnd(labelWidth);
    const bar = drawBar(span, tree.end(span), origin, wallMs, width, (glyph, text) => {
      if (glyph === ' ') return text;
      if (span.status === 'error') return paint(text, ANSI.red);
      if (glyph !== GLYPH.running) return paint(text, ANSI.dim);
      return paint(text, onPath ? ANSI.yellow : ANSI.cyan);
    });
    const styledMarker = paint(marker.slice(0, 1), ANSI.yellow) + paint(status, status === '!' ? ANSI.red : ANSI.dim) + ' ';
    const styledLabel = onPath ? paint(label, ANSI.bold) : label;
    lines.push(`${color ? styledMarker : marker}${styledLabel} ${durations[index]!.padStart(durationWidth)} |${bar}|`);
  });
  flushHidden();

  lines.push(
    `${paint(GLYPH.running, ANSI.cyan)} running  ${paint(GLYPH.queued, ANSI.dim)} queued  ` +
      `${paint(GLYPH.backoff, ANSI.dim)} retry backoff  ${paint('*', ANSI.yellow)} critical path  ` +
      `${paint('!', ANSI.red)} failed  … still running  ×N attempts`,
  );
  return lines.join('\n');
}

function treeRows(tree: SpanTree): Row[] {
  const rows: Row[] = [];
  const stack: Row[] = [{ span: tree.root, parent: undefined, depth: 0 }];
  for (let row = stack.pop(); row !== undefined; row = stack.pop()) {
    rows.push(row);
    const children = tree.children(row.span);
    for (let index = children.length - 1; index >= 0; index--) {
      stack.push({ span: children[index]!, parent: row.span, depth: row.depth + 1 });
    }
  }
  return rows;
}

/**
 * Indices of the rows to draw. Critical-path rows come first (the path always includes its
 * spans' parents, so the tree stays readable); the remaining budget goes to the other rows in
 * tree order, never to a row whose parent is hidden.
 */
function selectRows(rows: readonly Row[], critical: ReadonlySet<Span>, maxRows: number): Set<number> {
  const shown = new Set<number>();
  if (rows.length <= maxRows || critical.size > maxRows) {
    for (let index = 0; index < Math.min(rows.length, maxRows); index++) shown.add(index);
    return shown;
  }
  const shownSpans = new Set<Span>();
  let budget = maxRows - critical.size;
  rows.forEach((row, index) => {
    const parentShown = row.parent === undefined || shownSpans.has(row.parent);
    if (critical.has(row.span) || (budget > 0 && parentShown)) {
      if (!critical.has(row.span)) budget -= 1;
      shown.add(index);
      shownSpans.add(row.span);
    }
  });
  return shown;
}

function indentation(depth: number, labelWidth: number): string {
  // Deep trees must still leave room for the name.
  return '  '.repeat(Math.min(depth, Math.floor(labelWidth / 4)));
}

type Style = (glyph: string, text: string) => string;

function drawBar(span: Span, end: number, origin: number, wallMs: number, width: number, style: Style): string {
  const column = (time: number): number =>
    wallMs > 0 ? Math.min(width, Math.max(0, Math.round(((time - origin) / wallMs) * width))) : 0;
  let from = column(span.start);
  let to = column(end);
  if (to <= from) {
    // Too short for one cell: still draw one, so every span is visible.
    to = Math.min(width, from + 1);
    from = to - 1;
  }
  const cells = to - from;
  const duration = Math.max(0, end - span.start);
  const queued = Math.min(span.queuedMs, duration);
  const backoff = Math.min(span.backoffMs, duration - queued);
  const [queuedCells, backoffCells, runningCells] = apportion([queued, backoff, duration - queued - backoff], cells);

  return (
    ' '.repeat(from) +
    style(GLYPH.queued, GLYPH.queued.repeat(queuedCells)) +
    style(GLYPH.backoff, GLYPH.backoff.repeat(backoffCells)) +
    style(GLYPH.running, GLYPH.running.repeat(runningCells)) +
    ' '.repeat(width - to)
  );
}

/** Splits `cells` in proportion to `parts` (largest remainder); all to the last part when they sum to 0. */
function apportion(parts: readonly [number, number, number], cells: number): [number, number, number] {
  const total = parts[0] + parts[1] + parts[2];
  if (total <= 0) return [0, 0, cells];
  const exact = parts.map((part) => (part / total) * cells);
  const result = exact.map(Math.floor) as [number, number, number];
  let left = cells - result[0] - result[1] - result[2];
  const byRemainder = [0, 1, 2].sort((a, b) => exact[b]! - result[b]! - (exact[a]! - result[a]!));
  for (const index of byRemainder) {
    if (left === 0) break;
    result[index as 0 | 1 | 2] += 1;
    left -= 1;
  }
  return result;
}
