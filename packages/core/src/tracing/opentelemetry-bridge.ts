import { createRequire } from 'node:module';
import type * as OpenTelemetry from '@opentelemetry/api';
import type { Span, SpanListener, Trace } from './span.ts';

/*
 * Mirrors our spans as OpenTelemetry spans when the application has registered an OTel tracer
 * provider. `@opentelemetry/api` is an optional peer dependency: it is loaded lazily, at most
 * once, and only its global registry decides whether anything happens. Without the package, or
 * without a registered provider, a trace pays one cheap check when it starts and nothing per span.
 */

type OpenTelemetryApi = typeof OpenTelemetry;

/** Instrumentation scope of the spans we create. */
const TRACER_NAME = '@aidoc/core';

let enabled = true;
/** `undefined`: not loaded yet; `null`: not installed (or failed to load), never retried. */
let loadedApi: OpenTelemetryApi | null | undefined;

/**
 * Turns the OpenTelemetry bridge on or off for traces started from now on (traces already
 * running keep their setting). On by default, but it only does something once the application
 * has registered an OTel tracer provider (e.g. `NodeTracerProvider.register()` or the Node SDK).
 */
export function setOpenTelemetryEnabled(value: boolean): void {
  enabled = value;
}

function loadApi(): OpenTelemetryApi | null {
  if (loadedApi === undefined) {
    try {
      // A require (not an import) keeps this synchronous and lets bundlers leave it alone.
      loadedApi = createRequire(import.meta.url)('@opentelemetry/api') as OpenTelemetryApi;
    } catch {
      loadedApi = null;
    }
  }
  return loadedApi;
}

/**
 * A listener mirroring one trace's spans into OpenTelemetry, or undefined when the bridge is
 * off, the API is not installed, or no tracer provider is registered. Called by `startTrace`
 * once per trace; the caller's active OTel context becomes the parent of the trace's root.
 *
 * @internal
 */
export function openTelemetryListener(): SpanListener | undefined {
  if (!enabled) return undefined;
  const api = loadApi();
  if (api === null) return undefined;
  const tracer = registeredTracer(api);
  return tracer === undefined ? undefined : new OpenTelemetryListener(api, tracer, api.context.active());
}

function registeredTracer(api: OpenTelemetryApi): OpenTelemetry.Tracer | undefined {
  const provider: OpenTelemetry.TracerProvider = api.trace.getTracerProvider();
  // The global provider is the API's proxy, which has no delegate until an SDK registers one.
  // Duck-typed: the proxy may come from another copy of the API (ESM and CJS builds differ).
  const proxy = provider as Partial<Pick<OpenTelemetry.ProxyTracerProvider, 'getDelegateTracer'>>;
  if (typeof proxy.getDelegateTracer === 'function') return proxy.getDelegateTracer(TRACER_NAME);
  return provider.getTracer(TRACER_NAME);
}

class OpenTelemetryListener implements SpanListener {
  private readonly api: OpenTelemetryApi;
  private readonly tracer: OpenTelemetry.Tracer;
  /** The OTel context active when the trace started: the root's parent. */
  private readonly rootContext: OpenTelemetry.Context;

  constructor(api: OpenTelemetryApi, tracer: OpenTelemetry.Tracer, rootContext: OpenTelemetry.Context) {
    this.api = api;
    this.tracer = tracer;
    this.rootContext = rootContext;
  }

  onStart(span: Span): void {
    const parent = span.parent?.external as OpenTelemetry.Span | undefined;
    const context = parent === undefined ? this.rootContext : this.api.trace.setSpan(this.rootContext, parent);
    span.external = this.tracer.startSpan(
      span.name,
      {
        kind: this.api.SpanKind.INTERNAL,
        startTime: hrTime(span.trace, span.start),
        attributes: { 'aidoc.kind': span.kind },
      },
      context,
    );
  }

  onEnd(span: Span): void {
    const mirror = span.external as OpenTelemetry.Span | undefined;
    if (mirror === undefined) return;
    // Attributes are read at the end: the executor and adapters add them while the span runs.
    mirror.setAttributes(span.attributes);
    mirror.setAttributes({
      'aidoc.queued_ms': span.queuedMs,
      'aidoc.backoff_ms': span.backoffMs,
      'aidoc.attempts': span.attempts,
      'aidoc.sync_ms': span.syncMs,
    });
    for (const annotation of span.annotations) mirror.addEvent(annotation.message, hrTime(span.trace, annotation.at));
    if (span.status === 'error') {
      const code = span.errorCode ?? 'INTERNAL';
      mirror.setAttributes({ 'aidoc.error_code': code, 'error.type': code });
      mirror.setStatus({ code: this.api.SpanStatusCode.ERROR, message: code });
    }
    mirror.end(hrTime(span.trace, span.end ?? span.trace.now()));
  }
}

/**
 * Our times as OTel HrTime (epoch seconds, nanoseconds): the trace's wall-clock start plus the
 * offset, so the root starts exactly when the trace did. An explicit HrTime (rather than a
 * number, which the SDK may read as a `performance.now()` value) is unambiguous.
 */
function hrTime(trace: Trace, ms: number): OpenTelemetry.HrTime {
  const epochMs = trace.epochStart + ms;
  const seconds = Math.floor(epochMs / 1000);
  const nanoseconds = Math.min(999_999_999, Math.round((epochMs - seconds * 1000) * 1e6));
  return [seconds, nanoseconds];
}
