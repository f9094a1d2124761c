// Latency of the example briefing server against concurrency: the load benchmark's setup
// (lib/load-server.ts) at 1, 10, 50, 100, 250 and 500 connections, 5 s each after a 2 s warm-up
// (quick: 2 s after 1 s, up to 100), p50 and p99 per step; writes docs/latency-vs-concurrency.svg.
// One row per concurrency: p99 / simulated critical path, target <= 1.1.
// Alone: `node --conditions=@aidoc/source bench/latency-vs-concurrency.ts [--quick]`.
import { writeFile } from 'node:fs/promises';
import type { Benchmark, BenchResult, BenchScale } from './lib/bench-result.ts';
import { latencyChartSvg, type LatencyPoint } from './lib/load-chart.ts';
import { CRITICAL_PATH_MS, runLoad } from './lib/load-server.ts';
import { round } from './lib/measure.ts';

const FULL_CONCURRENCIES = [1, 10, 50, 100, 250, 500];
const QUICK_CONCURRENCIES = [1, 10, 50, 100];
const CHART_FILE = new URL('../docs/latency-vs-concurrency.svg', import.meta.url);

export const latencyVsConcurrency: Benchmark = {
  name: 'latency vs concurrency',
  async run(scale) {
    return measureLatencyVsConcurrency(scale);
  },
};

async function measureLatencyVsConcurrency(scale: BenchScale): Promise<BenchResult[]> {
  const concurrencies = scale === 'full' ? FULL_CONCURRENCIES : QUICK_CONCURRENCIES;
  const durationSeconds = scale === 'full' ? 5 : 2;
  const warmUpSeconds = scale === 'full' ? 2 : 1;
  const points: LatencyPoint[] = [];
  const rows: BenchResult[] = [];
  for (const connections of concurrencies) {
    const report = await runLoad({ connections, durationSeconds, warmUpSeconds });
    points.push({ concurrency: connections, p50Ms: report.latencyP50Ms, p99Ms: report.latencyP99Ms });
    rows.push({
      name: `server latency at ${connections} connections (${durationSeconds} s)`,
      metric: 'p99 / critical path',
      value: round(report.latencyP99Ms / CRITICAL_PATH_MS, 3),
      target: 1.1,
      unit: 'x',
      details: {
        connections,
        latencyP50Ms: report.latencyP50Ms,
        latencyP99Ms: report.latencyP99Ms,
        wholeRunLatencyP99Ms: report.wholeRunLatencyP99Ms,
        criticalPathMs: CRITICAL_PATH_MS,
        requestsPerSecond: round(report.requestsPerSecond, 1),
        errors: report.errors,
        non2xx: report.non2xx,
        eventLoopP99Ms: round(report.eventLoopP99Ms, 2),
      },
    });
  }
  const title = `Briefing latency vs concurrency (critical path ${CRITICAL_PATH_MS} ms, ${durationSeconds} s per step after ${warmUpSeconds} s of warm-up)`;
  await writeFile(CHART_FILE, latencyChartSvg(points, CRITICAL_PATH_MS, title));
  return rows;
}

if (import.meta.main) {
  const rows = await measureLatencyVsConcurrency(process.argv.includes('--quick') ? 'quick' : 'full');
  for (const row of rows) console.log(`${row.name}: p50 ${row.details.latencyP50Ms} ms, p99 ${row.details.latencyP99Ms} ms, ${row.value}x`);
  console.log(`chart: ${CHART_FILE.pathname}`);
}
