// The load generator, run in its own process so it does not share the server's event loop:
// `node bench/lib/load-client.ts '<LoadClientOptions as JSON>'` drives POST briefings with
// autocannon and prints one LoadClientReport as JSON on stdout. Each 2xx body is checked: a JSON
// briefing for the requested patient whose recommendations cite sources that are returned.
import autocannon from 'autocannon';

export interface LoadClientOptions {
  readonly url: string;
  readonly path: string;
  readonly patientId: string;
  readonly connections: number;
  readonly durationSeconds: number;
  /** Per request; a request still open after it counts as an error (timeout). */
  readonly timeoutSeconds?: number;
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
  const cpuBefore = process.cpuUsage();
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationSeconds,
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
  const cpu = process.cpuUsage(cpuBefore);
  return {
    requests: result.requests.total,
    requestsPerSecond: result.requests.total / result.duration,
    ok: result['2xx'],
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    invalidBriefings,
    latencyP50Ms: result.latency.p50,
    latencyP90Ms: result.latency.p90,
    latencyP99Ms: result.latency.p99,
    latencyMaxMs: result.latency.max,
    latencyMeanMs: result.latency.mean,
    clientCpuPercent: ((cpu.user + cpu.system) / 1000 / (result.duration * 1000)) * 100,
  };
}

if (import.meta.main) {
  const options = JSON.parse(process.argv[2] ?? '') as LoadClientOptions;
  process.stdout.write(`${JSON.stringify(await runLoadClient(options))}\n`);
}
