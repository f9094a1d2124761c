import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AidocError } from '../src/errors/aidoc-error.ts';
import { createOffloader, destroySharedOffloaders, offload, type Offloader } from '../src/executor/offload.ts';
import { runTraced } from '../src/tracing/trace-context.ts';
import { rejectionOf } from '../src/testing/index.ts';

const WORKER = new URL('fixtures/cpu-worker.js', import.meta.url);

interface SpinInput {
  ms: number;
}
interface SpinOutput {
  spunMs: number;
  checksum: number;
  threadId: number;
}

const offloaders: Offloader<unknown, unknown>[] = [];
function offloader<Input, Output>(exportName?: string): Offloader<Input, Output> {
  const created = createOffloader<Input, Output>({ filename: WORKER, exportName, maxThreads: 1 });
  offloaders.push(created);
  return created;
}

afterEach(async () => {
  await Promise.all(offloaders.splice(0).map((created) => created.destroy()));
});
afterAll(destroySharedOffloaders);

/** The main thread's worst timer lateness while `work` runs: what a blocked event loop looks like. */
async function maxTimerLateness(work: () => Promise<unknown>): Promise<number> {
  const intervalMs = 10;
  let last = performance.now();
  let worst = 0;
  const probe = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - intervalMs);
    last = now;
  }, intervalMs);
  try {
    await sleep(30);
    await work();
    await sleep(30); // let the probe fire after an inline block
    return worst;
  } finally {
    clearInterval(probe);
  }
}

describe('offloader', () => {
  it('runs the named export on a worker thread and returns its result', async () => {
    const squares = offloader<number, number>('sumOfSquares');
    expect(squares.name).toBe('cpu-worker#sumOfSquares');
    await expect(squares.run(1000)).resolves.toBe(332_833_500);
    expect(squares.stats()).toMatchObject({ threads: 1, queued: 0, inFlight: 0, completed: 1 });
  });

  it('keeps the main event loop free during a 300 ms CPU job, unlike running it inline', async () => {
    const spin = offloader<SpinInput, SpinOutput>();
    const { threadId } = await spin.run({ ms: 1 }); // thread start-up is not what we measure
    expect(threadId).toBeGreaterThan(0);

    const { default: spinInline } = (await import(WORKER.href)) as { default: (input: SpinInput) => SpinOutput };
    const inline = await maxTimerLateness(async () => {
      await sleep(5);
      spinInline({ ms: 300 });
    });
    let result: SpinOutput | undefined;
    const offloaded = await maxTimerLateness(async () => {
      result = await spin.run({ ms: 300 });
    });

    expect(result?.spunMs).toBeGreaterThanOrEqual(300);
    expect(result?.threadId).toBe(threadId);
    expect(inline).toBeGreaterThanOrEqual(250);
    expect(offloaded).toBeLessThan(150);
  });

  it('rejects with ABORTED promptly when the signal fires mid-job, and keeps working', async () => {
    const spin = offloader<SpinInput, SpinOutput>();
    await spin.run({ ms: 1 });
    const controller = new AbortController();
    const job = spin.run({ ms: 10_000 }, { signal: controller.signal });
    await sleep(100);
    const abortedAt = performance.now();
    controller.abort();
    const error = await rejectionOf(job);
    expect(performance.now() - abortedAt).toBeLessThan(500);
    expect(error.code).toBe('ABORTED');
    expect(spin.stats().inFlight).toBe(0);

    await expect(spin.run({ ms: 1 })).resolves.toMatchObject({ checksum: expect.any(Number) as number });
  });

  it('rejects at once with the abort reason when the signal already fired', async () => {
    const spin = offloader<SpinInput, SpinOutput>();
    const reason = new AidocError('TIMEOUT', 'deadline passed');
    const error = await rejectionOf(spin.run({ ms: 10_000 }, { signal: AbortSignal.abort(reason) }));
    expect(error).toBe(reason);
    expect(spin.stats()).toMatchObject({ threads: 0, completed: 0 });
  });

  it('maps a throwing worker to INTERNAL naming the module, with the cause', async () => {
    const failing = offloader<string, never>('fail');
    const error = await rejectionOf(failing.run('%PDF-1.7'));
    expect(error.code).toBe('INTERNAL');
    expect(error.message).toBe('Offloaded function `cpu-worker#fail` failed: cannot parse "%PDF-1.7"');
    expect(error.cause).toBeInstanceOf(RangeError);

    const missing = offloader<string, never>('noSuchExport');
    const notFound = await rejectionOf(missing.run('x'));
    expect(notFound.code).toBe('INTERNAL');
    expect(notFound.message).toMatch(/^Offloaded function `cpu-worker#noSuchExport` failed: /);
  });

  it('records an offload span when a trace is current', async () => {
    const squares = offloader<number, number>('sumOfSquares');
    const failing = offloader<string, never>('fail');
    const { trace } = await runTraced('ingest', async () => {
      await squares.run(10);
      await failing.run('x').catch(() => undefined);
    });
    const spans = trace.spans.filter((span) => span.name.startsWith('offload:'));
    expect(spans.map((span) => [span.name, span.kind, span.parent, span.status, span.errorCode])).toEqual([
      ['offload:cpu-worker#sumOfSquares', 'internal', trace.root, 'ok', undefined],
      ['offload:cpu-worker#fail', 'internal', trace.root, 'error', 'INTERNAL'],
    ]);
  });

  it('destroy terminates the threads, fails running jobs with ABORTED and leaves no handles', async () => {
    // Timeouts come and go with vitest's own bookkeeping; thread handles are what destroy must free.
    const handles = () => process.getActiveResourcesInfo().filter((type) => type !== 'Timeout').sort();
    const before = handles();
    const spin = offloader<SpinInput, SpinOutput>();
    const running = rejectionOf(spin.run({ ms: 10_000 }));
    await sleep(50);
    expect(spin.stats()).toMatchObject({ threads: 1, inFlight: 1 });
    expect(handles()).not.toEqual(before);

    await spin.destroy();
    const error = await running;
    expect(error.code).toBe('ABORTED');
    expect(error.message).toBe('The offloader for `cpu-worker` was destroyed');
    expect(spin.stats().threads).toBe(0);
    expect((await rejectionOf(spin.run({ ms: 1 }))).code).toBe('ABORTED');
    await spin.destroy(); // idempotent
    expect(handles()).toEqual(before);
  });

  it('rejects bad options p-queue style', () => {
    expect(() => createOffloader({ filename: WORKER, maxThreads: 0 })).toThrow(
      new TypeError('Expected `maxThreads` to be a positive integer, got `0` (number)'),
    );
    expect(() => createOffloader({ filename: '' })).toThrow(
      new TypeError('Expected `filename` to be a path or a file URL, got `` (string)'),
    );
    expect(() => createOffloader({ filename: WORKER, idleTimeoutMs: -1 })).toThrow(
      new TypeError('Expected `idleTimeoutMs` to be a non-negative number of milliseconds up to 2147483647, got `-1` (number)'),
    );
  });
});

describe('offload', () => {
  it('shares one lazily created offloader per module and export across calls', async () => {
    const first = await offload<SpinInput, SpinOutput>(WORKER, { ms: 1 });
    const second = await offload<SpinInput, SpinOutput>(WORKER.href, { ms: 1 });
    expect(second.threadId).toBe(first.threadId);
    await expect(offload(WORKER, 100, { exportName: 'sumOfSquares' })).resolves.toBe(328_350);

    await expect(offload('', 1)).rejects.toThrow(new TypeError('Expected `filename` to be a path or a file URL, got `` (string)'));

    await destroySharedOffloaders();
    const third = await offload<SpinInput, SpinOutput>(WORKER, { ms: 1 });
    expect(third.threadId).not.toBe(first.threadId);
  });
});
