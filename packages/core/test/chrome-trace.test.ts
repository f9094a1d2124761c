import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toChromeTrace, type ChromeTrace, type ChromeTraceEvent } from '../src/tracing/chrome-trace.ts';
import type { Span } from '../src/tracing/span.ts';
import { ManualTrace } from './support/manual-trace.ts';

const complete = (chrome: ChromeTrace): ChromeTraceEvent[] => chrome.traceEvents.filter((event) => event.ph === 'X');
const byName = (chrome: ChromeTrace, name: string): ChromeTraceEvent => {
  const event = complete(chrome).find((candidate) => candidate.name === name);
  if (event === undefined) throw new Error(`no event ${name}`);
  return event;
};

/** Fails when two complete events on one lane overlap in time (touching is fine). */
function expectLanesNeverOverlap(chrome: ChromeTrace): void {
  const lanes = new Map<number, ChromeTraceEvent[]>();
  for (const event of complete(chrome)) lanes.set(event.tid, [...(lanes.get(event.tid) ?? []), event]);
  for (const events of lanes.values()) {
    const sorted = events.toSorted((a, b) => a.ts - b.ts);
    for (let index = 1; index < sorted.length; index++) {
      const previous = sorted[index - 1]!;
      expect(previous.ts + previous.dur!).toBeLessThanOrEqual(sorted[index]!.ts);
    }
  }
}

function ragTrace(): ManualTrace {
  const trace = new ManualTrace('briefing');
  trace.add('get-patient', 0, 40.25, { kind: 'call', attributes: { patient: 'p-1' } });
  const turn = trace.add('turn', 40.25, 1400);
  trace.add('model.generate', 40.25, 1240, { parent: turn, kind: 'call' });
  const searchA = trace.add('search', 1240, 1400, { parent: turn });
  trace.add('embed', 1240, 1300, { parent: searchA, kind: 'call', queuedMs: 20 });
  trace.add('vector.query', 1300, 1400, { parent: searchA, kind: 'call', error: 'TIMEOUT', attempts: 3, backoffMs: 12.5 });
  const searchB = trace.add('search', 1240.5, 1390, { parent: turn });
  trace.add('embed', 1240.5, 1290, { parent: searchB, kind: 'call' });
  trace.add('model.generate', 1400, 2590, { kind: 'call' }).annotate('final answer');
  return trace.finish(2600);
}

describe('toChromeTrace', () => {
  it('is valid trace-event JSON with complete events in microseconds', () => {
    const chrome = toChromeTrace(ragTrace());
    const parsed = JSON.parse(JSON.stringify(chrome)) as ChromeTrace;
    expect(parsed).toEqual(chrome);
    expect(parsed.displayTimeUnit).toBe('ms');
    for (const event of parsed.traceEvents) {
      expect(['X', 'i', 'M']).toContain(event.ph);
      expect(Number.isInteger(event.ts)).toBe(true);
      expect(Number.isInteger(event.pid) && Number.isInteger(event.tid)).toBe(true);
      if (event.ph === 'X') expect(Number.isInteger(event.dur) && event.dur! >= 0).toBe(true);
    }
    expect(complete(chrome)).toHaveLength(10);

    const patient = byName(chrome, 'get-patient');
    expect(patient).toMatchObject({ ts: 0, dur: 40_250, cat: 'call' });
    const root = byName(chrome, 'briefing');
    expect(root).toMatchObject({ ts: 0, dur: 2_600_000, cat: 'root' });
    expect(root.args?.epochStart).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('carries attributes, timing splits, status, error code and the critical path in args', () => {
    const chrome = toChromeTrace(ragTrace());
    expect(byName(chrome, 'get-patient').args).toMatchObject({ patient: 'p-1', status: 'ok', critical: true });
    const query = byName(chrome, 'vector.query');
    expect(query.args).toMatchObject({
      status: 'error',
      errorCode: 'TIMEOUT',
      attempts: 3,
      backoffMs: 12.5,
      queuedMs: 0,
      critical: true,
    });
    const embeds = complete(chrome).filter((event) => event.name === 'embed');
    expect(embeds.map((event) => [event.args?.queuedMs, event.args?.critical])).toEqual([
      [20, true],
      [0, false],
    ]);
    const annotation = chrome.traceEvents.find((event) => event.ph === 'i');
    expect(annotation).toMatchObject({ name: 'final answer', ts: 2_590_000, s: 't' });
    expect(annotation?.tid).toBe(complete(chrome).filter((event) => event.name === 'model.generate')[1]!.tid);
  });

  it('puts a sequential chain on one lane and children below their parent', () => {
    const trace = new ManualTrace('chain');
    for (let index = 0; index < 4; index++) trace.add(`step-${index}`, index * 10, (index + 1) * 10);
    const last = trace.add('step-4', 40, 50);
    trace.add('inner', 42, 48, { parent: last });
    trace.finish(50);

    const chrome = toChromeTrace(trace);
    const tids = (names: string[]): number[] => names.map((name) => byName(chrome, name).tid);
    expect(tids(['chain'])).toEqual([1]);
    expect(tids(['step-0', 'step-1', 'step-2', 'step-3', 'step-4'])).toEqual([2, 2, 2, 2, 2]);
    expect(tids(['inner'])).toEqual([3]);
    expectLanesNeverOverlap(chrome);
  });

  it('names every lane and the process in metadata events', () => {
    const chrome = toChromeTrace(ragTrace());
    const metadata = chrome.traceEvents.filter((event) => event.ph === 'M');
    expect(metadata.find((event) => event.name === 'process_name')?.args).toEqual({ name: 'briefing' });
    const usedTids = new Set(complete(chrome).map((event) => event.tid));
    const namedTids = new Set(metadata.filter((event) => event.name === 'thread_name').map((event) => event.tid));
    expect(namedTids).toEqual(usedTids);
    expect(metadata.find((event) => event.name === 'thread_name' && event.tid === 1)?.args).toEqual({ name: 'briefing' });
  });

  it('never lets spans that overlap in time share a lane, for any trace', () => {
    type Shape = { offset: number; duration: number; children: Shape[] };
    const shape: fc.Memo<Shape> = fc.memo((depth) =>
      fc.record({
        offset: fc.double({ min: 0, max: 30, noNaN: true }),
        duration: fc.double({ min: 0, max: 60, noNaN: true }),
        children: depth <= 1 ? fc.constant([]) : fc.array(shape(depth - 1), { maxLength: 5 }),
      }),
    );
    fc.assert(
      fc.property(fc.array(shape(3), { maxLength: 8 }), (children) => {
        const trace = new ManualTrace('random');
        const add = (parent: Span, base: number, child: Shape): void => {
          const start = base + child.offset;
          const span = trace.add('s', start, start + child.duration, { parent });
          for (const grandchild of child.children) add(span, start, grandchild);
        };
        for (const child of children) add(trace.root, 0, child);
        trace.finish(100);

        const chrome = toChromeTrace(trace);
        expect(complete(chrome)).toHaveLength(trace.spans.length);
        expectLanesNeverOverlap(chrome);
        // Children sit below their parent.
        for (const span of trace.spans) {
          if (span.parent === undefined) continue;
          const tid = (target: Span): number => complete(chrome).find((event) => event.args?.id === target.id)!.tid;
          expect(tid(span)).toBeGreaterThan(tid(span.parent));
        }
      }),
    );
  });
});
