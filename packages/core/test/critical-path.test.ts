import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { criticalPath, criticalPathSegments } from '../src/tracing/critical-path.ts';
import type { Span } from '../src/tracing/span.ts';
import { ManualTrace } from './support/manual-trace.ts';

const names = (spans: readonly Span[]): string[] => spans.map((span) => span.name);
const segmentsOf = (trace: ManualTrace): [string, number, number][] =>
  criticalPathSegments(trace).map((segment) => [segment.span.name, segment.start, segment.end]);

describe('criticalPath', () => {
  it('follows a sequential chain from start to end', () => {
    const trace = new ManualTrace('request');
    trace.add('a', 0, 30);
    trace.add('b', 30, 70);
    trace.add('c', 70, 100);
    trace.finish(100);

    expect(names(criticalPath(trace))).toEqual(['request', 'a', 'b', 'c']);
    expect(segmentsOf(trace)).toEqual([
      ['a', 0, 30],
      ['b', 30, 70],
      ['c', 70, 100],
    ]);
  });

  it('takes the slow branch of a parallel fan-out and skips the fast ones', () => {
    const trace = new ManualTrace('request');
    trace.add('fetch', 0, 10);
    trace.add('search-fast', 10, 40);
    trace.add('search-slow', 10, 90);
    trace.add('search-medium', 10, 60);
    trace.add('answer', 90, 100);
    trace.finish(100);

    expect(names(criticalPath(trace))).toEqual(['request', 'fetch', 'search-slow', 'answer']);
    expect(segmentsOf(trace)).toEqual([
      ['fetch', 0, 10],
      ['search-slow', 10, 90],
      ['answer', 90, 100],
    ]);
  });

  it('descends into nested spans and gives uncovered time to the span itself', () => {
    const trace = new ManualTrace('request');
    const task = trace.add('task', 0, 80);
    trace.add('embed', 5, 25, { parent: task });
    trace.add('query', 25, 70, { parent: task });
    trace.add('query-decoy', 6, 20, { parent: task });
    trace.finish(100);

    expect(names(criticalPath(trace))).toEqual(['request', 'task', 'embed', 'query']);
    expect(segmentsOf(trace)).toEqual([
      ['task', 0, 5],
      ['embed', 5, 25],
      ['query', 25, 70],
      ['task', 70, 80],
      ['request', 80, 100],
    ]);
  });

  it('lets the last child to finish win when children overlap', () => {
    const trace = new ManualTrace('request');
    trace.add('a', 0, 60);
    trace.add('b', 50, 100);
    trace.finish(100);

    expect(names(criticalPath(trace))).toEqual(['request', 'b']);
    expect(segmentsOf(trace)).toEqual([
      ['request', 0, 50],
      ['b', 50, 100],
    ]);
  });

  it('on a tie, takes the child that started first rather than leaving time to the parent', () => {
    const trace = new ManualTrace('request');
    trace.add('late', 50, 100);
    trace.add('early', 0, 100);
    trace.finish(100);

    expect(names(criticalPath(trace))).toEqual(['request', 'early']);
    expect(segmentsOf(trace)).toEqual([['early', 0, 100]]);
  });

  it('clamps a child that outlived its parent to the parent', () => {
    const trace = new ManualTrace('request');
    const task = trace.add('task', 10, 60);
    trace.add('leak', 30, 200, { parent: task });
    trace.add('after', 60, 100);
    trace.finish(100);

    expect(segmentsOf(trace)).toEqual([
      ['request', 0, 10],
      ['task', 10, 30],
      ['leak', 30, 60],
      ['after', 60, 100],
    ]);
  });

  it('ends running spans at now', () => {
    const trace = new ManualTrace('request');
    trace.add('a', 0, 30);
    trace.add('b', 30, undefined);
    trace.at(80);

    expect(names(criticalPath(trace))).toEqual(['request', 'a', 'b']);
    expect(segmentsOf(trace)).toEqual([
      ['a', 0, 30],
      ['b', 30, 80],
    ]);
  });

  it('covers the root exactly with contiguous segments inside their spans, for any tree', () => {
    // A span: [start offset within the parent, duration, children].
    type Shape = { offset: number; duration: number; children: Shape[] };
    const shape: fc.Memo<Shape> = fc.memo((depth) =>
      fc.record({
        offset: fc.integer({ min: 0, max: 50 }),
        duration: fc.integer({ min: 0, max: 80 }),
        children: depth <= 1 ? fc.constant([]) : fc.array(shape(depth - 1), { maxLength: 4 }),
      }),
    );

    fc.assert(
      fc.property(fc.array(shape(3), { maxLength: 5 }), fc.integer({ min: 1, max: 150 }), (children, rootEnd) => {
        const trace = new ManualTrace('request');
        const add = (parent: Span, base: number, child: Shape): void => {
          const start = base + child.offset;
          const span = trace.add('s', start, start + child.duration, { parent });
          for (const grandchild of child.children) add(span, start, grandchild);
        };
        for (const child of children) add(trace.root, 0, child);
        trace.finish(rootEnd);

        const segments = criticalPathSegments(trace);
        const path = new Set(criticalPath(trace));
        let cursor = 0;
        for (const segment of segments) {
          expect(segment.start).toBe(cursor);
          expect(segment.end).toBeGreaterThan(segment.start);
          expect(segment.start).toBeGreaterThanOrEqual(segment.span.start);
          expect(segment.end).toBeLessThanOrEqual(segment.span.end!);
          expect(path.has(segment.span)).toBe(true);
          cursor = segment.end;
        }
        expect(cursor).toBe(rootEnd);
        for (const span of path) if (span.parent !== undefined) expect(path.has(span.parent)).toBe(true);
      }),
    );
  });
});
