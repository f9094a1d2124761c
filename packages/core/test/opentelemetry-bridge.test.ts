import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { context, propagation, SpanStatusCode, trace as otelTrace, type HrTime } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterEach, describe, expect, it } from 'vitest';
import { AidocError } from '../src/errors/aidoc-error.ts';
import { setOpenTelemetryEnabled } from '../src/tracing/opentelemetry-bridge.ts';
import type { Trace } from '../src/tracing/span.ts';
import { runTraced, withSpan } from '../src/tracing/trace-context.ts';

const exporter = new InMemorySpanExporter();

function registerProvider(): void {
  otelTrace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
}

afterEach(() => {
  otelTrace.disable();
  context.disable();
  propagation.disable();
  setOpenTelemetryEnabled(true);
  exporter.reset();
});

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A small briefing: a call, a task with a retried call and a failing call, an annotation. */
async function runBriefing(): Promise<Trace> {
  const { trace } = await runTraced('briefing', async (trace) => {
    await withSpan('get-patient', (span) => void span?.setAttribute('patient.id', 'p-1'), 'call');
    await withSpan(
      'turn',
      async () => {
        await withSpan(
          'embed',
          async (span) => {
            await tick();
            span!.queuedMs = 3;
            span!.backoffMs = 4;
            span!.attempts = 2;
            span!.annotate('batch of 8');
          },
          'call',
        );
        await expect(
          withSpan('vector.query', () => Promise.reject(new AidocError('TIMEOUT', 'slow')), 'call'),
        ).rejects.toThrow('slow');
      },
      'task',
    );
    trace.root.setAttribute('patient.count', 1);
  });
  return trace;
}

const milliseconds = (time: HrTime): number => time[0] * 1000 + time[1] / 1e6;

function exported(name: string): ReadableSpan {
  const span = exporter.getFinishedSpans().find((candidate) => candidate.name === name);
  if (span === undefined) throw new Error(`no OTel span ${name}`);
  return span;
}

describe('the OpenTelemetry bridge', () => {
  it('mirrors every span, nested as ours are, under one OTel trace', async () => {
    registerProvider();
    const ours = await runBriefing();

    const spans = exporter.getFinishedSpans();
    expect(spans.map((span) => span.name).sort()).toEqual(['briefing', 'embed', 'get-patient', 'turn', 'vector.query']);
    const root = exported('briefing');
    const idOf = (span: ReadableSpan): string => span.spanContext().spanId;
    expect(root.parentSpanContext).toBeUndefined();
    expect(exported('get-patient').parentSpanContext?.spanId).toBe(idOf(root));
    expect(exported('turn').parentSpanContext?.spanId).toBe(idOf(root));
    expect(exported('embed').parentSpanContext?.spanId).toBe(idOf(exported('turn')));
    expect(exported('vector.query').parentSpanContext?.spanId).toBe(idOf(exported('turn')));
    expect(new Set(spans.map((span) => span.spanContext().traceId)).size).toBe(1);
    expect(root.instrumentationScope.name).toBe('@aidoc/core');
    expect(ours.spans.every((span) => span.external !== undefined)).toBe(true);
  });

  it('copies attributes, timing splits and errors', async () => {
    registerProvider();
    await runBriefing();

    expect(exported('get-patient').attributes).toMatchObject({ 'patient.id': 'p-1', 'aidoc.kind': 'call' });
    expect(exported('briefing').attributes).toMatchObject({ 'patient.count': 1, 'aidoc.kind': 'root' });
    const embed = exported('embed');
    expect(embed.attributes).toMatchObject({
      'aidoc.kind': 'call',
      'aidoc.queued_ms': 3,
      'aidoc.backoff_ms': 4,
      'aidoc.attempts': 2,
    });
    expect(embed.events.map((event) => event.name)).toEqual(['batch of 8']);
    expect(embed.status.code).toBe(SpanStatusCode.UNSET);

    const query = exported('vector.query');
    expect(query.status).toEqual({ code: SpanStatusCode.ERROR, message: 'TIMEOUT' });
    expect(query.attributes).toMatchObject({ 'aidoc.error_code': 'TIMEOUT', 'error.type': 'TIMEOUT' });
  });

  it('starts and ends each OTel span when ours did', async () => {
    registerProvider();
    const ours = await runBriefing();

    const rootStart = milliseconds(exported('briefing').startTime);
    expect(rootStart).toBeCloseTo(ours.epochStart + ours.root.start, 3);
    for (const span of ours.spans) {
      const mirror = exported(span.name);
      expect(milliseconds(mirror.startTime) - rootStart).toBeCloseTo(span.start - ours.root.start, 3);
      expect(milliseconds(mirror.duration)).toBeCloseTo(span.durationMs, 3);
    }
    expect(milliseconds(exported('embed').duration)).toBeGreaterThan(0);
  });

  it('parents the root to the OTel span active where the trace starts', async () => {
    const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    provider.register();

    await otelTrace.getTracer('app').startActiveSpan('POST /briefing', async (request) => {
      await runBriefing();
      request.end();
    });

    const request = exported('POST /briefing');
    expect(exported('briefing').parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(exported('embed').spanContext().traceId).toBe(request.spanContext().traceId);
  });

  it('creates no OTel span, and touches no span, without a registered provider', async () => {
    // A provider that exists but is not registered must see nothing.
    const unregisteredExporter = new InMemorySpanExporter();
    const unregistered = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(unregisteredExporter)] });
    const before = await runBriefing();
    expect(before.spans.every((span) => span.external === undefined)).toBe(true);

    registerProvider();
    otelTrace.disable();
    const after = await runBriefing();
    expect(after.spans.every((span) => span.external === undefined)).toBe(true);
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(unregisteredExporter.getFinishedSpans()).toEqual([]);
    await unregistered.shutdown();
  });

  it('can be turned off and on again', async () => {
    registerProvider();
    setOpenTelemetryEnabled(false);
    await runBriefing();
    expect(exporter.getFinishedSpans()).toEqual([]);

    setOpenTelemetryEnabled(true);
    await runBriefing();
    expect(exporter.getFinishedSpans()).toHaveLength(5);
  });

  it('works without @opentelemetry/api installed', async () => {
    // A fresh Node process in which resolving the API fails, as when the optional peer is absent.
    const traceContext = fileURLToPath(new URL('../src/tracing/trace-context.ts', import.meta.url));
    const script = `
      import { createRequire, registerHooks } from 'node:module';
      registerHooks({
        resolve(specifier, context, nextResolve) {
          if (specifier.startsWith('@opentelemetry/')) {
            throw Object.assign(new Error('Cannot find module ' + specifier), { code: 'MODULE_NOT_FOUND' });
          }
          return nextResolve(specifier, context);
        },
      });
      let apiMissing = false;
      try { createRequire(import.meta.url)('@opentelemetry/api'); } catch { apiMissing = true; }
      const { runTraced, withSpan } = await import(${JSON.stringify(traceContext)});
      const { value, trace } = await runTraced('t', () => withSpan('child', async () => 42));
      console.log(JSON.stringify({ apiMissing, value, spans: trace.spans.map((span) => [span.name, span.status, span.external ?? null]) }));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '--eval', script], {
      cwd: fileURLToPath(new URL('.', import.meta.url)),
    });
    expect(JSON.parse(stdout)).toEqual({
      apiMissing: true,
      value: 42,
      spans: [
        ['t', 'ok', null],
        ['child', 'ok', null],
      ],
    });
  });
});
