// The briefing page in a real browser: the real server (embedded defaults over a temp data dir)
// serves the page; headless Chromium picks a patient, streams a briefing, follows a citation to
// its source card and checks the trace waterfall. Saves test-artifacts/briefing-page.png.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createIngestPipeline } from '@aidoc/core';
import { loadConfig } from '@aidoc/example-config';
import { createFileVectorStore, createHashingEmbedder, sampleGuidelinesDirectory } from '@aidoc/local';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../src/build-server.ts';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = path.resolve(import.meta.dirname, '..', '..', '..', 'test-artifacts', 'briefing-page.png');

describe.skipIf(!existsSync(CHROMIUM))('the briefing page (headless Chromium; skipped when /usr/bin/chromium is missing)', () => {
  let dataDirectory: string;
  let server: FastifyInstance | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let baseUrl: string;
  const pageErrors: string[] = [];
  /** What the browser refused under the server's content security policy. */
  const policyViolations: string[] = [];

  beforeAll(async () => {
    dataDirectory = await mkdtemp(path.join(os.tmpdir(), 'aidoc-browser-'));
    {
      await using writer = createFileVectorStore({ directory: path.join(dataDirectory, 'vectors') });
      const ingest = createIngestPipeline({ embedder: createHashingEmbedder(), vectorStore: writer, collection: 'guidelines', sourceRoot: sampleGuidelinesDirectory });
      await ingest.ingest([sampleGuidelinesDirectory]);
    }
    const app = await buildServer({ config: loadConfig({ AIDOC_DATA_DIR: dataDirectory, PORT: '0' }), logger: false });
    server = app;
    baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && /content security policy/i.test(message.text())) policyViolations.push(message.text());
    });
    // Keep a copy of every streamed briefing body (a clone: the page still reads it live), so the
    // waterfall can be checked against the trace the page actually received.
    await page.addInitScript(() => {
      const original = window.fetch.bind(window);
      const bodies: Promise<string>[] = [];
      Object.assign(window, { briefingBodies: bodies });
      window.fetch = async (...args: Parameters<typeof fetch>) => {
        const response = await original(...args);
        if (response.url.endsWith('/briefing')) bodies.push(response.clone().text());
        return response;
      };
    });
  }, 20_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dataDirectory !== undefined) await rm(dataDirectory, { recursive: true, force: true });
  });

  it('streams a cited briefing for patient 1, highlights a clicked source and draws the waterfall', async () => {
    await page.goto(`${baseUrl}/`);
    await expect(page.title()).resolves.toContain('Patient briefing');
    await page.waitForSelector('#patient[data-loaded="true"]');
    expect(await page.locator('#patient option').count()).toBeGreaterThanOrEqual(6);
    await page.selectOption('#patient', '1');

    await page.getByRole('button', { name: 'Brief' }).click();
    await page.waitForSelector('#briefing:not([hidden])');
    await page.waitForSelector('#status[data-state="done"]');
    await expect(page.locator('#error').isHidden()).resolves.toBe(true);
    await expect(page.locator('#summary').textContent()).resolves.toMatch(/patient 1/);
    expect(await page.locator('#log li[data-type="tool_call"]').count()).toBeGreaterThan(0);
    expect(await page.locator('#log li[data-type="tool_result"]').count()).toBeGreaterThan(0);
    expect(await page.locator('#recommendations li').count()).toBeGreaterThan(0);

    // A citation scrolls to its source card, highlights it and shows the quoted passage.
    const citation = page.locator('#recommendations .citation:not([disabled])').first();
    const sourceId = await citation.getAttribute('data-source');
    expect(sourceId).toMatch(/^S\d+$/);
    await citation.click();
    const card = page.locator(`#source-${sourceId}`);
    await expect(card.getAttribute('class')).resolves.toContain('highlighted');
    expect(await page.locator('.source.highlighted').count()).toBe(1);
    expect((await card.locator('.source-text').textContent())?.trim().length).toBeGreaterThan(20);
    await page.waitForFunction((id) => {
      const box = document.getElementById(`source-${id}`)?.getBoundingClientRect();
      return box !== undefined && box.top >= 0 && box.bottom <= window.innerHeight + 1;
    }, sourceId);

    // One waterfall row per span of the trace in the `done` event the page received.
    const body = await page.evaluate(() => (window as unknown as { briefingBodies: Promise<string>[] }).briefingBodies[0]);
    const spans = doneTraceSpans(body ?? '');
    const rows = page.locator('#waterfall .wf-span');
    expect(await rows.count()).toBe(spans.length);
    expect(new Set(await rows.evaluateAll((elements) => elements.map((element) => element.getAttribute('data-span-id'))))).toEqual(
      new Set(spans.map((span) => String(span.id))),
    );
    const critical = await page.locator('#waterfall .wf-span.critical').count();
    expect(critical).toBeGreaterThanOrEqual(1);
    expect(critical).toBe(spans.filter((span) => span.critical).length);
    await expect(page.locator('#waterfall .wf-span.critical .wf-duration').first().textContent()).resolves.toMatch(/\d(\.\d)? m?s$/);
    await expect(page.locator('#legend').isVisible()).resolves.toBe(true);

    expect(pageErrors).toEqual([]);
    expect(policyViolations).toEqual([]);
    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    // Back to the top (the citation's smooth scroll may still be running) so the sticky header sits there.
    await page.waitForFunction(() => {
      window.scrollTo({ top: 0, behavior: 'instant' });
      return window.scrollY === 0;
    });
    await page.waitForTimeout(100);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });
});

/** The spans of the trace in the `done` event of an SSE body. */
function doneTraceSpans(body: string): { id: number; critical: boolean }[] {
  for (const frame of body.split(/\r?\n\r?\n/)) {
    const lines = frame.split(/\r?\n/);
    if (!lines.includes('event: done')) continue;
    const data = lines.filter((line) => line.startsWith('data:')).map((line) => line.slice(5).trim());
    const done = JSON.parse(data.join('\n')) as { trace: { spans: { id: number; critical: boolean }[] } };
    return done.trace.spans;
  }
  throw new Error('the stream had no done event');
}
