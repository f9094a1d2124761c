import type { DocumentReport, IngestReport } from '@aidoc/core';
import { describe, expect, it } from 'vitest';
import { summaryFromProgress, summaryFromReport } from '../src/run-summary.ts';
import { renderFailures, renderSummaryTable } from '../src/summary-table.ts';

const document = (overrides: Partial<DocumentReport>): DocumentReport => ({
  source: 'guidelines/a.md',
  status: 'ingested',
  format: 'markdown',
  title: 'A',
  pages: undefined,
  chunks: 10,
  embedded: 10,
  skipped: 0,
  deleted: 0,
  replaced: false,
  ...overrides,
});

const report = (documents: DocumentReport[], overrides: Partial<IngestReport> = {}): IngestReport => ({
  collection: 'guidelines',
  dryRun: false,
  documents,
  totals: { documents: documents.length, ingested: 1, unchanged: 0, failed: 2, replaced: 1, chunks: 1234, embedded: 1000, skipped: 234, deleted: 5 },
  elapsedMs: 2500,
  chunksPerSecond: 493.6,
  trace: undefined,
  ...overrides,
});

describe('renderSummaryTable', () => {
  it('aligns every total and lists the failed files with their reasons', () => {
    const summary = summaryFromReport(
      report([
        document({ replaced: true }),
        document({ source: 'guidelines/bad.md', status: 'failed', chunks: 0, embedded: 0, reason: 'binary file (NUL byte at offset 5), not text' }),
        document({ source: 'guidelines/scan.pdf', status: 'failed', chunks: 0, embedded: 0, reason: 'not a PDF (no %PDF- header)' }),
      ]),
      'completed',
    );
    expect(renderSummaryTable(summary)).toBe(
      [
        'Ingested into "guidelines"',
        '  Documents              3',
        '  Chunks             1,234',
        '  Embedded           1,000',
        '  Skipped unchanged    234',
        '  Replaced               1',
        '  Deleted stale          5',
        '  Failed                 2',
        '  Time                2.5s',
        '  Chunks/s             494',
        '',
        'Failed files (2):',
        '  guidelines/bad.md: binary file (NUL byte at offset 5), not text',
        '  guidelines/scan.pdf: not a PDF (no %PDF- header)',
        '',
      ].join('\n'),
    );
  });

  it('labels a dry run as what would happen', () => {
    const table = renderSummaryTable(summaryFromReport(report([document({})], { dryRun: true }), 'completed'));
    expect(table).toContain('Dry run into "guidelines" (dry run: nothing was written)');
    expect(table).toMatch(/Would embed +1,000/);
    expect(table).toMatch(/Would delete stale +5/);
  });

  it('after Ctrl-C, counts the documents the run did not finish apart from real failures', () => {
    const summary = summaryFromReport(
      report(
        [
          document({}),
          document({ source: 'b.md', status: 'failed', reason: 'not finished: The operation was aborted', errorCode: 'ABORTED' }),
          document({ source: 'c.md', status: 'failed', reason: 'file too large' }),
        ],
        { totals: { documents: 3, ingested: 1, unchanged: 0, failed: 2, replaced: 0, chunks: 20, embedded: 10, skipped: 0, deleted: 0 } },
      ),
      'interrupted',
    );
    expect(summary).toMatchObject({ failed: 1, unfinished: 1, failures: [{ source: 'c.md', reason: 'file too large' }] });
    const table = renderSummaryTable(summary);
    expect(table.split('\n')[0]).toBe('Interrupted: done so far in "guidelines"');
    expect(table).toMatch(/Not finished +1\n {2}Time/);
    expect(table).not.toContain('b.md');
  });

  it('falls back to the last progress snapshot (replaced unknown)', () => {
    const summary = summaryFromProgress(
      {
        documentsDone: 2,
        documentsTotal: 5,
        chunks: 40,
        embedded: 30,
        upserted: 20,
        skipped: 4,
        deleted: 0,
        failed: 0,
        elapsedMs: 800,
        chunksPerSecond: 30,
        etaMs: 0,
        final: true,
      },
      { collection: 'c', dryRun: false, outcome: 'failed' },
    );
    const table = renderSummaryTable(summary);
    expect(table).toMatch(/Embedded +20/);
    expect(table).toMatch(/Replaced +-/);
    expect(table).toMatch(/Not finished +3/);
    expect(table.split('\n')[0]).toBe('Ingest failed: done so far in "c"');
  });

  it('renders no failure list when nothing failed', () => {
    expect(renderFailures({ failures: [] })).toBe('');
  });
});
