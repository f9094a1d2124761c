// A small load test (part of `npm test`): 20 connections for 3 s of POST briefings against the
// server over mocks with simulated upstream latencies (the figures of bench/load.ts). autocannon
// runs in a child process (bench/lib/load-client.ts), so it does not share the server's event
// loop. Bounds are generous for CI: p99 <= 2x the critical path, event-loop p99 < 100 ms.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createEventLoopMonitor, definePools, PatientBriefingSchema, resetPools } from '@aidoc/core';
import { createGuidelineVectorStore, createMockEmbedder, createMockPatientRepository, examplePatientRecord } from '@aidoc/core/testing';
import { afterEach, expect, test } from 'vitest';
import { mockAdapters, mockServer, scriptedModel } from './support/test-server.ts';

const MODEL_TURN = { fixedMs: 240, jitterMs: 20 };
const EMBED = { fixedMs: 40 };
const SEARCH = { fixedMs: 10 };
const PATIENT_FETCH = { fixedMs: 10 };
/** Patient fetch + model turn + embed + search + model turn, each at its slowest. */
const CRITICAL_PATH_MS = 10 + 260 + 40 + 10 + 260;
const CONNECTIONS = 20;
const DURATION_SECONDS = 3;
const CLIENT_SCRIPT = fileURLToPath(new URL('../../../bench/lib/load-client.ts', import.meta.url));

/** What bench/lib/load-client.ts prints (the fields this test reads). */
interface LoadClientReport {
  readonly requests: number;
  readonly ok: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly invalidBriefings: number;
  readonly latencyP99Ms: number;
}

function runLoadClient(options: { url: string; path: string; patientId: string; connections: number; durationSeconds: number }): Promise<LoadClientReport> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLIENT_SCRIPT, JSON.stringify(options)], (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`load client failed: ${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as LoadClientReport);
    });
  });
}

afterEach(() => resetPools());

test(`${CONNECTIONS} connections for ${DURATION_SECONDS} s: no errors, valid briefings, p99 within 2x the critical path`, { timeout: 15_000 }, async () => {
  resetPools();
  definePools({ model: { concurrency: 64 }, embedder: { concurrency: 64 }, vectorStore: { concurrency: 128 }, patients: { concurrency: 64 } });
  // Started before the server, so the server's own monitor stands aside for this one.
  const monitor = createEventLoopMonitor({ thresholdMs: 100, sampleIntervalMs: 20 }).start();
  const adapters = mockAdapters({
    model: scriptedModel({ latency: MODEL_TURN }),
    embedder: createMockEmbedder({ dimensions: 32, latency: EMBED }),
    vectorStore: createGuidelineVectorStore({ dimensions: 32, latency: SEARCH }),
    patients: createMockPatientRepository({ records: [examplePatientRecord('1')], latency: PATIENT_FETCH }),
  });
  const { server } = await mockServer({ adapters });
  try {
    const url = await server.listen({ host: '127.0.0.1', port: 0 });
    // Warm up (JIT, the query-embedding cache); one briefing checked against the schema.
    const warmUp = await Promise.all(Array.from({ length: CONNECTIONS }, () => server.inject({ method: 'POST', url: '/api/v1/patients/1/briefing' })));
    expect(warmUp.map((response) => response.statusCode)).toEqual(Array.from({ length: CONNECTIONS }, () => 200));
    expect(PatientBriefingSchema.safeParse(warmUp[0]?.json<{ briefing: unknown }>().briefing).success).toBe(true);
    monitor.resetStats();

    const report = await runLoadClient({ url, path: '/api/v1/patients/1/briefing', patientId: '1', connections: CONNECTIONS, durationSeconds: DURATION_SECONDS });
    const eventLoop = monitor.stats();

    // Each connection completes about one briefing per critical path.
    expect(report.requests).toBeGreaterThanOrEqual(CONNECTIONS * 2);
    expect({ errors: report.errors, timeouts: report.timeouts, non2xx: report.non2xx, invalidBriefings: report.invalidBriefings }).toEqual({
      errors: 0,
      timeouts: 0,
      non2xx: 0,
      invalidBriefings: 0,
    });
    expect(report.ok).toBe(report.requests);
    expect(report.latencyP99Ms).toBeLessThanOrEqual(2 * CRITICAL_PATH_MS);
    expect(eventLoop.p99Ms).toBeLessThan(100);
  } finally {
    monitor.stop();
    await server.close();
  }
});
