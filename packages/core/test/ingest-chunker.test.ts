import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { estimateTokens } from '../src/contracts/estimate-tokens.ts';
import { chunkDocument, trailingContext, type DocumentChunk } from '../src/pipelines/ingest/chunker.ts';
import { firstTopHeading, markdownBlocks } from '../src/pipelines/ingest/markdown-blocks.ts';
import { contentHash, pointId, uuidV5 } from '../src/pipelines/ingest/point-id.ts';
import type { SourceDocument } from '../src/pipelines/ingest/source-document.ts';
import { decodeTextFile } from '../src/pipelines/ingest/text-decoding.ts';
import { sentences } from './fixtures/ingest/ingest-helpers.ts';
import { startStallProbe } from './support/loop-stall-probe.ts';

const markdown = (text: string, title = 'Doc'): SourceDocument => ({ source: 'doc.md', title, format: 'markdown', text });

/** A chunk's own text, without its context line. */
function body(chunk: DocumentChunk): string {
  const context = chunk.section === '' ? chunk.title : chunk.section;
  expect(chunk.text.startsWith(`${context}\n\n`)).toBe(true);
  return chunk.text.slice(context.length + 2);
}

describe('markdownBlocks', () => {
  it('gives each paragraph its heading path; a heading replaces those at its level and deeper', () => {
    const text = [
      '---',
      'title: ignored front matter',
      '---',
      'Preamble.',
      '# Hypertension',
      'Intro.',
      '## Targets',
      'Below 130/80.',
      '### Older adults',
      'Below 140/90.',
      '## Drugs ##',
      'ACE inhibitors.',
      'Second line of the same paragraph.',
      '',
      'Diuretics',
      '---------',
      'Thiazides.',
    ].join('\n');
    expect([...markdownBlocks(text)].map((block) => [block.headings.join(' > '), block.text])).toEqual([
      ['', 'Preamble.'],
      ['Hypertension', 'Intro.'],
      ['Hypertension > Targets', 'Below 130/80.'],
      ['Hypertension > Targets > Older adults', 'Below 140/90.'],
      ['Hypertension > Drugs', 'ACE inhibitors.\nSecond line of the same paragraph.'],
      ['Hypertension > Diuretics', 'Thiazides.'],
    ]);
    expect(firstTopHeading(text)).toBe('Hypertension');
    expect(firstTopHeading('## Only an H2\n\ntext')).toBeUndefined();
  });

  it('keeps a fenced code block whole, blank lines and # lines included', () => {
    const text = '# Title\n\n```sh\n# not a heading\n\necho hi\n```\n\nAfter.';
    expect([...markdownBlocks(text)].map((block) => [block.headings.join(' > '), block.text])).toEqual([
      ['Title', '```sh\n# not a heading\n\necho hi\n```'],
      ['Title', 'After.'],
    ]);
  });
});

describe('chunkDocument', () => {
  it('cuts at headings: one section per chunk, section paths and titles as metadata', async () => {
    const text = '# Hypertension\n\nIntro.\n\n## Targets\n\nBelow 130/80.\n\n### Older adults\n\nBelow 140/90.\n\n## Drugs\n\nACE inhibitors.';
    const chunks = await chunkDocument(markdown(text, 'Hypertension'), { maxTokens: 200, overlapTokens: 20 });
    expect(chunks.map((chunk) => [chunk.index, chunk.section, chunk.text])).toEqual([
      [0, 'Hypertension', 'Hypertension\n\nIntro.'],
      [1, 'Hypertension > Targets', 'Hypertension > Targets\n\nBelow 130/80.'],
      [2, 'Hypertension > Targets > Older adults', 'Hypertension > Targets > Older adults\n\nBelow 140/90.'],
      [3, 'Hypertension > Drugs', 'Hypertension > Drugs\n\nACE inhibitors.'],
    ]);
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ source: 'doc.md', title: 'Hypertension', page: undefined, tokens: estimateTokens(chunk.text) });
      expect(chunk.contentHash).toBe(contentHash(chunk.text));
    }
  });

  it('packs whole paragraphs up to maxTokens', async () => {
    const paragraphs = Array.from({ length: 12 }, (_, index) => `Paragraph ${index + 1} is short.`);
    const chunks = await chunkDocument(markdown(`# T\n\n${paragraphs.join('\n\n')}`), { maxTokens: 40, overlapTokens: 0 });
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.length).toBeLessThan(paragraphs.length);
    expect(chunks.flatMap((chunk) => body(chunk).split('\n\n'))).toEqual(paragraphs);
    for (const chunk of chunks) expect(chunk.tokens).toBeLessThanOrEqual(40);
  });

  it('splits a paragraph over the limit on sentences, carrying whole trailing sentences as overlap', async () => {
    const paragraph = sentences(40);
    const chunks = await chunkDocument(markdown(`# T\n\n${paragraph}`), { maxTokens: 80, overlapTokens: 25 });
    expect(chunks.length).toBeGreaterThan(3);
    const all = paragraph.split(/(?<=\.) /);
    let previous: string | undefined;
    for (const chunk of chunks) {
      expect(chunk.tokens).toBeLessThanOrEqual(80);
      const own = body(chunk);
      // Whole sentences only: every sentence of the chunk is a sentence of the paragraph.
      for (const sentence of own.split(/(?<=\.) /)) expect(all).toContain(sentence);
      if (previous !== undefined) {
        const overlap = trailingContext(previous, 25);
        expect(overlap).not.toBe('');
        expect(estimateTokens(overlap)).toBeLessThanOrEqual(25);
        expect(own.startsWith(`${overlap} `)).toBe(true);
      }
      previous = own;
    }
    // Nothing lost: the last sentence is in the last chunk, every sentence somewhere.
    for (const sentence of all) expect(chunks.some((chunk) => chunk.text.includes(sentence))).toBe(true);
  });

  it('never carries overlap across a section boundary', async () => {
    const text = `# T\n\n## A\n\n${sentences(20, 'Alpha')}\n\n## B\n\n${sentences(20, 'Beta')}`;
    const chunks = await chunkDocument(markdown(text), { maxTokens: 70, overlapTokens: 30 });
    const firstOfB = chunks.find((chunk) => chunk.section === 'T > B')!;
    expect(body(firstOfB).startsWith('Beta 1 ')).toBe(true);
    expect(chunks.filter((chunk) => chunk.section === 'T > A').every((chunk) => !chunk.text.includes('Beta'))).toBe(true);
  });

  it('splits a sentence over the limit on words, and a huge "word" into slices, all within the limit', async () => {
    const longSentence = Array.from({ length: 300 }, (_, index) => `word${index}`).join(' ');
    const blob = 'x'.repeat(5_000);
    const chunks = await chunkDocument(markdown(`${longSentence}\n\n${blob}`), { maxTokens: 50, overlapTokens: 10 });
    for (const chunk of chunks) expect(chunk.tokens).toBeLessThanOrEqual(50);
    expect(chunks.map(body).join(' ')).toContain('word299');
    expect(chunks.map(body).join('').replace(/[^x]/g, '').length).toBeGreaterThanOrEqual(5_000);
  });

  it('chunks PDFs page by page, with the page number and the title as context', async () => {
    const document: SourceDocument = { source: 'a.pdf', title: 'Asthma', format: 'pdf', pages: ['Page one text.', '', 'Page three text.'] };
    const chunks = await chunkDocument(document, { maxTokens: 100, overlapTokens: 10 });
    expect(chunks.map((chunk) => [chunk.page, chunk.section, chunk.text])).toEqual([
      [1, '', 'Asthma\n\nPage one text.'],
      [3, '', 'Asthma\n\nPage three text.'],
    ]);
  });

  it('respects maxTokens and overlapTokens for any document (property)', async () => {
    const word = fc.stringMatching(/^[a-z]{1,10}$/);
    const sentence = fc.array(word, { minLength: 1, maxLength: 30 }).map((words) => `${words.join(' ')}.`);
    const paragraph = fc.array(sentence, { minLength: 1, maxLength: 12 }).map((parts) => parts.join(' '));
    const heading = fc.tuple(fc.integer({ min: 1, max: 4 }), word).map(([level, text]) => `${'#'.repeat(level)} ${text}`);
    const documentText = fc.array(fc.oneof(paragraph, heading), { minLength: 1, maxLength: 20 }).map((blocks) => blocks.join('\n\n'));
    await fc.assert(
      fc.asyncProperty(documentText, fc.integer({ min: 16, max: 300 }), fc.double({ min: 0, max: 0.5, noNaN: true }), async (text, maxTokens, share) => {
        const overlapTokens = Math.floor(maxTokens * share);
        const chunks = await chunkDocument(markdown(text), { maxTokens, overlapTokens });
        const bodies = new Set<string>();
        for (const chunk of chunks) {
          expect(chunk.tokens).toBe(estimateTokens(chunk.text));
          expect(chunk.tokens).toBeLessThanOrEqual(maxTokens);
          bodies.add(chunk.text);
        }
        // Every word of every paragraph reaches some chunk.
        const words = text
          .split('\n\n')
          .filter((block) => !block.startsWith('#'))
          .flatMap((block) => block.replaceAll('.', '').split(' '));
        const all = chunks.map((chunk) => chunk.text).join(' ');
        for (const each of words) expect(all).toContain(each);
      }),
      { numRuns: 150 },
    );
  });

  it('yields to the event loop while chunking a large document', async () => {
    // ~3 MB of Markdown: 2,000 sections of 10 paragraphs.
    const sections = Array.from({ length: 2_000 }, (_, index) => `## Section ${index}\n\n${Array.from({ length: 10 }, () => sentences(12)).join('\n\n')}`);
    const document = markdown(`# Big\n\n${sections.join('\n\n')}`);
    const probe = startStallProbe();
    const started = performance.now();
    const chunks = await chunkDocument(document, { maxTokens: 512, overlapTokens: 64 });
    const elapsed = performance.now() - started;
    const worst = probe.stop();
    expect(chunks.length).toBeGreaterThan(4_000);
    // Chunking in one go holds the loop for all of `elapsed` (~300 ms here); sliced, the longest
    // stall is a few slices (~10 ms alone; the ceiling leaves room for GC and a busy CI machine).
    expect(worst).toBeLessThan(elapsed / 4);
    expect(worst).toBeLessThan(100);
  });
});

describe('point ids', () => {
  it('are RFC 9562 UUIDv5', () => {
    // The RFC's example: the DNS namespace and "www.example.com".
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('depend on source, content, page and occurrence only', () => {
    const base = { source: 'a.md', contentHash: contentHash('text'), page: undefined, occurrence: 0 };
    const id = pointId(base);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(pointId({ ...base })).toBe(id);
    const variants = [
      { ...base, source: 'b.md' },
      { ...base, contentHash: contentHash('other') },
      { ...base, page: 2 },
      { ...base, occurrence: 1 },
    ].map(pointId);
    expect(new Set([id, ...variants]).size).toBe(5);
  });
});

describe('decodeTextFile', () => {
  const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

  it('refuses empty, binary and invalid UTF-8 files with a reason', () => {
    expect(decodeTextFile(bytes())).toEqual({ ok: false, reason: 'empty file' });
    expect(decodeTextFile(new TextEncoder().encode(' \n\t\n'))).toEqual({ ok: false, reason: 'empty file (whitespace only)' });
    expect(decodeTextFile(bytes(0x25, 0x50, 0x00, 0x01))).toEqual({ ok: false, reason: 'binary file (NUL byte at offset 2), not text' });
    // "5 µg" in Latin-1: 0xB5 is not UTF-8.
    expect(decodeTextFile(bytes(0x35, 0x20, 0xb5, 0x67))).toEqual({
      ok: false,
      reason: 'not valid UTF-8 (first bad byte at offset 2); convert the file to UTF-8',
    });
  });

  it('drops a byte-order mark and normalises line endings', () => {
    expect(decodeTextFile(bytes(0xef, 0xbb, 0xbf, 0x61, 0x0d, 0x0a, 0xc2, 0xb5))).toEqual({ ok: true, text: 'a\nµ' });
  });
});
