// The load generator, run in its own process so it does not share the server's event loop:
// `node bench/lib/load-client.ts '<LoadClientOptions as JSON>'` drives POST briefings with
// autocannon and prints one LoadClientReport as JSON on stdout. Each 2xx body is checked: a JSON
// briefing for the requested patient whose recommendations cite sources that are returned.
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { percentile, round } from './measure.ts';

export interface LoadClientOptions {
  readonly url: string;
  readonly path: string;
  readonly patientId: string;
  readonly connections: number;
  readonly durationSeconds: number;
  /** Per request; a request still open after it counts as an error (timeout). */
  readonly timeoutSeconds?: number;
  /**
   * Seconds of load before the measured `durationSeconds`: every connection opens at once and
   * the first requests arrive as one aligned wave, a cold start rather than steady load. Latency
   * and throughput figures leave out requests sent in it; errors, timeouts and invalid bodies
   * count over the whole run, and `wholeRunLatencyP99Ms` reports the p99 with it.
   * @default 0
   */
  readonly warmUpSeconds?: number;
}

export interface LoadClientReport {
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly ok: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly invalidBriefings: number;
  readonly latencyP50Ms: number;
  readonly latencyP90Ms: number;
  readonly latencyP99Ms: number;
  readonly latencyMaxMs: number;
  readonly latencyMeanMs: number;
  /** p99 over every request, the warm-up's included. */
  readonly wholeRunLatencyP99Ms: number;
  /** CPU time of the load generator over the run, in percent of one core (it shares the machine). */
  readonly clientCpuPercent: number;
}

/** Whether `body` is a briefing of `patientId` whose every cited source id is among its sources. */
export function isValidBriefingBody(body: string, patientId: string): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return false;
  }
  if (typeof parsed !== 'object' || parsed === null) return false;
  const { briefing, sources } = parsed as { briefing?: unknown; sources?: unknown };
  if (typeof briefing !== 'object' || briefing === null || !Array.isArray(sources) || sources.length === 0) return false;
  const { patientId: briefedId, summary, recommendations } = briefing as { patientId?: unknown; summary?: unknown; recommendations?: unknown };
  if (briefedId !== patientId || typeof summary !== 'string' || summary === '' || !Array.isArray(recommendations) || recommendations.length === 0) return false;
  const sourceIds = new Set(sources.map((source: unknown) => (typeof source === 'object' && source !== null ? (source as { id?: unknown }).id : undefined)));
  return recommendations.every((recommendation: unknown) => {
    const citations = typeof recommendation === 'object' && recommendation !== null ? (recommendation as { citations?: unknown }).citations : undefined;
    return Array.isArray(citations) && citations.length > 0 && citations.every((citation) => sourceIds.has(citation));
  });
}

export async function runLoadClient(options: LoadClientOptions): Promise<LoadClientReport> {
  let invalidBriefings = 0;
  const warmUpMs = (options.warmUpSeconds ?? 0) * 1000;
  const cpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  /** Latencies of the requests sent after the warm-up. */
  const measured: number[] = [];
  const run = autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationSeconds + warmUpMs / 1000,
    timeout: options.timeoutSeconds ?? 10,
    requests: [
      {
        method: 'POST',
        path: options.path,
        onResponse(status, body) {
          if (status >= 200 && status < 300 && !isValidBriefingBody(body, options.patientId)) invalidBriefings++;
        },
      },
    ],
  });
  run.on('response', (_client, _status, _bytes, responseTime) => {
    if (performance.now() - responseTime - startedAt >= warmUpMs) measured.push(responseTime);
  });
  const result = await run;
  const cpu = process.cpuUsage(cpuBefore);
  if (measured.length === 0) {
    throw new Error(
      `No response arrived after the ${options.warmUpSeconds ?? 0} s warm-up (${result.requests.total} requests, ${result.errors} errors, ${result.timeouts} timeouts): no latency to report`,
    );
  }
  return {
    requests: result.requests.total,
    requestsPerSecond: measured.length / options.durationSeconds,
    ok: result['2xx'],
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    invalidBriefings,
    latencyP50Ms: round(percentile(measured, 50), 1),
    latencyP90Ms: round(percentile(measured, 90), 1),
    latencyP99Ms: round(percentile(measured, 99), 1),
    latencyMaxMs: round(measured.reduce((max, value) => Math.max(max, value), 0), 1),
    latencyMeanMs: round(measured.reduce((sum, value) => sum + value, 0) / measured.length, 1),
    wholeRunLatencyP99Ms: result.latency.p99,
    clientCpuPercent: ((cpu.user + cpu.system) / 1000 / (result.duration * 1000)) * 100,
  };
}

if (import.meta.main) {
  const options = JSON.parse(process.argv[2] ?? '') as LoadClientOptions;
  process.stdout.write(`${JSON.stringify(await runLoadClient(options))}\n`);
}
