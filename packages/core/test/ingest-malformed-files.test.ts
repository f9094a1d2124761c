// A folder of malformed files next to good ones: every bad file is its own failure with a reason,
// the good files are ingested, and the run itself resolves.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resetPools } from '../src/executor/pool-registry.ts';
import { createIngestPipeline } from '../src/pipelines/ingest/ingest-pipeline.ts';
import type { DocumentReport } from '../src/pipelines/ingest/ingest-report.ts';
import { createMockEmbedder, createMockVectorStore } from '../src/testing/index.ts';

const COLLECTION = 'guidelines';
const MAX_FILE_BYTES = 4_096;

const GOOD_MARKDOWN = '# Hypertension\n\n## Targets\n\nAim for a clinic blood pressure below 140/90 mmHg in most adults.\n';
const GOOD_TEXT = 'Lipids\n\nOffer a statin when the ten-year cardiovascular risk is 10% or more.\n';

/** File name → bytes, and the reason each bad one must fail with. */
const BAD_FILES: readonly { name: string; bytes: Uint8Array; reason: RegExp }[] = [
  { name: 'binary.md', bytes: Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52]), reason: /binary file/ },
  { name: 'empty.md', bytes: new Uint8Array(0), reason: /empty file/ },
  { name: 'blank.txt', bytes: new TextEncoder().encode(' \n\t\r\n  '), reason: /empty file/ },
  { name: 'huge.md', bytes: new TextEncoder().encode(`# Huge\n\n${'A sentence about dosing. '.repeat(1_000)}`), reason: /file too large/ },
  { name: 'latin1.md', bytes: Uint8Array.from([...new TextEncoder().encode('# Dosing\n\n250 '), 0xb5, 0x67, 0x20, 0xe9, 0x0a]), reason: /not valid UTF-8/ },
  { name: 'truncated-utf8.txt', bytes: Uint8Array.from([...new TextEncoder().encode('Dose: 5 mg '), 0xe2, 0x82]), reason: /not valid UTF-8/ },
  { name: 'not-a-pdf.pdf', bytes: new TextEncoder().encode('# I am Markdown wearing a .pdf name\n\nText.\n'), reason: /not a PDF/ },
];

let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'aidoc-malformed-'));
  for (const file of BAD_FILES) await writeFile(path.join(folder, file.name), file.bytes);
  await writeFile(path.join(folder, 'good-hypertension.md'), GOOD_MARKDOWN);
  await writeFile(path.join(folder, 'good-lipids.txt'), GOOD_TEXT);
});
afterAll(() => rm(folder, { recursive: true, force: true }));
afterEach(() => {
  resetPools();
});

describe('ingesting a folder of malformed files', () => {
  it('reports each bad file as a failure with its reason, ingests the good ones and resolves', async () => {
    expect(BAD_FILES.find((file) => file.name === 'huge.md')!.bytes.length).toBeGreaterThan(MAX_FILE_BYTES);
    const embedder = createMockEmbedder({ dimensions: 16 });
    const store = createMockVectorStore();
    const pipeline = createIngestPipeline({ embedder, vectorStore: store, collection: COLLECTION, maxFileBytes: MAX_FILE_BYTES, sourceRoot: folder });

    const report = await pipeline.ingest([folder]);

    const bySource = new Map<string, DocumentReport>(report.documents.map((document) => [document.source, document]));
    expect(report.documents).toHaveLength(BAD_FILES.length + 2);
    for (const file of BAD_FILES) {
      const document = bySource.get(file.name);
      expect(document, file.name).toBeDefined();
      expect(document!.status, file.name).toBe('failed');
      expect(document!.reason, file.name).toMatch(file.reason);
      expect(document!.chunks, file.name).toBe(0);
      expect(document!.embedded, file.name).toBe(0);
    }
    for (const name of ['good-hypertension.md', 'good-lipids.txt']) {
      const document = bySource.get(name);
      expect(document?.status, name).toBe('ingested');
      expect(document!.reason, name).toBeUndefined();
      expect(document!.embedded, name).toBeGreaterThan(0);
    }
    expect(report.totals).toMatchObject({ documents: BAD_FILES.length + 2, failed: BAD_FILES.length, ingested: 2 });

    // Only the good files reached the store, and nothing else was embedded.
    const stored = await store.scroll(COLLECTION, { limit: 1_000 });
    const sources = new Set(stored.points.map((point) => (point.payload as { source?: unknown }).source));
    expect([...sources].sort()).toEqual(['good-hypertension.md', 'good-lipids.txt']);
    const embeddedTexts = embedder.calls.flatMap((call) => call.input.texts);
    expect(embeddedTexts.some((text) => text.includes('Huge') || text.includes('Markdown wearing'))).toBe(false);
  });

  it('refuses a file that claims to be a PDF but is garbage after the header, without failing the run', async () => {
    const pdfFolder = await mkdtemp(path.join(os.tmpdir(), 'aidoc-bad-pdf-'));
    try {
      await writeFile(path.join(pdfFolder, 'broken.pdf'), Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.from(Array.from({ length: 512 }, (_, index) => (index * 37) % 256))]));
      await writeFile(path.join(pdfFolder, 'good.md'), GOOD_MARKDOWN);
      const pipeline = createIngestPipeline({ embedder: createMockEmbedder({ dimensions: 16 }), vectorStore: createMockVectorStore(), collection: COLLECTION, sourceRoot: pdfFolder });
      const report = await pipeline.ingest([pdfFolder]);
      const broken = report.documents.find((document) => document.source === 'broken.pdf');
      expect(broken?.status).toBe('failed');
      expect(broken!.reason).toEqual(expect.any(String));
      expect(broken!.reason!.length).toBeGreaterThan(0);
      expect(report.documents.find((document) => document.source === 'good.md')?.status).toBe('ingested');
    } finally {
      await rm(pdfFolder, { recursive: true, force: true });
    }
  }, 15_000);
});
