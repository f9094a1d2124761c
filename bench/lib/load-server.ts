// The example briefing server over mock adapters with simulated upstream latencies, listening
// on 127.0.0.1, and one measured load run against it: autocannon in a child process
// (`load-client.ts`), event-loop delay and RSS sampled in this process (the server's).
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createEventLoopMonitor, definePools, resetPools } from '@aidoc/core';
import {
  createGuidelineVectorStore,
  createMockChatModel,
  createMockEmbedder,
  createMockPatientRepository,
  examplePatientRecord,
  scriptedBriefingTurns,
} from '@aidoc/core/testing';
import { loadConfig } from '@aidoc/example-config';
import { buildServer } from '@aidoc/example-server/build-server';
import type { LoadClientOptions, LoadClientReport } from './load-client.ts';
import { percentile } from './measure.ts';

/** Simulated upstream latencies, per call: `fixedMs` plus a uniform extra in `[0, jitterMs)`. */
export const LOAD_LATENCIES = {
  /** One model turn: 250 ms ± 10 ms. */
  modelTurn: { fixedMs: 240, jitterMs: 20 },
  embed: { fixedMs: 40, jitterMs: 0 },
  /** Every vector-store call (search, and the collection check that runs beside the patient fetch). */
  search: { fixedMs: 10, jitterMs: 0 },
  patientFetch: { fixedMs: 10, jitterMs: 0 },
} as const;

const slowest = (latency: { fixedMs: number; jitterMs: number }): number => latency.fixedMs + latency.jitterMs;

/**
 * The critical path of one briefing at the slowest configured latencies: patient fetch (beside
 * the collection check) + model turn (two searches) + embed + search + model turn (submit) = 580 ms.
 * The searches of a turn run concurrently, so they count once.
 */
export const CRITICAL_PATH_MS =
  Math.max(slowest(LOAD_LATENCIES.patientFetch), slowest(LOAD_LATENCIES.search)) +
  slowest(LOAD_LATENCIES.modelTurn) +
  slowest(LOAD_LATENCIES.embed) +
  slowest(LOAD_LATENCIES.search) +
  slowest(LOAD_LATENCIES.modelTurn);

const DIMENSIONS = 32;
const PATIENT_ID = '1';
const BRIEFING_PATH = `/api/v1/patients/${PATIENT_ID}/briefing`;
/** Concurrent briefings per warm-up round. */
const WARM_UP_BRIEFINGS = 50;
const CLIENT_SCRIPT = fileURLToPath(new URL('./load-client.ts', import.meta.url));

export interface LoadRunOptions {
  readonly connections: number;
  /** Measured seconds, after `warmUpSeconds` (see `LoadClientOptions.warmUpSeconds`). */
  readonly durationSeconds: number;
  readonly warmUpSeconds: number;
}

export interface LoadRunReport extends LoadClientReport {
  readonly connections: number;
  readonly durationSeconds: number;
  readonly warmUpSeconds: number;
  readonly criticalPathMs: number;
  readonly eventLoopP99Ms: number;
  readonly eventLoopMaxMs: number;
  /** Share of the run the server's event loop was busy (0 to 1). */
  readonly eventLoopUtilization: number;
  /** Stalls over the monitor's threshold (100 ms) during the run, and the tasks held responsible most often. */
  readonly eventLoopStalls: number;
  readonly eventLoopStallSuspects: string;
  readonly rssPeakMegabytes: number;
  /** Heap in use at its peak (sampled every 100 ms). */
  readonly heapPeakMegabytes: number;
  /** CPU time of this process (the server) over the run, in percent of one core. */
  readonly serverCpuPercent: number;
  /**
   * Briefing latency as the server measured it (request received to response sent), which
   * leaves out the load generator's own queueing on the shared cores.
   */
  readonly serverLatencyP50Ms: number;
  readonly serverLatencyP99Ms: number;
}

/** Starts a fresh server sized for `connections`, drives it for `durationSeconds`, closes it. */
export async function runLoad(options: LoadRunOptions): Promise<LoadRunReport> {
  resetPools();
  // Every connection holds one briefing; a briefing holds at most one model call, one embed and
  // two searches at a time. Twice that leaves the pools out of the way: we measure the server.
  const slots = options.connections * 2;
  definePools({ model: { concurrency: slots }, embedder: { concurrency: slots }, vectorStore: { concurrency: slots * 2 }, patients: { concurrency: slots } });
  // Started before the server, so the server's own monitor stands aside and this one sees everything.
  const monitor = createEventLoopMonitor({ thresholdMs: 100, sampleIntervalMs: 20 }).start();
  const server = await buildServer({
    config: loadConfig({ PORT: '0' }),
    logger: false,
    adapters: {
      embedder: createMockEmbedder({ dimensions: DIMENSIONS, latency: LOAD_LATENCIES.embed, recordCalls: false }),
      vectorStore: createGuidelineVectorStore({ dimensions: DIMENSIONS, latency: LOAD_LATENCIES.search, recordCalls: false }),
      patients: createMockPatientRepository({ records: [examplePatientRecord(PATIENT_ID)], latency: LOAD_LATENCIES.patientFetch, recordCalls: false }),
      model: createMockChatModel({ latency: LOAD_LATENCIES.modelTurn, turns: scriptedBriefingTurns(), recordCalls: false }),
      close: () => Promise.resolve(),
    },
  });
  let serverLatencies: number[] = [];
  /** Requests received before this are the warm-up's (or the server's own warm-up). */
  let measureFrom = Infinity;
  server.addHook('onResponse', (request, reply, done) => {
    if (request.method === 'POST' && performance.now() - reply.elapsedTime >= measureFrom) serverLatencies.push(reply.elapsedTime);
    done();
  });
  let sampler: NodeJS.Timeout | undefined;
  try {
    const url = await server.listen({ host: '127.0.0.1', port: 0 });
    // Warm up (JIT, the query-embedding cache), then measure from a clean slate.
    for (let round = 0; round < 2; round++) {
      await Promise.all(Array.from({ length: WARM_UP_BRIEFINGS }, () => server.inject({ method: 'POST', url: BRIEFING_PATH })));
    }
    monitor.resetStats();
    serverLatencies = [];
    const stallsBefore = monitor.stalls.length;
    let rssPeak = 0;
    let heapPeak = 0;
    const sample = (): void => {
      const usage = process.memoryUsage();
      rssPeak = Math.max(rssPeak, usage.rss);
      heapPeak = Math.max(heapPeak, usage.heapUsed);
    };
    sample();
    sampler = setInterval(sample, 100);
    const cpuBefore = process.cpuUsage();
    const startedAt = performance.now();
    measureFrom = startedAt + options.warmUpSeconds * 1000;
    const client = await runLoadClientProcess({
      url,
      path: BRIEFING_PATH,
      patientId: PATIENT_ID,
      connections: options.connections,
      durationSeconds: options.durationSeconds,
      warmUpSeconds: options.warmUpSeconds,
    });
    const stats = monitor.stats();
    const cpu = process.cpuUsage(cpuBefore);
    const elapsedMs = performance.now() - startedAt;
    sample();
    const stalls = monitor.stalls.slice(stallsBefore);
    return {
      ...client,
      connections: options.connections,
      durationSeconds: options.durationSeconds,
      warmUpSeconds: options.warmUpSeconds,
      criticalPathMs: CRITICAL_PATH_MS,
      eventLoopP99Ms: stats.p99Ms,
      eventLoopMaxMs: stats.maxMs,
      eventLoopUtilization: stats.utilization,
      eventLoopStalls: stalls.length,
      eventLoopStallSuspects: [...new Set(stalls.flatMap((stall) => stall.tasks.slice(0, 1)))].slice(0, 3).join(', '),
      rssPeakMegabytes: rssPeak / 1024 / 1024,
      heapPeakMegabytes: heapPeak / 1024 / 1024,
      serverCpuPercent: ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100,
      serverLatencyP50Ms: percentile(serverLatencies, 50),
      serverLatencyP99Ms: percentile(serverLatencies, 99),
    };
  } finally {
    clearInterval(sampler);
    monitor.stop();
    await server.close();
    resetPools();
  }
}

/** Runs `load-client.ts` in a child `node` and returns its JSON report. */
export function runLoadClientProcess(options: LoadClientOptions): Promise<LoadClientReport> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLIENT_SCRIPT, JSON.stringify(options)], { maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null) {
        reject(new Error(`load client failed: ${error.message}\n${stderr}`));
        return;
      }
      resolve(JSON.parse(stdout) as LoadClientReport);
    });
  });
}
