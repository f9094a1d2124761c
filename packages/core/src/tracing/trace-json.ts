import { criticalPath } from './critical-path.ts';
import type { SpanAttributeValue, SpanKind, SpanStatus, Trace } from './span.ts';

/** One span as plain JSON, for HTTP responses, SSE events and browser-side waterfalls. */
export interface SpanJson {
  readonly id: number;
  readonly parentId: number | undefined;
  readonly name: string;
  readonly kind: SpanKind;
  /** Milliseconds since the trace began. */
  readonly start: number;
  readonly end: number;
  readonly status: SpanStatus;
  readonly errorCode: string | undefined;
  readonly queuedMs: number;
  readonly backoffMs: number;
  readonly attempts: number;
  /** On the critical path: the chain of spans that decided the trace's duration. */
  readonly critical: boolean;
  readonly attributes: Readonly<Record<string, SpanAttributeValue>>;
}

export interface TraceJson {
  readonly name: string;
  /** Wall-clock start, ISO 8601. */
  readonly startedAt: string;
  readonly durationMs: number;
  readonly spans: readonly SpanJson[];
}

/**
 * A trace as plain JSON (a snapshot: running spans end now). Attributes are whatever the code
 * recorded; core records ids and sizes only, never patient data.
 */
export function toTraceJson(trace: Trace): TraceJson {
  const now = trace.now();
  const critical = new Set(criticalPath(trace));
  const round = (ms: number): number => Math.round(ms * 1000) / 1000;
  return {
    name: trace.name,
    startedAt: new Date(trace.epochStart).toISOString(),
    durationMs: round(trace.root.end ?? now),
    spans: trace.spans.map((span) => ({
      id: span.id,
      parentId: span.parent?.id,
      name: span.name,
      kind: span.kind,
      start: round(span.start),
      end: round(span.end ?? now),
      status: span.status,
      errorCode: span.errorCode,
      queuedMs: round(span.queuedMs),
      backoffMs: round(span.backoffMs),
      attempts: span.attempts,
      critical: critical.has(span),
      attributes: span.attributes,
    })),
  };
}
