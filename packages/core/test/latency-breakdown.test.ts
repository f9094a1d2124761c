import { describe, expect, it } from 'vitest';
import { latencyBreakdown, renderLatencyBreakdown, type LatencyBreakdownRow } from '../src/tracing/latency-breakdown.ts';
import { ManualTrace } from './support/manual-trace.ts';

/** A briefing: prefetch, a turn with two concurrent searches, a second model turn. */
function briefingTrace(): ManualTrace {
  const trace = new ManualTrace('briefing');
  trace.add('get-patient', 0, 40, { kind: 'call' });
  trace.add('collection-info', 0, 25, { kind: 'call' });
  const turn = trace.add('turn', 40, 1400);
  trace.add('model.generate', 40, 1240, { parent: turn, kind: 'call' });
  const slowSearch = trace.add('search', 1240, 1400, { parent: turn });
  trace.add('embed', 1240, 1300, { parent: slowSearch, kind: 'call', queuedMs: 20 });
  trace.add('vector.query', 1300, 1400, { parent: slowSearch, kind: 'call' });
  const fastSearch = trace.add('search', 1240, 1390, { parent: turn });
  trace.add('embed', 1240, 1290, { parent: fastSearch, kind: 'call', backoffMs: 15, attempts: 2 });
  trace.add('vector.query', 1290, 1390, { parent: fastSearch, kind: 'call' });
  trace.add('model.generate', 1400, 2590, { kind: 'call' });
  return trace.finish(2600);
}

function row(rows: readonly LatencyBreakdownRow[], stage: string): LatencyBreakdownRow {
  const found = rows.find((candidate) => candidate.stage === stage);
  if (found === undefined) throw new Error(`no row ${stage}`);
  return found;
}

describe('latencyBreakdown', () => {
  it('groups spans by name with counts, summed and wall time, shares and critical time', () => {
    const breakdown = latencyBreakdown(briefingTrace());

    expect(breakdown.wallMs).toBe(2600);
    expect(breakdown.criticalPathMs).toBe(2600);
    expect(breakdown.untracedMs).toBe(10);
    expect(breakdown.rows.map((candidate) => candidate.stage)).toEqual([
      'model.generate',
      'vector.query',
      'embed',
      'get-patient',
      'turn',
      'search',
      'collection-info',
    ]);

    const generate = row(breakdown.rows, 'model.generate');
    expect(generate).toMatchObject({ count: 2, totalMs: 2390, wallMs: 2390, criticalMs: 2390, bottleneck: true });
    expect(generate.share).toBeCloseTo(2390 / 2600, 10);
    expect(generate.criticalShare).toBeCloseTo(2390 / 2600, 10);

    // Two concurrent embeds: their times add up to 110 ms, but they only held the clock 60 ms.
    const embed = row(breakdown.rows, 'embed');
    expect(embed).toMatchObject({ count: 2, totalMs: 110, wallMs: 60, criticalMs: 60, queuedMs: 20, backoffMs: 15 });
    expect(row(breakdown.rows, 'vector.query')).toMatchObject({ totalMs: 200, wallMs: 110, criticalMs: 100 });
    // Spans whose time is all covered by their children hold none of the critical path.
    expect(row(breakdown.rows, 'search')).toMatchObject({ count: 2, wallMs: 160, criticalMs: 0 });
    expect(row(breakdown.rows, 'collection-info').criticalMs).toBe(0);

    expect(breakdown.rows.filter((candidate) => candidate.bottleneck)).toEqual([generate]);
    expect(breakdown.bottleneck).toBe(generate);
    // The critical path is split between the stages and the root's own time.
    const stagesCritical = breakdown.rows.reduce((sum, candidate) => sum + candidate.criticalMs, 0);
    expect(stagesCritical + breakdown.untracedMs).toBe(breakdown.criticalPathMs);
  });

  it('names the stage holding most of the critical path, not the one with the most wall time', () => {
    const trace = new ManualTrace('ingest');
    // A long background stage that ends early enough not to matter...
    trace.add('prefetch', 0, 700);
    // ...and the chain that decides the end.
    trace.add('parse', 0, 300);
    trace.add('embed', 300, 1000);
    trace.add('upsert', 1000, 1100);
    trace.finish(1100);

    const breakdown = latencyBreakdown(trace);
    expect(breakdown.bottleneck?.stage).toBe('embed');
    expect(row(breakdown.rows, 'prefetch')).toMatchObject({ wallMs: 700, criticalMs: 0, bottleneck: false });
  });

  it('has no bottleneck when no stage lies on the critical path', () => {
    const trace = new ManualTrace('idle').finish(50);
    const breakdown = latencyBreakdown(trace);
    expect(breakdown.rows).toEqual([]);
    expect(breakdown.bottleneck).toBeUndefined();
    expect(breakdown.untracedMs).toBe(50);
  });

  it('clamps stages to the trace and counts failures', () => {
    const trace = new ManualTrace('request');
    trace.add('leak', 50, 300);
    trace.add('call', 0, 50, { error: 'TIMEOUT' });
    trace.finish(100);

    const breakdown = latencyBreakdown(trace);
    expect(row(breakdown.rows, 'leak')).toMatchObject({ totalMs: 250, wallMs: 50, share: 0.5 });
    expect(row(breakdown.rows, 'call')).toMatchObject({ errors: 1, count: 1 });
  });
});

describe('renderLatencyBreakdown', () => {
  it('prints an aligned table, one row per stage, the bottleneck marked', () => {
    const text = renderLatencyBreakdown(briefingTrace());
    const lines = text.split('\n');

    expect(lines[0]).toBe('trace briefing: 2600.0 ms wall');
    expect(lines[1]).toMatch(/^stage\s+calls\s+wall ms\s+share\s+critical ms\s+queued ms\s+backoff ms$/);
    expect(lines[2]).toMatch(/^model\.generate\s+2\s+2390\.0\s+91\.9%\s+2390\.0\s+0\.0\s+0\.0 {2}← the bottleneck$/);
    expect(lines[4]).toMatch(/^embed\s+2\s+60\.0\s+2\.3%\s+60\.0\s+20\.0\s+15\.0$/);
    expect(lines.filter((line) => line.includes('bottleneck'))).toHaveLength(1);
    expect(lines.at(-1)).toBe("critical path 2600.0 ms; 10.0 ms of it in no stage (the root's own time)");

    // Numbers are right-aligned: every row ends its "wall ms" column at the same place.
    const wallEnd = lines[1]!.indexOf('wall ms') + 'wall ms'.length;
    for (const line of lines.slice(2, 9)) expect(line[wallEnd - 1]).toMatch(/\d/);
  });

  it('renders a breakdown as it renders its trace, and caps the rows', () => {
    const trace = briefingTrace();
    expect(renderLatencyBreakdown(latencyBreakdown(trace))).toBe(renderLatencyBreakdown(trace));

    const capped = renderLatencyBreakdown(trace, { maxRows: 3 }).split('\n');
    expect(capped).toHaveLength(2 + 3 + 2);
    expect(capped[5]).toBe('... 4 more stages (40.0 critical ms)');
  });

  it('shortens long stage names in the middle and marks failures', () => {
    const trace = new ManualTrace('request');
    trace.add('tool.search:patient-history-and-guidelines', 0, 50, { error: 'UPSTREAM_UNAVAILABLE' });
    trace.finish(50);

    const line = renderLatencyBreakdown(trace, { stageWidth: 16 }).split('\n')[2]!;
    expect(line.startsWith('tool.sea…delines ')).toBe(true);
    expect(line).toMatch(/← the bottleneck, 1 failed$/);
  });

  it('rejects bad options with a TypeError naming the option and the value', () => {
    expect(() => renderLatencyBreakdown(briefingTrace(), { maxRows: 0 })).toThrow(
      new TypeError('Expected `maxRows` to be an integer >= 1, got `0` (number)'),
    );
    expect(() => renderLatencyBreakdown(briefingTrace(), { stageWidth: 2.5 })).toThrow(TypeError);
  });
});
