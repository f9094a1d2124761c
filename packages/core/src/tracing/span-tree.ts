import type { Span, Trace } from './span.ts';

/**
 * The spans of a trace as a tree, frozen at one instant: reports built from the same tree agree
 * with each other even while the trace is still recording. Shared by the trace reports.
 *
 * @internal
 */
export interface SpanTree {
  readonly trace: Trace;
  readonly root: Span;
  /** `trace.now()` when the tree was built: the end of every span still running. */
  readonly now: number;
  /** The span's children, ordered by start (then creation). */
  children(span: Span): readonly Span[];
  /** The span's end, or `now` while it runs. */
  end(span: Span): number;
  /** Every span, parents before children, siblings by start. */
  preorder(): Span[];
}

const NO_CHILDREN: readonly Span[] = [];

/** @internal */
export function buildSpanTree(trace: Trace): SpanTree {
  const now = trace.now();
  const root = trace.root;
  const childrenOf = new Map<Span, Span[]>();
  for (const span of trace.spans) {
    if (span === root) continue;
    // A span started without a parent, or under a span of another trace, still belongs here.
    const parent = span.parent !== undefined && span.parent.trace === trace ? span.parent : root;
    const siblings = childrenOf.get(parent);
    if (siblings === undefined) childrenOf.set(parent, [span]);
    else siblings.push(span);
  }
  for (const siblings of childrenOf.values()) siblings.sort((a, b) => a.start - b.start || a.id - b.id);

  const children = (span: Span): readonly Span[] => childrenOf.get(span) ?? NO_CHILDREN;
  return {
    trace,
    root,
    now,
    children,
    end: (span) => span.end ?? now,
    preorder() {
      const order: Span[] = [];
      const stack: Span[] = [root];
      for (let span = stack.pop(); span !== undefined; span = stack.pop()) {
        order.push(span);
        const kids = children(span);
        for (let index = kids.length - 1; index >= 0; index--) stack.push(kids[index]!);
      }
      return order;
    },
  };
}
