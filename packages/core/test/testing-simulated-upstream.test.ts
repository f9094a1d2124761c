// The one mechanism behind every mock: latency, faults, call records, in-flight counts, abort.
import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AidocError } from '../src/errors/aidoc-error.ts';
import { runTraced } from '../src/tracing/trace-context.ts';
import {
  createMockChatModel,
  createMockEmbedder,
  createMockPatientRepository,
  createMockVectorStore,
  examplePatientRecord,
  seededRandom,
  type SimulatedCallContext,
} from '../src/testing/index.ts';

const document = { kind: 'document' } as const;
const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

/** Settles state for assertions: `settled` flips when the promise does. */
function track<T>(promise: Promise<T>): { readonly promise: Promise<T>; settled: boolean } {
  const tracked = { promise, settled: false };
  promise.then(
    () => (tracked.settled = true),
    () => (tracked.settled = true),
  );
  return tracked;
}

describe('simulated latency', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits fixedMs plus perItemMs per text, then answers', async () => {
    const embedder = createMockEmbedder({ latency: { fixedMs: 100, perItemMs: 10 } });
    const call = track(embedder.embed(['a', 'b', 'c'], document));
    await vi.advanceTimersByTimeAsync(129);
    expect(call.settled).toBe(false);
    expect(embedder.pending).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await call.promise).toHaveLength(3);
    expect(embedder.pending).toBe(0);
  });

  it('counts per point for upsert and per query for queryBatch', async () => {
    const store = createMockVectorStore({ latency: { perItemMs: 5 }, collections: { docs: { dimensions: 2 } } });
    const points = Array.from({ length: 4 }, (_, index) => ({ id: `00000000-0000-4000-8000-00000000000${index}`, vector: [1, index], payload: {} }));
    const upsert = track(store.upsert('docs', points));
    await vi.advanceTimersByTimeAsync(19);
    expect(upsert.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(upsert.settled).toBe(true);
    const batch = track(store.queryBatch!('docs', [{ vector: [1, 0], limit: 1 }, { vector: [0, 1], limit: 1 }]));
    await vi.advanceTimersByTimeAsync(9);
    expect(batch.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect((await batch.promise).map((results) => results[0]?.id)).toEqual([points[0]!.id, points[3]!.id]);
  });

  it('draws jitter from the given random source', async () => {
    const embedder = createMockEmbedder({ latency: { fixedMs: 10, jitterMs: 100, random: () => 0.5 } });
    const call = track(embedder.embed(['a'], document));
    await vi.advanceTimersByTimeAsync(59);
    expect(call.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(call.settled).toBe(true);
  });

  it('charges a refused call the round trip only, not the per-item work', async () => {
    const embedder = createMockEmbedder({ latency: { fixedMs: 100, perItemMs: 1_000 } });
    embedder.failNext('unavailable');
    const call = track(embedder.embed(['a', 'b'], document));
    const rejected = expect(call.promise).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    await vi.advanceTimersByTimeAsync(100);
    await rejected;
  });

  it('aborts a wait at once, leaving no timer, listener or pending call', async () => {
    const embedder = createMockEmbedder({ latency: { fixedMs: 10_000 } });
    const controller = new AbortController();
    const call = embedder.embed(['a'], { ...document, signal: controller.signal });
    await vi.advanceTimersByTimeAsync(10);
    expect(listeners(controller.signal)).toBe(1);
    controller.abort();
    await expect(call).rejects.toMatchObject({ code: 'ABORTED' });
    expect(vi.getTimerCount()).toBe(0);
    expect(listeners(controller.signal)).toBe(0);
    expect(embedder.pending).toBe(0);
    expect(embedder.calls[0]).toMatchObject({ outcome: 'rejected', reachedUpstream: true, error: { code: 'ABORTED' } });
  });

  it('keeps an AidocError abort reason (a TIMEOUT stays a TIMEOUT)', async () => {
    const repository = createMockPatientRepository({ records: [examplePatientRecord()], latency: { fixedMs: 1_000 } });
    const controller = new AbortController();
    const call = repository.getById('1', { signal: controller.signal });
    const timeout = new AidocError('TIMEOUT', 'deadline');
    controller.abort(timeout);
    await expect(call).rejects.toBe(timeout);
  });
});

describe('simulated faults', () => {
  it('hangs until aborted, counted as pending meanwhile', async () => {
    const store = createMockVectorStore({ faults: { hangRate: 1 } });
    const controller = new AbortController();
    const call = track(store.info('anything', { signal: controller.signal }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(call.settled).toBe(false);
    expect(store.pending).toBe(1);
    expect(store.calls[0]).toMatchObject({ outcome: 'pending', fault: 'hang', endedAt: undefined });
    controller.abort();
    await expect(call.promise).rejects.toMatchObject({ code: 'ABORTED' });
    expect(store.pending).toBe(0);
    expect(listeners(controller.signal)).toBe(0);
  });

  it('rejects RATE_LIMITED with retryAfterMs and UPSTREAM_UNAVAILABLE, both retryable AidocErrors', async () => {
    const limited = createMockEmbedder({ faults: { rateLimitRate: 1, retryAfterMs: 1_234 } });
    const error = await limited.embed(['a'], document).catch((caught: unknown) => caught);
    expect(AidocError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'RATE_LIMITED', retryable: true, retryAfterMs: 1_234, details: { simulated: true, status: 429 } });
    const down = createMockChatModel({ faults: { unavailableRate: 1 } });
    await expect(down.generate({ system: '', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], tools: [] })).rejects.toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      retryable: true,
    });
  });

  it('fails at the configured rates, the same calls for the same seed', async () => {
    const run = async (seed: number): Promise<string[]> => {
      const embedder = createMockEmbedder({ faults: { rateLimitRate: 0.2, unavailableRate: 0.1, random: seededRandom(seed) } });
      const outcomes = await Promise.all(
        Array.from({ length: 1_000 }, () => embedder.embed(['a'], document).then(() => 'ok', (error: AidocError) => error.code)),
      );
      return outcomes;
    };
    const first = await run(7);
    expect(await run(7)).toEqual(first);
    expect(await run(8)).not.toEqual(first);
    const count = (code: string): number => first.filter((outcome) => outcome === code).length;
    expect(count('RATE_LIMITED')).toBeGreaterThan(150);
    expect(count('RATE_LIMITED')).toBeLessThan(250);
    expect(count('UPSTREAM_UNAVAILABLE')).toBeGreaterThan(65);
    expect(count('UPSTREAM_UNAVAILABLE')).toBeLessThan(135);
  });

  it('failNext comes first, then the script; the script sees upstream calls only', async () => {
    const seen: SimulatedCallContext[] = [];
    const custom = new AidocError('INVALID_OUTPUT', 'garbled');
    const embedder = createMockEmbedder({
      faults: (call) => {
        seen.push(call);
        return call.index === 3 ? custom : undefined;
      },
    });
    embedder.failNext('rate-limited', 2);
    const aborted = new AbortController();
    aborted.abort();
    await expect(embedder.embed(['x'], { ...document, signal: aborted.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(embedder.embed(['a'], document)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await expect(embedder.embed(['b'], document)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await expect(embedder.embed(['c'], document)).resolves.toHaveLength(1);
    await expect(embedder.embed(['d'], document)).rejects.toBe(custom);
    expect(seen.map((call) => [call.index, call.method, (call.input as { texts: string[] }).texts])).toEqual([
      [2, 'embed', ['c']],
      [3, 'embed', ['d']],
    ]);
    expect(embedder.calls.map((call) => [call.reachedUpstream, call.fault])).toEqual([
      [false, undefined],
      [true, 'rate-limited'],
      [true, 'rate-limited'],
      [true, undefined],
      [true, custom],
    ]);
  });

  it('reject bad fault and latency options with a TypeError naming them', () => {
    expect(() => createMockEmbedder({ faults: { rateLimitRate: 2 } })).toThrow(new TypeError('Expected `faults.rateLimitRate` to be a number from 0 to 1, got `2` (number)'));
    expect(() => createMockEmbedder({ faults: { rateLimitRate: 0.6, hangRate: 0.6 } })).toThrow(/`faults rates` to be at most 1 in total/);
    expect(() => createMockEmbedder({ faults: { retryAfterMs: -1 } })).toThrow(/`faults.retryAfterMs`/);
    expect(() => createMockEmbedder({ latency: { fixedMs: -5 } })).toThrow(/`latency.fixedMs`/);
    expect(() => createMockEmbedder({ latency: { jitterMs: Number.NaN } })).toThrow(/`latency.jitterMs`/);
    expect(() => createMockEmbedder({ latency: { random: 4 as unknown as () => number } })).toThrow(/`latency.random`/);
    expect(() => createMockEmbedder({ traced: 'yes' as unknown as boolean })).toThrow(/`traced`/);
    const embedder = createMockEmbedder();
    expect(() => embedder.failNext('boom' as 'hang')).toThrow(/`fault`/);
    expect(() => embedder.failNext('hang', 0)).toThrow(/`times`/);
  });
});

describe('call records', () => {
  it('record input (a copy), timing, outcome and result of each call', async () => {
    const embedder = createMockEmbedder({ dimensions: 4, latency: { fixedMs: 5 } });
    const texts = ['alpha', 'beta'];
    const vectors = await embedder.embed(texts, { kind: 'query' });
    texts.push('mutated later');
    const [call] = embedder.calls;
    expect(call).toMatchObject({ index: 0, method: 'embed', input: { texts: ['alpha', 'beta'], kind: 'query' }, outcome: 'resolved', result: vectors, error: undefined });
    expect(call!.durationMs).toBeGreaterThanOrEqual(4);
    expect(call!.endedAt! - call!.startedAt).toBe(call!.durationMs);
  });

  it('counts calls in flight and the peak; reset forgets history and queued faults', async () => {
    const store = createMockVectorStore({ latency: { fixedMs: 10 } });
    const calls = Array.from({ length: 8 }, (_, index) => store.info(`c${index}`));
    expect(store.pending).toBe(8);
    await Promise.all(calls);
    expect([store.pending, store.maxPending, store.calls.length]).toEqual([0, 8, 8]);
    store.failNext('unavailable');
    store.reset();
    expect([store.pending, store.maxPending, store.calls.length]).toEqual([0, 0, 0]);
    await expect(store.info('c')).resolves.toMatchObject({ exists: false });
    expect(store.calls[0]!.index).toBe(0);
  });

  it('turns a throwing custom answer into an INTERNAL AidocError with the cause', async () => {
    const bug = new TypeError('oops');
    const embedder = createMockEmbedder({
      embed: () => {
        throw bug;
      },
    });
    await expect(embedder.embed(['a'], document)).rejects.toMatchObject({ code: 'INTERNAL', cause: bug });
  });

  it('records a call span only when traced', async () => {
    const traced = createMockEmbedder({ traced: true });
    const plain = createMockEmbedder();
    const { trace } = await runTraced('request', async () => {
      await traced.embed(['a'], document);
      await plain.embed(['a'], document);
    });
    expect(trace.spans.map((span) => [span.name, span.kind])).toEqual([
      ['request', 'root'],
      ['mock-embedder.embed', 'call'],
    ]);
  });
});
