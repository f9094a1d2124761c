import { performance } from 'node:perf_hooks';
import type { AidocErrorCode } from '../errors/aidoc-error.ts';

/** What a span measures; renderers group and colour by it. */
export type SpanKind =
  /** The root of a trace: one request, one ingest run. */
  | 'root'
  /** A task of a task graph, or one entry of `gather`. */
  | 'task'
  /** One call to an adapter (embed, query, generate, getById). */
  | 'call'
  /** Anything else worth timing. */
  | 'internal';

export type SpanAttributeValue = string | number | boolean;

export interface SpanAnnotation {
  /** Milliseconds since the trace began. */
  readonly at: number;
  readonly message: string;
}

export type SpanStatus = 'running' | 'ok' | 'error';

/** Called when spans start and end; the OpenTelemetry bridge is one such listener. */
export interface SpanListener {
  onStart?(span: Span): void;
  onEnd?(span: Span): void;
}

const NO_ATTRIBUTES: Readonly<Record<string, SpanAttributeValue>> = Object.freeze({});
const NO_ANNOTATIONS: readonly SpanAnnotation[] = Object.freeze([]);

/**
 * One timed piece of work. Times are milliseconds relative to the trace's start, so a trace is
 * readable on its own. A span splits its wall time into time queued for a pool slot, time
 * sleeping between retry attempts, and the rest (running).
 */
export class Span {
  readonly id: number;
  readonly parent: Span | undefined;
  readonly trace: Trace;
  readonly name: string;
  readonly kind: SpanKind;
  readonly start: number;
  end: number | undefined = undefined;
  status: SpanStatus = 'running';
  errorCode: AidocErrorCode | undefined = undefined;
  /** Time spent waiting for a pool slot (summed over attempts). */
  queuedMs = 0;
  /** Time spent sleeping between retry attempts. */
  backoffMs = 0;
  /**
   * Longest synchronous slice of this span's own code (CPU work that held the event loop),
   * measured while an event-loop monitor runs.
   */
  syncMs = 0;
  attempts = 0;
  /** Slot for listeners (e.g. the OpenTelemetry span mirroring this one). */
  external: unknown = undefined;
  // Most spans never get an attribute or annotation; allocating on first use keeps a span cheap
  // enough to record for every task in production.
  private ownAttributes: Record<string, SpanAttributeValue> | undefined = undefined;
  private ownAnnotations: SpanAnnotation[] | undefined = undefined;

  /** `start` is in milliseconds since the trace began; it defaults to now. */
  constructor(trace: Trace, parent: Span | undefined, name: string, kind: SpanKind, start = trace.now()) {
    this.trace = trace;
    this.parent = parent;
    this.name = name;
    this.kind = kind;
    this.id = trace.spans.length + 1;
    this.start = start;
  }

  /** Wall time so far (or in total, once ended). */
  get durationMs(): number {
    return (this.end ?? this.trace.now()) - this.start;
  }

  /** Wall time less queueing and backoff: the time the work itself took. */
  get runMs(): number {
    return Math.max(0, this.durationMs - this.queuedMs - this.backoffMs);
  }

  get attributes(): Readonly<Record<string, SpanAttributeValue>> {
    return this.ownAttributes ?? NO_ATTRIBUTES;
  }

  get annotations(): readonly SpanAnnotation[] {
    return this.ownAnnotations ?? NO_ANNOTATIONS;
  }

  setAttribute(key: string, value: SpanAttributeValue): this {
    (this.ownAttributes ??= {})[key] = value;
    return this;
  }

  annotate(message: string): this {
    (this.ownAnnotations ??= []).push({ at: this.trace.now(), message });
    return this;
  }

  /** Ends the span; later calls are ignored, so `finally` blocks may call it freely. */
  finish(errorCode?: AidocErrorCode): void {
    if (this.end !== undefined) return;
    this.end = this.trace.now();
    this.status = errorCode === undefined ? 'ok' : 'error';
    this.errorCode = errorCode;
    this.trace.notifyEnd(this);
  }
}

/**
 * All spans of one unit of work (a request, an ingest run). Create one with `startTrace` or
 * `runTraced`; nested work started inside records into it through AsyncLocalStorage.
 */
export class Trace {
  readonly name: string;
  /** `performance.now()` at the trace's start. */
  readonly origin: number;
  /** Wall-clock time of the trace's start (ms since the epoch), for exporters. */
  readonly epochStart: number;
  readonly spans: Span[] = [];
  readonly root: Span;
  private readonly listeners: readonly SpanListener[];

  constructor(name: string, listeners: readonly SpanListener[] = []) {
    this.name = name;
    this.origin = performance.now();
    // Derived, not read: the same clock as every span, and one fewer clock read per trace.
    this.epochStart = performance.timeOrigin + this.origin;
    this.listeners = listeners;
    // The root starts at the origin itself: one clock read fewer per trace.
    this.root = this.startSpan(name, 'root', undefined, 0);
  }

  /** Milliseconds since the trace began. */
  now(): number {
    return performance.now() - this.origin;
  }

  /** Starts a span now, or at `start` (milliseconds since the trace began) when given. */
  startSpan(name: string, kind: SpanKind, parent: Span | undefined, start?: number): Span {
    const span = new Span(this, parent, name, kind, start);
    this.spans.push(span);
    for (const listener of this.listeners) listener.onStart?.(span);
    return span;
  }

  /** @internal Called by `Span.finish`. */
  notifyEnd(span: Span): void {
    for (const listener of this.listeners) listener.onEnd?.(span);
  }

  /** Wall time of the whole trace (root span). */
  get durationMs(): number {
    return this.root.durationMs;
  }
}
