import { cpuTurnQueueLength, createEventLoopMonitor, listPools, type EventLoopMonitor, type Trace } from '@aidoc/core';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Metrics of one server, in their own registry (never prom-client's global one). */
export interface ServerMetrics {
  readonly registry: Registry;
  /** One finished HTTP request. */
  observeRequest(method: string, route: string, status: number, durationMs: number): void;
  /** Every finished adapter call and task of one briefing, by span name. */
  observeTrace(trace: Trace): void;
  /** Briefings running right now. */
  setInFlight(count: number): void;
  /** Stops the event-loop monitor. */
  close(): void;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export function createServerMetrics(options: { onMonitorUnavailable?: () => void } = {}): ServerMetrics {
  const registry = new Registry();
  const requestDuration = new Histogram({
    name: 'aidoc_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const stageDuration = new Histogram({
    name: 'aidoc_briefing_stage_duration_seconds',
    help: 'Latency of each stage (span) of finished briefings, e.g. model.generate, embedder.embed',
    labelNames: ['span', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const briefings = new Counter({
    name: 'aidoc_briefings_total',
    help: 'Finished briefings whose trace was recorded',
    registers: [registry],
  });
  const inFlight = new Gauge({ name: 'aidoc_briefings_in_flight', help: 'Briefings running right now', registers: [registry] });
  new Gauge({
    name: 'aidoc_pool_queue_depth',
    help: 'Calls waiting for a slot, per concurrency pool',
    labelNames: ['pool'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const pool of listPools()) this.set({ pool: pool.name }, pool.pendingCount);
    },
  });
  new Gauge({
    name: 'aidoc_pool_active',
    help: 'Calls running, per concurrency pool',
    labelNames: ['pool'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const pool of listPools()) this.set({ pool: pool.name }, pool.activeCount);
    },
  });

  new Gauge({
    name: 'aidoc_cpu_turn_queue',
    help: 'Steps waiting for a CPU turn (a queue that stays long means the process is CPU-bound: add processes)',
    registers: [registry],
    collect() {
      this.set(cpuTurnQueueLength());
    },
  });

  // One core monitor runs per process; a second server in the same process (tests) goes without.
  let monitor: EventLoopMonitor | undefined = createEventLoopMonitor({ thresholdMs: 100, sampleIntervalMs: 20 });
  try {
    monitor.start();
  } catch {
    monitor = undefined;
    options.onMonitorUnavailable?.();
  }
  new Gauge({
    name: 'aidoc_event_loop_delay_seconds',
    help: 'Event-loop delay percentiles since start (core event-loop monitor)',
    labelNames: ['quantile'] as const,
    registers: [registry],
    collect() {
      const stats = monitor?.stats();
      if (stats === undefined || stats.samples === 0) return;
      this.set({ quantile: '0.5' }, stats.p50Ms / 1000);
      this.set({ quantile: '0.99' }, stats.p99Ms / 1000);
      this.set({ quantile: '1' }, stats.maxMs / 1000);
    },
  });
  new Gauge({
    name: 'aidoc_event_loop_utilization',
    help: 'Share of wall time the event loop spent running code (0 to 1)',
    registers: [registry],
    collect() {
      const stats = monitor?.stats();
      if (stats !== undefined) this.set(stats.utilization);
    },
  });
  new Gauge({
    name: 'aidoc_event_loop_stalls',
    help: 'Event-loop stalls over 100 ms recorded by the monitor (the most recent 100)',
    registers: [registry],
    collect() {
      if (monitor !== undefined) this.set(monitor.stalls.length);
    },
  });

  return {
    registry,
    observeRequest(method, route, status, durationMs) {
      requestDuration.observe({ method, route, status_code: String(status) }, durationMs / 1000);
    },
    observeTrace(trace) {
      briefings.inc();
      for (const span of trace.spans) {
        if (span.kind === 'root' || span.end === undefined) continue;
        stageDuration.observe({ span: span.name, status: span.status }, (span.end - span.start) / 1000);
      }
    },
    setInFlight(count) {
      inFlight.set(count);
    },
    close() {
      monitor?.stop();
      monitor = undefined;
    },
  };
}
