import { criticalPathOf } from './critical-path.ts';
import type { Span, SpanAttributeValue, Trace } from './span.ts';
import { buildSpanTree, type SpanTree } from './span-tree.ts';

/**
 * One event of the Chrome trace-event format (the JSON that chrome://tracing and Perfetto open):
 * `X` a complete event (a span), `i` an instant (an annotation), `M` metadata (lane names).
 * Times are microseconds since the trace began.
 */
export interface ChromeTraceEvent {
  readonly name: string;
  readonly ph: 'X' | 'i' | 'M';
  /** Start, in microseconds (0 for metadata). */
  readonly ts: number;
  /** Duration of an `X` event, in microseconds. */
  readonly dur?: number;
  readonly pid: number;
  /** The lane: spans that overlap in time never share one. */
  readonly tid: number;
  /** Category: the span's kind (`root`, `task`, `call`, `internal`). */
  readonly cat?: string;
  /** Scope of an instant event: `t`, the lane. */
  readonly s?: 't';
  readonly args?: Readonly<Record<string, SpanAttributeValue>>;
}

/** A trace in the Chrome trace-event JSON object format; `JSON.stringify` it to a `.json` file. */
export interface ChromeTrace {
  readonly traceEvents: ChromeTraceEvent[];
  readonly displayTimeUnit: 'ms';
}

const PROCESS_ID = 1;

/**
 * Converts a trace to the Chrome trace-event format, to open in Perfetto (ui.perfetto.dev) or
 * chrome://tracing. Each span is a complete event on a lane (`tid`); lanes are assigned so that
 * spans overlapping in time never share one (a sequential chain shares a lane) and children
 * sit on the lanes just below their parent. `args` carry the span's attributes and its queued
 * and backoff time, attempts, status, error code and whether it is on the critical path.
 * Times are whole microseconds, so `ts + dur` never overlaps the next span on a lane.
 */
export function toChromeTrace(trace: Trace): ChromeTrace {
  const tree = buildSpanTree(trace);
  const critical = new Set(criticalPathOf(tree).spans);
  const lanes = assignLanes(tree);

  const spanEvents: ChromeTraceEvent[] = [];
  const instantEvents: ChromeTraceEvent[] = [];
  for (const [span, placement] of lanes.placements) {
    const tid = placement.lane + 1;
    const args: Record<string, SpanAttributeValue> = {
      ...span.attributes,
      id: span.id,
      status: span.status,
      queuedMs: span.queuedMs,
      backoffMs: span.backoffMs,
      syncMs: span.syncMs,
      attempts: span.attempts,
      critical: critical.has(span),
    };
    if (span.parent !== undefined) args.parentId = span.parent.id;
    if (span.errorCode !== undefined) args.errorCode = span.errorCode;
    if (span === tree.root) args.epochStart = new Date(trace.epochStart).toISOString();
    spanEvents.push({
      name: span.name,
      cat: span.kind,
      ph: 'X',
      ts: placement.start,
      dur: placement.end - placement.start,
      pid: PROCESS_ID,
      tid,
      args,
    });
    for (const annotation of span.annotations) {
      instantEvents.push({
        name: annotation.message,
        cat: 'annotation',
        ph: 'i',
        s: 't',
        ts: microseconds(annotation.at),
        pid: PROCESS_ID,
        tid,
        args: { span: span.name, spanId: span.id },
      });
    }
  }
  spanEvents.sort((a, b) => a.ts - b.ts || a.tid - b.tid);

  const metadata: ChromeTraceEvent[] = [
    { name: 'process_name', ph: 'M', ts: 0, pid: PROCESS_ID, tid: 0, args: { name: trace.name } },
  ];
  lanes.firstSpans.forEach((span, lane) => {
    metadata.push(
      { name: 'thread_name', ph: 'M', ts: 0, pid: PROCESS_ID, tid: lane + 1, args: { name: span.name } },
      { name: 'thread_sort_index', ph: 'M', ts: 0, pid: PROCESS_ID, tid: lane + 1, args: { sort_index: lane } },
    );
  });

  return { traceEvents: [...metadata, ...spanEvents, ...instantEvents], displayTimeUnit: 'ms' };
}

interface Placement {
  readonly lane: number;
  /** Whole microseconds. */
  readonly start: number;
  readonly end: number;
}

interface Lanes {
  readonly placements: Map<Span, Placement>;
  /** The first span placed on each lane, which names it. */
  readonly firstSpans: Span[];
}

/**
 * Places spans in tree order, each on the first lane below its parent's where it overlaps no
 * span already there. Placement uses the rounded microseconds that are written out, so the
 * no-overlap guarantee holds in the output exactly.
 */
function assignLanes(tree: SpanTree): Lanes {
  // Per lane, the intervals placed so far, sorted by start and never overlapping.
  const intervals: Placement[][] = [];
  const firstSpans: Span[] = [];
  const placements = new Map<Span, Placement>();

  for (const span of tree.preorder()) {
    const start = microseconds(span.start);
    const end = Math.max(start, microseconds(tree.end(span)));
    const parentPlacement = span === tree.root ? undefined : placements.get(span.parent ?? tree.root);
    const firstLane = parentPlacement === undefined ? 0 : parentPlacement.lane + 1;
    let lane = firstLane;
    while (lane < intervals.length && !fits(intervals[lane]!, start, end)) lane += 1;
    const placement = { lane, start, end };
    if (lane === intervals.length) {
      intervals.push([placement]);
      firstSpans.push(span);
    } else {
      insert(intervals[lane]!, placement);
    }
    placements.set(span, placement);
  }
  return { placements, firstSpans };
}

/** Index of the first interval starting after `start`. */
function upperBound(lane: readonly Placement[], start: number): number {
  let low = 0;
  let high = lane.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (lane[middle]!.start <= start) low = middle + 1;
    else high = middle;
  }
  return low;
}

function fits(lane: readonly Placement[], start: number, end: number): boolean {
  const index = upperBound(lane, start);
  const before = lane[index - 1];
  const after = lane[index];
  return (before === undefined || before.end <= start) && (after === undefined || after.start >= end);
}

function insert(lane: Placement[], placement: Placement): void {
  lane.splice(upperBound(lane, placement.start), 0, placement);
}

function microseconds(ms: number): number {
  return Math.round(ms * 1000);
}
