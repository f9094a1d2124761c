// Load test of the example briefing server: the server in this process over mock adapters with
// simulated upstream latencies (model turn 250 ms ± 10 ms, embed 40 ms, search 10 ms, patient
// fetch 10 ms; see LOAD_LATENCIES), autocannon in a child process driving
// POST /api/v1/patients/1/briefing: 500 connections for 30 s (full), 50 for 5 s (quick), measured
// after a warm-up (2 s, quick 1 s) in which every connection opens at once and the first requests
// arrive as one wave: latency figures are steady-state; errors count over the whole run, and the
// p99 with the cold start is reported beside (`wholeRunLatencyP99Ms`).
// Targets: no errors, no non-2xx, no invalid briefing, p99 latency <= 1.1x the simulated critical
// path, event-loop delay p99 < 20 ms, RSS peak <= 1024 MB. Requests/s is reported.
import type { Benchmark, BenchResult } from './lib/bench-result.ts';
import { runLoad, type LoadRunReport } from './lib/load-server.ts';
import { round } from './lib/measure.ts';

export const load: Benchmark = {
  name: 'load',
  async run(scale) {
    const report = await runLoad(scale === 'full' ? { connections: 500, durationSeconds: 30, warmUpSeconds: 2 } : { connections: 50, durationSeconds: 5, warmUpSeconds: 1 });
    return loadRows(report);
  },
};

function loadRows(report: LoadRunReport): BenchResult[] {
  const name = `server load, ${report.connections} connections for ${report.durationSeconds} s`;
  const details = {
    connections: report.connections,
    durationSeconds: report.durationSeconds,
    warmUpSeconds: report.warmUpSeconds,
    requests: report.requests,
    ok: report.ok,
    errors: report.errors,
    timeouts: report.timeouts,
    non2xx: report.non2xx,
    invalidBriefings: report.invalidBriefings,
    latencyP50Ms: report.latencyP50Ms,
    latencyP90Ms: report.latencyP90Ms,
    latencyP99Ms: report.latencyP99Ms,
    latencyMaxMs: report.latencyMaxMs,
    wholeRunLatencyP99Ms: report.wholeRunLatencyP99Ms,
    criticalPathMs: report.criticalPathMs,
    eventLoopP99Ms: round(report.eventLoopP99Ms, 2),
    eventLoopMaxMs: round(report.eventLoopMaxMs, 2),
    eventLoopUtilization: round(report.eventLoopUtilization, 3),
    eventLoopStalls: report.eventLoopStalls,
    eventLoopStallSuspects: report.eventLoopStallSuspects,
    rssPeakMegabytes: round(report.rssPeakMegabytes, 1),
    heapPeakMegabytes: round(report.heapPeakMegabytes, 1),
    serverCpuPercent: round(report.serverCpuPercent, 1),
    clientCpuPercent: round(report.clientCpuPercent, 1),
    serverLatencyP50Ms: round(report.serverLatencyP50Ms, 1),
    serverLatencyP99Ms: round(report.serverLatencyP99Ms, 1),
    requestsPerSecond: round(report.requestsPerSecond, 1),
  };
  return [
    { name: `${name}: errors`, metric: 'errors + timeouts', value: report.errors, target: 0, details },
    { name: `${name}: non-2xx`, metric: 'non-2xx responses', value: report.non2xx, target: 0, details },
    { name: `${name}: invalid briefings`, metric: '2xx bodies that are not a valid briefing', value: report.invalidBriefings, target: 0, details },
    { name: `${name}: latency`, metric: 'p99 / critical path', value: round(report.latencyP99Ms / report.criticalPathMs, 3), target: 1.1, unit: 'x', details },
    { name: `${name}: event-loop delay`, metric: 'p99', value: round(report.eventLoopP99Ms, 2), target: 20, unit: ' ms', details },
    { name: `${name}: memory`, metric: 'RSS peak', value: round(report.rssPeakMegabytes, 1), target: 1024, unit: ' MB', details },
    // Informational: with every connection waiting one critical path, the ceiling is connections / critical path.
    {
      name: `${name}: throughput`,
      metric: 'requests/s / (connections / critical path)',
      value: round(report.requestsPerSecond / (report.connections / (report.criticalPathMs / 1000)), 3),
      target: 0.9,
      higherIsBetter: true,
      unit: 'x',
      details,
    },
  ];
}
