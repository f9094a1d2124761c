import { AsyncLocalStorage } from 'node:async_hooks';
import { toAidocError } from '../errors/to-aidoc-error.ts';
import { openTelemetryListener } from './opentelemetry-bridge.ts';
import { Trace, type Span, type SpanKind, type SpanListener } from './span.ts';

/** Carries the current span across awaits, so nested work nests without passing anything. */
const storage = new AsyncLocalStorage<Span | undefined>();

/** Replaced, never changed in place, so every trace can share the list it started with. */
let globalListeners: readonly SpanListener[] = [];

/**
 * Registers a listener for every trace created from now on (exporters use this).
 * Returns a function that removes it.
 */
export function addSpanListener(listener: SpanListener): () => void {
  globalListeners = [...globalListeners, listener];
  return () => {
    const index = globalListeners.indexOf(listener);
    if (index !== -1) globalListeners = globalListeners.toSpliced(index, 1);
  };
}

/** The span of the work currently running, or undefined outside any trace. */
export function currentSpan(): Span | undefined {
  return storage.getStore();
}

/** Runs `fn(...args)` with `span` as the current span (its descendants record under it). */
export function runInSpan<Args extends unknown[], T>(span: Span, fn: (...args: Args) => T, ...args: Args): T {
  return storage.run(span, fn, ...args);
}

/**
 * Makes `span` the current span for the rest of the synchronous code running now and for what it
 * schedules, without putting the previous one back: the caller does, with another `enterSpan`.
 * For starting many pieces of work in a row: each switch of context allocates, and `runInSpan`
 * switches twice per call where n pieces entered in turn switch n + 1 times.
 *
 * @internal
 */
export function enterSpan(span: Span | undefined): void {
  storage.enterWith(span);
}

/**
 * Starts a trace without running anything in it; finish it with `trace.root.finish()`.
 * When an OpenTelemetry tracer provider is registered, the trace is mirrored as OTel spans,
 * under the OTel span active here (see `setOpenTelemetryEnabled`).
 */
export function startTrace(name: string): Trace {
  // Asked once per trace, so spans pay nothing when no OTel provider is registered. First, so
  // other listeners already find the OTel span in `span.external`.
  const bridge = openTelemetryListener();
  return new Trace(name, bridge === undefined ? globalListeners : [bridge, ...globalListeners]);
}

export interface TracedResult<T> {
  readonly value: T;
  readonly trace: Trace;
}

/**
 * Runs `fn` as the root of a new trace and returns its value with the finished trace.
 * Rejects with fn's error (normalised to AidocError); the trace is still finished.
 */
export async function runTraced<T>(
  name: string,
  fn: (trace: Trace) => Promise<T> | T,
): Promise<TracedResult<T>> {
  const trace = startTrace(name);
  try {
    const value = await storage.run(trace.root, fn, trace);
    trace.root.finish();
    return { value, trace };
  } catch (error) {
    trace.root.finish(toAidocError(error).code);
    throw error;
  }
}

/**
 * Times `fn` as a child of the current span. Outside a trace it simply calls `fn` (with no
 * span), so library code can wrap calls unconditionally at almost no cost.
 */
export async function withSpan<T>(
  name: string,
  fn: (span: Span | undefined) => Promise<T> | T,
  kind: SpanKind = 'internal',
): Promise<T> {
  const parent = storage.getStore();
  if (parent === undefined) return fn(undefined);
  const span = parent.trace.startSpan(name, kind, parent);
  try {
    const value = await storage.run(span, fn, span);
    span.finish();
    return value;
  } catch (error) {
    span.finish(toAidocError(error).code);
    throw error;
  }
}
