// The real embedded defaults (hashing embedder, file-backed store opened read-only, JSON patients,
// offline model) over a temp data dir holding the ingested sample guidelines, through a real socket.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createIngestPipeline, resetPools, type TraceJson } from '@aidoc/core';
import { loadConfig } from '@aidoc/example-config';
import { createFileVectorStore, createHashingEmbedder, sampleGuidelinesDirectory } from '@aidoc/local';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../src/build-server.ts';
import { parseServerSentEvents } from './support/test-server.ts';

describe('the server on the embedded defaults', () => {
  let dataDirectory: string;
  let server: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    dataDirectory = await mkdtemp(path.join(os.tmpdir(), 'aidoc-server-'));
    {
      await using writer = createFileVectorStore({ directory: path.join(dataDirectory, 'vectors') });
      const ingest = createIngestPipeline({ embedder: createHashingEmbedder(), vectorStore: writer, collection: 'guidelines', sourceRoot: sampleGuidelinesDirectory });
      await ingest.ingest([sampleGuidelinesDirectory]);
    }
    server = await buildServer({ config: loadConfig({ AIDOC_DATA_DIR: dataDirectory, PORT: '0' }), logger: false });
    url = await server.listen({ host: '127.0.0.1', port: 0 });
  }, 30_000);

  afterAll(async () => {
    await server?.close();
    resetPools();
    await rm(dataDirectory, { recursive: true, force: true });
  });

  it('is ready, lists the sample patients and briefs one as JSON with a trace', async () => {
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const { patients } = (await (await fetch(`${url}/api/v1/patients`)).json()) as { patients: { id: string; label: string }[] };
    expect(patients.length).toBeGreaterThanOrEqual(6);
    const response = await fetch(`${url}/api/v1/patients/1/briefing?trace=1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { briefing: { patientId: string; recommendations: { citations: string[] }[] }; sources: { id: string }[]; trace: TraceJson };
    expect(body.briefing.patientId).toBe('1');
    const cited = new Set(body.briefing.recommendations.flatMap((item) => item.citations));
    expect(cited.size).toBeGreaterThan(0);
    for (const id of cited) expect(body.sources.map((source) => source.id)).toContain(id);
    expect(body.trace.spans.some((span) => span.name === 'vectorStore.queryBatch' || span.name === 'vectorStore.query')).toBe(true);
  });

  it('streams a briefing over SSE, ending with done', async () => {
    const response = await fetch(`${url}/api/v1/patients/2/briefing`, { method: 'POST', headers: { accept: 'text/event-stream' } });
    expect(response.status).toBe(200);
    const events = parseServerSentEvents(await response.text());
    expect(events[0]?.event).toBe('patient_loaded');
    expect(events.map((event) => event.event).slice(-2)).toEqual(['briefing', 'done']);
    expect((events.at(-1)!.data as { trace: TraceJson }).trace.spans.length).toBeGreaterThan(3);
  });

  it('answers 503 COLLECTION_EMPTY and is not ready over an empty data dir', async () => {
    const emptyDirectory = await mkdtemp(path.join(os.tmpdir(), 'aidoc-server-empty-'));
    const empty = await buildServer({ config: loadConfig({ AIDOC_DATA_DIR: emptyDirectory, PORT: '0' }), logger: false });
    try {
      const readiness = await empty.inject({ method: 'GET', url: '/readyz' });
      expect(readiness.statusCode).toBe(503);
      const response = await empty.inject({ method: 'POST', url: '/api/v1/patients/1/briefing' });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ code: 'COLLECTION_EMPTY', message: expect.stringContaining('run ingestion') as string });
    } finally {
      await empty.close();
      await rm(emptyDirectory, { recursive: true, force: true });
    }
  });
});
