import type { Span, Trace } from './span.ts';
import { buildSpanTree, type SpanTree } from './span-tree.ts';

/**
 * A stretch of the critical path spent in one span's own code (not covered by a child on the
 * path). Times are milliseconds since the trace began.
 */
export interface CriticalPathSegment {
  readonly span: Span;
  readonly start: number;
  readonly end: number;
}

/** The critical path of a trace: its spans and the time each one holds on it. */
export interface CriticalPathResult {
  /** Spans on the path, parents before children, siblings by start. */
  readonly spans: Span[];
  /**
   * Contiguous, non-overlapping stretches in time order; together they cover the root span
   * exactly. A span's segments add up to its self time on the path.
   */
  readonly segments: CriticalPathSegment[];
}

/**
 * The chain of spans that determined when the trace ended: shortening any other span would not
 * have made the request faster. Computed as Jaeger does: walk back from the root's end, pick the
 * child that finished last before the cursor, move the cursor to that child's start and repeat,
 * descending into each chosen child the same way. Children are clamped to their parent's
 * window (a child that outlived its parent did not delay it); running spans end at `trace.now()`.
 */
export function criticalPath(trace: Trace): Span[] {
  return criticalPathOf(buildSpanTree(trace)).spans;
}

/** The critical path as time segments, each attributed to the span whose own time it was. */
export function criticalPathSegments(trace: Trace): CriticalPathSegment[] {
  return criticalPathOf(buildSpanTree(trace)).segments;
}

interface Window {
  readonly span: Span;
  readonly start: number;
  readonly end: number;
}

/** @internal The critical path of a tree the caller has built (reports share one tree). */
export function criticalPathOf(tree: SpanTree): CriticalPathResult {
  const onPath = new Set<Span>();
  const reversed: CriticalPathSegment[] = [];

  const addSegment = (span: Span, start: number, end: number): void => {
    if (end > start) reversed.push({ span, start, end });
  };

  // Segments are found from the end backwards, hence `reversed`.
  const visit = (window: Window): void => {
    onPath.add(window.span);
    const candidates: Window[] = [];
    for (const child of tree.children(window.span)) {
      const childEnd = tree.end(child);
      const start = Math.max(child.start, window.start);
      const end = Math.min(childEnd, window.end);
      const instant = child.start === childEnd;
      // Drop children outside the window; keep genuine instants, which may end the window.
      if (end > start || (instant && start === end)) candidates.push({ span: child, start, end });
    }
    // Latest end first; on a tie the child that started first explains more of the wait.
    candidates.sort((a, b) => b.end - a.end || a.start - b.start || a.span.id - b.span.id);

    let cursor = window.end;
    for (const candidate of candidates) {
      if (candidate.end > cursor) continue;
      addSegment(window.span, candidate.end, cursor);
      visit(candidate);
      cursor = candidate.start;
    }
    addSegment(window.span, window.start, cursor);
  };

  const root = tree.root;
  visit({ span: root, start: root.start, end: Math.max(root.start, tree.end(root)) });
  return {
    spans: tree.preorder().filter((span) => onPath.has(span)),
    segments: reversed.reverse(),
  };
}
