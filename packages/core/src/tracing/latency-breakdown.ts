import { criticalPathOf } from './critical-path.ts';
import type { Span, Trace } from './span.ts';
import { buildSpanTree } from './span-tree.ts';
import { expectInteger } from '../errors/validate-option.ts';
import { formatMs, shortenMiddle } from './text-report.ts';

/** One stage of a trace: every span of one name. Times are milliseconds. */
export interface LatencyBreakdownRow {
  /** The spans' name. */
  readonly stage: string;
  /** How many spans had this name. */
  readonly count: number;
  /** How many of them failed. */
  readonly errors: number;
  /** Sum of the spans' durations: the work done, counting concurrent spans twice. */
  readonly totalMs: number;
  /** Time at least one of the spans was open (union of their intervals, within the trace). */
  readonly wallMs: number;
  /** `wallMs` over the trace's wall time; shares add up to more than 1 when stages overlap. */
  readonly share: number;
  /** The stage's own time on the critical path (time not covered by a child on the path). */
  readonly criticalMs: number;
  /** `criticalMs` over the trace's wall time. */
  readonly criticalShare: number;
  /** Time the spans waited for a pool slot (summed). */
  readonly queuedMs: number;
  /** Time the spans slept between retry attempts (summed). */
  readonly backoffMs: number;
  /** True for the one stage holding the largest part of the critical path. */
  readonly bottleneck: boolean;
}

/** Where a trace's time went, stage by stage. */
export interface LatencyBreakdown {
  /** The trace's name. */
  readonly trace: string;
  /** Wall time of the trace (its root span; up to now while it runs). */
  readonly wallMs: number;
  /** Length of the critical path: equal to `wallMs`. */
  readonly criticalPathMs: number;
  /**
   * Critical-path time spent in the root span itself, outside every child span: work that no
   * span names. Large values mean something worth a span is missing.
   */
  readonly untracedMs: number;
  /** Every stage except the root, the largest part of the critical path first. */
  readonly rows: readonly LatencyBreakdownRow[];
  /** The stage to make faster first; undefined when no stage lies on the critical path. */
  readonly bottleneck: LatencyBreakdownRow | undefined;
}

interface StageAccumulator {
  count: number;
  errors: number;
  totalMs: number;
  criticalMs: number;
  queuedMs: number;
  backoffMs: number;
  intervals: [number, number][];
}

/**
 * Groups a trace's spans by name into stages and says how long each took, how much of the
 * trace's wall time it covered, and how much of the critical path it holds. The root span is
 * not a stage; its own time on the critical path is reported as `untracedMs`.
 */
export function latencyBreakdown(trace: Trace): LatencyBreakdown {
  const tree = buildSpanTree(trace);
  const { segments } = criticalPathOf(tree);
  const root = tree.root;
  const traceStart = root.start;
  const traceEnd = Math.max(traceStart, tree.end(root));
  const wallMs = traceEnd - traceStart;

  const stages = new Map<string, StageAccumulator>();
  const stageOf = new Map<Span, StageAccumulator>();
  for (const span of trace.spans) {
    if (span === root) continue;
    let stage = stages.get(span.name);
    if (stage === undefined) {
      stage = { count: 0, errors: 0, totalMs: 0, criticalMs: 0, queuedMs: 0, backoffMs: 0, intervals: [] };
      stages.set(span.name, stage);
    }
    stageOf.set(span, stage);
    const end = tree.end(span);
    stage.count += 1;
    if (span.status === 'error') stage.errors += 1;
    stage.totalMs += end - span.start;
    stage.queuedMs += span.queuedMs;
    stage.backoffMs += span.backoffMs;
    stage.intervals.push([Math.max(span.start, traceStart), Math.min(end, traceEnd)]);
  }

  let untracedMs = 0;
  for (const segment of segments) {
    const duration = segment.end - segment.start;
    const stage = stageOf.get(segment.span);
    if (stage === undefined) untracedMs += duration;
    else stage.criticalMs += duration;
  }

  const rows = [...stages].map(([stage, accumulated]) => {
    const stageWallMs = unionLength(accumulated.intervals);
    return {
      stage,
      count: accumulated.count,
      errors: accumulated.errors,
      totalMs: accumulated.totalMs,
      wallMs: stageWallMs,
      share: wallMs > 0 ? stageWallMs / wallMs : 0,
      criticalMs: accumulated.criticalMs,
      criticalShare: wallMs > 0 ? accumulated.criticalMs / wallMs : 0,
      queuedMs: accumulated.queuedMs,
      backoffMs: accumulated.backoffMs,
      bottleneck: false,
    };
  });
  rows.sort((a, b) => b.criticalMs - a.criticalMs || b.wallMs - a.wallMs || a.stage.localeCompare(b.stage));
  const first = rows[0];
  if (first !== undefined && first.criticalMs > 0) first.bottleneck = true;

  return {
    trace: trace.name,
    wallMs,
    criticalPathMs: segments.reduce((sum, segment) => sum + segment.end - segment.start, 0),
    untracedMs,
    rows,
    bottleneck: rows.find((row) => row.bottleneck),
  };
}

/** Total length covered by possibly overlapping intervals. */
function unionLength(intervals: [number, number][]): number {
  intervals.sort((a, b) => a[0] - b[0]);
  let total = 0;
  let coveredTo = -Infinity;
  for (const [start, end] of intervals) {
    const from = Math.max(start, coveredTo);
    if (end > from) {
      total += end - from;
      coveredTo = end;
    }
  }
  return total;
}

export interface RenderLatencyBreakdownOptions {
  /**
   * Stages shown; the rest are summed up in one line. The bottleneck is always among the shown
   * rows, since rows are ordered by critical-path time.
   * @default 20
   */
  maxRows?: number;
  /**
   * Longest stage name shown in full; longer names are shortened in the middle.
   * @default 32
   */
  stageWidth?: number;
}

const HEADERS = ['calls', 'wall ms', 'share', 'critical ms', 'queued ms', 'backoff ms'] as const;

/**
 * A plain-text table of a latency breakdown for terminals and logs: one row per stage, the
 * largest part of the critical path first, the bottleneck marked.
 */
export function renderLatencyBreakdown(
  input: Trace | LatencyBreakdown,
  options: RenderLatencyBreakdownOptions = {},
): string {
  const maxRows = options.maxRows ?? 20;
  const stageWidthLimit = options.stageWidth ?? 32;
  expectInteger('maxRows', maxRows, 1);
  expectInteger('stageWidth', stageWidthLimit, 8);
  const breakdown = 'rows' in input ? input : latencyBreakdown(input);

  const shown = breakdown.rows.slice(0, maxRows);
  const stageWidth = Math.min(stageWidthLimit, Math.max('stage'.length, ...shown.map((row) => row.stage.length)));
  const cells = shown.map((row) => [
    String(row.count),
    formatMs(row.wallMs),
    formatShare(row.share),
    formatMs(row.criticalMs),
    formatMs(row.queuedMs),
    formatMs(row.backoffMs),
  ]);
  const widths = HEADERS.map((header, column) =>
    Math.max(header.length, ...cells.map((rowCells) => rowCells[column]?.length ?? 0)),
  );
  const line = (stage: string, values: readonly string[], note: string): string =>
    (stage.padEnd(stageWidth) + values.map((value, column) => '   ' + value.padStart(widths[column] ?? 0)).join('') + note).trimEnd();

  const lines = [
    `trace ${breakdown.trace}: ${formatMs(breakdown.wallMs)} ms wall`,
    line('stage', HEADERS, ''),
  ];
  shown.forEach((row, index) => {
    const notes: string[] = [];
    if (row.bottleneck) notes.push('← the bottleneck');
    if (row.errors > 0) notes.push(`${row.errors} failed`);
    lines.push(line(shortenMiddle(row.stage, stageWidth), cells[index] ?? [], notes.length > 0 ? '  ' + notes.join(', ') : ''));
  });
  const hidden = breakdown.rows.length - shown.length;
  if (hidden > 0) {
    const hiddenCriticalMs = breakdown.rows.slice(maxRows).reduce((sum, row) => sum + row.criticalMs, 0);
    lines.push(`... ${hidden} more stage${hidden === 1 ? '' : 's'} (${formatMs(hiddenCriticalMs)} critical ms)`);
  }
  lines.push(
    `critical path ${formatMs(breakdown.criticalPathMs)} ms; ` +
      `${formatMs(breakdown.untracedMs)} ms of it in no stage (the root's own time)`,
  );
  return lines.join('\n');
}


function formatShare(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}
