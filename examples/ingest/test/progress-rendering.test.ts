import type { IngestProgress } from '@aidoc/core';
import { describe, expect, it } from 'vitest';
import { formatCount, formatDuration, formatRate } from '../src/format-values.ts';
import { renderBar, renderProgressBar, renderProgressLine } from '../src/progress-bar.ts';
import { createProgressDisplay, type ProgressOutput } from '../src/progress-display.ts';

const progress = (overrides: Partial<IngestProgress> = {}): IngestProgress => ({
  documentsDone: 3,
  documentsTotal: 8,
  chunks: 1200,
  embedded: 960,
  upserted: 960,
  skipped: 0,
  deleted: 0,
  failed: 0,
  elapsedMs: 2000,
  chunksPerSecond: 480,
  etaMs: 61_000,
  final: false,
  ...overrides,
});

describe('formatting', () => {
  it('formats counts, rates and durations', () => {
    expect(formatCount(1_234_567)).toBe('1,234,567');
    expect(formatRate(0)).toBe('0');
    expect(formatRate(3.14159)).toBe('3.1');
    expect(formatRate(2_063.4)).toBe('2,063');
    expect(formatDuration(undefined)).toBe('--');
    expect(formatDuration(870)).toBe('0.9s');
    expect(formatDuration(42_000)).toBe('42s');
    expect(formatDuration(61_000)).toBe('1m 01s');
    expect(formatDuration(3_723_000)).toBe('1h 02m');
  });
});

describe('renderBar', () => {
  it('fills in proportion, clamped, and stays empty while the total is unknown', () => {
    expect(renderBar(0, 8, 8)).toBe('░░░░░░░░');
    expect(renderBar(4, 8, 8)).toBe('████░░░░');
    expect(renderBar(8, 8, 8)).toBe('████████');
    expect(renderBar(9, 8, 4)).toBe('████');
    expect(renderBar(3, 0, 4)).toBe('░░░░');
  });
});

describe('renderProgressBar', () => {
  it('shows the bar, percent, documents, chunks, embedded, throughput and ETA', () => {
    const line = renderProgressBar(progress(), 120);
    expect(line).toMatch(/^[█░]+ {2}37% 3\/8 documents · 1,200 chunks · 960 embedded · 480 chunks\/s · ETA 1m 01s$/);
    expect(line.length).toBeLessThanOrEqual(120);
    expect(line).toMatch(/^█{11}░{19} /); // 30 cells, 3/8 filled
  });

  it('drops the bar, then cuts the text, on narrow terminals', () => {
    expect(renderProgressBar(progress(), 85)).not.toMatch(/[█░]/);
    const narrow = renderProgressBar(progress(), 40);
    expect(narrow).toHaveLength(40);
    expect(narrow.endsWith('…')).toBe(true);
  });

  it('says "?" for the total before the sources are resolved, and counts failures when there are any', () => {
    expect(renderProgressBar(progress({ documentsDone: 0, documentsTotal: 0, etaMs: undefined }), 200)).toContain('0/? documents');
    expect(renderProgressBar(progress({ failed: 2 }), 200)).toContain('· 2 failed');
  });
});

describe('renderProgressLine', () => {
  it('is plain text for logs', () => {
    expect(renderProgressLine(progress())).toBe('ingest: 3/8 documents · 1,200 chunks · 960 embedded · 480 chunks/s · ETA 1m 01s');
  });
});

describe('createProgressDisplay', () => {
  const recorder = (isTTY: boolean) => {
    const writes: string[] = [];
    const output: ProgressOutput = { write: (text) => writes.push(text), isTTY, columns: 120 };
    let time = 0;
    const display = createProgressDisplay({ output, now: () => time });
    return { writes, display, advance: (milliseconds: number) => (time += milliseconds) };
  };

  it('on a TTY, redraws in place at most every 100 ms, always draws the final state, and ends on a new line', () => {
    const { writes, display, advance } = recorder(true);
    display.update(progress({ documentsDone: 1 }));
    advance(50);
    display.update(progress({ documentsDone: 2 }));
    advance(60);
    display.update(progress({ documentsDone: 3 }));
    advance(10);
    display.update(progress({ documentsDone: 8, final: true }));
    display.finish();
    display.finish();
    expect(writes).toHaveLength(4);
    expect(writes.slice(0, 3).every((text) => text.startsWith('\r\u001B[2K'))).toBe(true);
    expect(writes[0]).toContain(' 1/8 documents');
    expect(writes[1]).toContain(' 3/8 documents');
    expect(writes[2]).toContain(' 8/8 documents');
    expect(writes[3]).toBe('\n');
  });

  it('prints a message above the bar and redraws the bar under it', () => {
    const { writes, display } = recorder(true);
    display.update(progress());
    display.message('Cancelling');
    expect(writes.slice(1)).toEqual(['\r\u001B[2KCancelling\n', writes[0]]);
  });

  it('off a TTY, writes plain lines at most once a second, the first a second in', () => {
    const { writes, display, advance } = recorder(false);
    display.update(progress({ documentsDone: 0 }));
    advance(999);
    display.update(progress({ documentsDone: 1 }));
    advance(1);
    display.update(progress({ documentsDone: 2 }));
    advance(500);
    display.update(progress({ documentsDone: 3 }));
    display.update(progress({ documentsDone: 4, final: true }));
    advance(1000);
    display.update(progress({ documentsDone: 5 }));
    display.finish();
    expect(writes).toEqual([`${renderProgressLine(progress({ documentsDone: 2 }))}\n`, `${renderProgressLine(progress({ documentsDone: 5 }))}\n`]);
    expect(writes.join('')).not.toMatch(/[\r█]/);
  });
});
