import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AidocError } from '../src/errors/aidoc-error.ts';
import { destroySharedOffloaders } from '../src/executor/offload.ts';
import { resetPools } from '../src/executor/pool-registry.ts';
import { createIngestPipeline, type IngestPipelineOptions } from '../src/pipelines/ingest/ingest-pipeline.ts';
import type { DocumentReport } from '../src/pipelines/ingest/ingest-report.ts';
import extractPdfText, { MISSING_UNPDF_REASON } from '../src/pipelines/ingest/pdf-worker.ts';
import { createMockEmbedder, createMockVectorStore, type MockVectorStore } from '../src/testing/index.ts';
import { runTraced } from '../src/tracing/trace-context.ts';
import { minimalPdf } from './fixtures/ingest/minimal-pdf.ts';
import { startStallProbe } from './support/loop-stall-probe.ts';

const COLLECTION = 'guidelines';
let root: string;

/** Writes `files` (path relative to `root` → content) under `root`. */
async function writeFiles(files: Record<string, string | Uint8Array>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

function pipelineFor(store: MockVectorStore, options: Partial<IngestPipelineOptions> = {}) {
  return createIngestPipeline({ embedder: createMockEmbedder(), vectorStore: store, collection: COLLECTION, sourceRoot: root, ...options });
}

function bySource(documents: readonly DocumentReport[]): Record<string, DocumentReport> {
  return Object.fromEntries(documents.map((document) => [document.source, document]));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'aidoc-ingest-'));
  await writeFiles({
    'corpus/guidelines/hypertension.md': '# Hypertension\n\n## Targets\n\nBelow 130/80 mmHg for most adults.',
    'corpus/guidelines/nested/asthma.markdown': 'Inhaled corticosteroids first.',
    'corpus/notes.txt': 'Plain notes about dosing: 5 \u00b5g.',
    'corpus/leaflet.pdf': minimalPdf([['Diabetes care.', 'Check HbA1c every three months.'], ['Page two: foot care.']], { title: 'Diabetes leaflet' }),
    'corpus/bad/binary.txt': new Uint8Array([0x48, 0x69, 0x00, 0xff, 0x00]),
    'corpus/bad/empty.md': '',
    'corpus/bad/latin1.txt': new Uint8Array([0x35, 0x20, 0xb5, 0x67]),
    'corpus/bad/fake.pdf': 'hello, I am not a PDF',
    'corpus/bad/broken.pdf': '%PDF-1.4\nthis is not a real document\n%%EOF\n',
    'corpus/bad/scanned.pdf': minimalPdf([[], []]),
    'corpus/.hidden/secret.md': '# Secret',
    'corpus/node_modules/dependency.md': '# Dependency',
    'corpus/image.png': new Uint8Array([0x89, 0x50, 0x4e, 0x47]),
  });
});

afterAll(async () => {
  await destroySharedOffloaders();
  await rm(root, { recursive: true, force: true });
});

afterEach(() => {
  resetPools();
});

describe('loading files', () => {
  it('walks folders, reports each malformed file with its reason, and ingests the rest', async () => {
    const store = createMockVectorStore();
    const report = await pipelineFor(store).ingest(['corpus']);

    // Files of a folder first, then its subfolders, each in name order; hidden entries, node_modules and other types skipped.
    expect(report.documents.map((document) => document.source)).toEqual([
      'corpus/leaflet.pdf',
      'corpus/notes.txt',
      'corpus/bad/binary.txt',
      'corpus/bad/broken.pdf',
      'corpus/bad/empty.md',
      'corpus/bad/fake.pdf',
      'corpus/bad/latin1.txt',
      'corpus/bad/scanned.pdf',
      'corpus/guidelines/hypertension.md',
      'corpus/guidelines/nested/asthma.markdown',
    ]);
    const documents = bySource(report.documents);
    expect(documents['corpus/bad/binary.txt']).toMatchObject({ status: 'failed', reason: 'binary file (NUL byte at offset 2), not text' });
    expect(documents['corpus/bad/empty.md']).toMatchObject({ status: 'failed', reason: 'empty file' });
    expect(documents['corpus/bad/latin1.txt']).toMatchObject({
      status: 'failed',
      reason: 'not valid UTF-8 (first bad byte at offset 2); convert the file to UTF-8',
    });
    expect(documents['corpus/bad/fake.pdf']).toMatchObject({ status: 'failed', format: 'pdf', reason: 'not a PDF (no %PDF- header)' });
    expect(documents['corpus/bad/broken.pdf']?.reason).toMatch(/^not a readable PDF: /);
    expect(documents['corpus/bad/scanned.pdf']).toMatchObject({ status: 'failed', reason: 'no extractable text (a scanned PDF needs OCR first)' });

    expect(documents['corpus/guidelines/hypertension.md']).toMatchObject({ status: 'ingested', title: 'Hypertension', format: 'markdown', chunks: 1 });
    expect(documents['corpus/guidelines/nested/asthma.markdown']).toMatchObject({ status: 'ingested', title: 'asthma', chunks: 1 });
    expect(documents['corpus/notes.txt']).toMatchObject({ status: 'ingested', title: 'notes', format: 'text' });
    expect(documents['corpus/leaflet.pdf']).toMatchObject({ status: 'ingested', title: 'Diabetes leaflet', format: 'pdf', pages: 2, chunks: 2 });
    expect(report.totals).toMatchObject({ documents: 10, ingested: 4, failed: 6, chunks: 5, embedded: 5 });

    const pdfPoints = store.storedPoints(COLLECTION)!.filter((point) => point.payload.source === 'corpus/leaflet.pdf');
    expect(pdfPoints.map((point) => [point.payload.page, point.payload.text]).sort()).toEqual([
      [1, 'Diabetes leaflet\n\nDiabetes care.\nCheck HbA1c every three months.'],
      [2, 'Diabetes leaflet\n\nPage two: foot care.'],
    ]);
  });

  it('parses PDFs on a worker thread through core offload', async () => {
    const { value: report, trace } = await runTraced('ingest', () => pipelineFor(createMockVectorStore()).ingest(['corpus/leaflet.pdf']));
    expect(report.documents[0]).toMatchObject({ status: 'ingested', pages: 2 });
    const offloaded = trace.spans.filter((span) => span.name === 'offload:pdf-worker');
    expect(offloaded).toHaveLength(1);
    expect(offloaded[0]?.parent?.name).toBe('document');
  });

  it('keeps the event loop free while a large PDF is parsed', async () => {
    const pages = Array.from({ length: 300 }, (_, page) => Array.from({ length: 45 }, (_, line) => `Page ${page + 1} line ${line + 1}: monitor renal function.`));
    await writeFiles({ 'big/large.pdf': minimalPdf(pages) });
    const probe = startStallProbe();
    const started = performance.now();
    const report = await pipelineFor(createMockVectorStore(), { chunking: { maxTokens: 512 } }).ingest(['big/large.pdf']);
    const elapsed = performance.now() - started;
    const worst = probe.stop();
    expect(report.documents[0]).toMatchObject({ status: 'ingested', pages: 300 });
    // Parsed on the main thread, the whole parse (hundreds of ms) would be one stall.
    expect(elapsed).toBeGreaterThan(100);
    expect(worst).toBeLessThan(elapsed / 3);
    expect(worst).toBeLessThan(100);
  });

  it('reports missing and unsupported paths, names files by their path relative to sourceRoot, and loads a file once', async () => {
    const store = createMockVectorStore();
    const report = await pipelineFor(store).ingest([
      'corpus/guidelines',
      join(root, 'corpus/guidelines/hypertension.md'),
      'corpus/image.png',
      'corpus/missing.md',
    ]);
    expect(report.documents.map((document) => [document.source, document.status, document.reason])).toEqual([
      ['corpus/guidelines/hypertension.md', 'ingested', undefined],
      ['corpus/guidelines/nested/asthma.markdown', 'ingested', undefined],
      ['corpus/image.png', 'failed', 'unsupported file type (".png"); supported: .md, .markdown, .txt, .pdf'],
      ['corpus/missing.md', 'failed', 'no such file or folder'],
    ]);

    // The same files, named the other way, are recognised as already stored.
    const again = await pipelineFor(store).ingest([join(root, 'corpus/guidelines'), 'corpus/guidelines/hypertension.md']);
    expect(again.totals).toMatchObject({ documents: 2, unchanged: 2, embedded: 0 });
  });

  it('refuses files over maxFileBytes unread', async () => {
    const report = await pipelineFor(createMockVectorStore(), { maxFileBytes: 10 }).ingest(['corpus/notes.txt']);
    expect(report.documents[0]).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^file too large \(\d+ bytes; the limit is 10\)$/) as string });
  });

  it('refuses an inline id that is also a file source', async () => {
    const error = await pipelineFor(createMockVectorStore())
      .ingest(['corpus/notes.txt', { id: 'corpus/notes.txt', text: 'x' }])
      .catch((caught: unknown) => caught);
    expect(AidocError.hasCode(error, 'INVALID_INPUT')).toBe(true);
  });
});

describe('the PDF worker', () => {
  it('says how to install unpdf when it is missing', async () => {
    const output = await extractPdfText({ data: minimalPdf([['x']]), moduleSpecifier: 'unpdf-is-not-installed' });
    expect(output).toEqual({ ok: false, reason: MISSING_UNPDF_REASON });
    expect(MISSING_UNPDF_REASON).toBe('PDF support needs the optional peer dependency `unpdf`: npm install unpdf');
  });

  it('extracts each page and the title', async () => {
    await expect(extractPdfText({ data: minimalPdf([['One.'], ['Two.']], { title: 'T' }) })).resolves.toEqual({
      ok: true,
      pages: ['One.', 'Two.'],
      title: 'T',
    });
  });
});
