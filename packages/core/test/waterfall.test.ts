import { describe, expect, it } from 'vitest';
import { renderWaterfall } from '../src/tracing/waterfall.ts';
import { ManualTrace } from './support/manual-trace.ts';

const ESCAPE = '\u001B';
const stripAnsi = (text: string): string => text.replaceAll(new RegExp(`${ESCAPE}\\[\\d+m`, 'g'), '');
/** The rows drawing a span (not the axis, the "… N more" lines or the legend). */
const spanRows = (text: string): string[] => text.split('\n').filter((line) => / ms \|.*\|$/.test(line));

/** request: fetch (queued half its time) then answer (retried) wrapping generate; side fails. */
function smallTrace(): ManualTrace {
  const trace = new ManualTrace('request');
  // Created out of order: rows must still come by start.
  const answer = trace.add('answer', 50, 100, { backoffMs: 10, attempts: 2 });
  trace.add('fetch', 0, 50, { queuedMs: 25 });
  trace.add('side', 0, 20, { error: 'UPSTREAM_UNAVAILABLE' });
  trace.add('generate', 60, 100, { parent: answer });
  return trace.finish(100);
}

describe('renderWaterfall', () => {
  it('draws one row per span in tree order, bars to scale, markers and a legend', () => {
    const lines = renderWaterfall(smallTrace(), { width: 20, labelWidth: 16 }).split('\n');

    expect(lines).toEqual([
      'trace request: 100.0 ms, 5 spans',
      `${' '.repeat(29)}|0           100.0 ms|`,
      '*  request          100.0 ms |████████████████████|',
      '*    fetch           50.0 ms |░░░░░█████          |',
      ' !   side            20.0 ms |████                |',
      '*    answer ×2       50.0 ms |          ~~████████|',
      '*      generate      40.0 ms |            ████████|',
      '█ running  ░ queued  ~ retry backoff  * critical path  ! failed  … still running  ×N attempts',
    ]);
  });

  it('scales bars to the requested width', () => {
    const rows = spanRows(renderWaterfall(smallTrace(), { width: 40, labelWidth: 16 }));
    const bar = (row: string): string => row.slice(row.indexOf('|') + 1, -1);
    expect(rows.map((row) => bar(row).length)).toEqual([40, 40, 40, 40, 40]);
    expect(bar(rows[1]!)).toBe('░'.repeat(10) + '█'.repeat(10) + ' '.repeat(20));
    expect(bar(rows[4]!)).toBe(' '.repeat(24) + '█'.repeat(16));
  });

  it('marks running spans, keeps short spans visible and aligns long labels', () => {
    const trace = new ManualTrace('request');
    trace.add('instant', 0, 0);
    trace.add('tool.search:patient-history-and-current-guidelines', 10, 30);
    trace.add('stream', 40, undefined);
    trace.at(100);

    const rows = spanRows(renderWaterfall(trace, { width: 10, labelWidth: 20 }));
    expect(rows[1]).toMatch(/^\* {4}instant +0\.0 ms \|█ {9}\|$/);
    expect(rows[2]!.startsWith('*    tool.sear…idelines  20.0 ms')).toBe(true);
    expect(rows[3]).toMatch(/^\*… {3}stream +60\.0 ms \| {4}█{6}\|$/);
    // The label column never pushes the bars out of line.
    expect(new Set(rows.map((row) => row.indexOf('|'))).size).toBe(1);
  });

  it('caps rows, keeping the critical path and summarising the rest', () => {
    const trace = new ManualTrace('ingest');
    for (let index = 0; index < 145; index++) trace.add(`noise-${index}`, 0, 10);
    for (let index = 0; index < 5; index++) trace.add(`chain-${index}`, index * 200, (index + 1) * 200);
    trace.finish(1000);

    const text = renderWaterfall(trace, { maxRows: 20 });
    const rows = spanRows(text);
    expect(rows).toHaveLength(20);
    const chainRows = rows.filter((row) => /chain-\d/.test(row));
    expect(chainRows).toHaveLength(5);
    for (const row of chainRows) expect(row.startsWith('*')).toBe(true);
    // Root + 5 on the path leave 14 rows for the noise: noise-0 .. noise-13.
    expect(rows.some((row) => row.includes('noise-13 '))).toBe(true);
    expect(rows.some((row) => row.includes('noise-14 '))).toBe(false);
    expect(text).toContain('\n     … 131 more\n');
    expect(text.split('\n')).toHaveLength(2 + 20 + 1 + 1);

    // The default keeps a 150-span trace within 100 rows.
    expect(spanRows(renderWaterfall(trace))).toHaveLength(100);
  });

  it('colours with ANSI escapes only when asked, with the same text underneath', () => {
    const trace = smallTrace();
    const plain = renderWaterfall(trace);
    const coloured = renderWaterfall(trace, { color: true });
    expect(plain).not.toContain(ESCAPE);
    expect(coloured).toContain(`${ESCAPE}[33m█`); // the critical path
    expect(coloured).toContain(`${ESCAPE}[31m█`); // the failed span
    expect(coloured).toContain(`${ESCAPE}[2m░`); // queued time
    expect(stripAnsi(coloured)).toBe(plain);
  });

  it('rejects bad options with a TypeError naming the option and the value', () => {
    expect(() => renderWaterfall(smallTrace(), { width: 3 })).toThrow(
      new TypeError('Expected `width` to be an integer >= 10, got `3` (number)'),
    );
    expect(() => renderWaterfall(smallTrace(), { maxRows: 0 })).toThrow(TypeError);
  });
});
