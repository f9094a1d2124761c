import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { AidocError } from '../src/errors/aidoc-error.ts';
import { TaskGraph, taskGraph } from '../src/executor/task-graph.ts';
import { delay } from './support/delay.ts';
import { currentSpan, runTraced, withSpan } from '../src/tracing/trace-context.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('taskGraph: typing and validation', () => {
  it('infers each task result and passes dependencies typed', async () => {
    const graph = taskGraph<{ id: string }>()
      .task('patient', (_, { input }) => Promise.resolve({ id: input.id, age: 71 }))
      .task('collection', () => ({ points: 120 }))
      .task('brief', ['patient', 'collection'], ({ patient, collection }) => {
        expectTypeOf(patient).toEqualTypeOf<{ id: string; age: number }>();
        expectTypeOf(collection).toEqualTypeOf<{ points: number }>();
        return `${patient.id}:${patient.age}:${collection.points}`;
      })
      .build();

    const results = await graph.run({ id: 'p1' });
    expectTypeOf(results.brief).toEqualTypeOf<string>();
    expect(results).toEqual({ patient: { id: 'p1', age: 71 }, collection: { points: 120 }, brief: 'p1:71:120' });
    expect(graph.taskNames).toEqual(['patient', 'collection', 'brief']);
    expect(graph.dependenciesOf('brief')).toEqual(['patient', 'collection']);
  });

  it('rejects a cycle when the graph is built, naming it', () => {
    const build = () =>
      TaskGraph.fromDeclarations([
        { name: 'a', run: () => 1 },
        { name: 'b', dependsOn: ['a', 'd'], run: () => 2 },
        { name: 'c', dependsOn: ['b'], run: () => 3 },
        { name: 'd', dependsOn: ['c'], run: () => 4 },
      ]);
    expect(build).toThrow(AidocError);
    try {
      build();
    } catch (error) {
      expect(AidocError.hasCode(error, 'CYCLE')).toBe(true);
      expect((error as AidocError).message).toContain('b -> d -> c -> b');
      expect((error as AidocError).details).toEqual({ cycle: ['b', 'd', 'c', 'b'] });
    }
  });

  it('rejects a self-dependency, an unknown dependency and a duplicate name', () => {
    expect(() => TaskGraph.fromDeclarations([{ name: 'a', dependsOn: ['a'], run: () => 1 }])).toThrow(/cycle: a -> a/);
    const unknown = () => TaskGraph.fromDeclarations([{ name: 'a', dependsOn: ['ghost'], run: () => 1 }]);
    expect(unknown).toThrow(expect.objectContaining({ code: 'UNKNOWN_DEPENDENCY' }) as Error);
    expect(unknown).toThrow(/"a" depends on "ghost"/);
    const duplicate = () =>
      TaskGraph.fromDeclarations([
        { name: 'a', run: () => 1 },
        { name: 'a', run: () => 2 },
      ]);
    expect(duplicate).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }) as Error);
  });

  it('rejects a task without a function', () => {
    // @ts-expect-error: a function is required
    expect(() => taskGraph().task('a', 42)).toThrow(TypeError);
  });
});

describe('taskGraph: scheduling', () => {
  it('starts a task the moment its last dependency resolves, while an unrelated slow sibling runs', async () => {
    vi.useFakeTimers();
    const started: Record<string, number> = {};
    const mark = (name: string) => (started[name] = Date.now());
    const origin = Date.now();
    const graph = taskGraph()
      .task('fast', () => (mark('fast'), delay(10, 'f')))
      .task('slow', () => (mark('slow'), delay(1000, 's')))
      .task('medium', () => (mark('medium'), delay(40, 'm')))
      .task('afterFast', ['fast'], () => (mark('afterFast'), delay(5, 'af')))
      .task('join', ['afterFast', 'medium'], () => (mark('join'), 'j'))
      .task('end', ['join', 'slow'], () => (mark('end'), 'e'))
      .build();

    const run = graph.run();
    await vi.advanceTimersByTimeAsync(1000);
    await expect(run).resolves.toMatchObject({ end: 'e' });
    const at = (name: string) => started[name]! - origin;
    expect(at('afterFast')).toBe(10);
    expect(at('join')).toBe(40);
    expect(at('end')).toBe(1000);
  });

  it('keeps dependency order on random DAGs with random delays (invariant)', async () => {
    for (let round = 0; round < 20; round++) {
      const size = 30;
      const ended = new Map<string, number>();
      const startedAt = new Map<string, number>();
      let clock = 0;
      const declarations = Array.from({ length: size }, (_, index) => {
        const dependsOn = Array.from({ length: index }, (_, d) => d)
          .filter(() => Math.random() < 0.15)
          .map((d) => `t${d}`);
        return {
          name: `t${index}`,
          dependsOn,
          run: async () => {
            startedAt.set(`t${index}`, clock++);
            for (const dependency of dependsOn) expect(ended.has(dependency)).toBe(true);
            await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
            ended.set(`t${index}`, clock++);
            return index;
          },
        };
      });
      const results = await TaskGraph.fromDeclarations(declarations).run();
      expect(Object.keys(results)).toHaveLength(size);
      for (const declaration of declarations) {
        for (const dependency of declaration.dependsOn) {
          expect(startedAt.get(declaration.name)!).toBeGreaterThan(ended.get(dependency)!);
        }
      }
    }
  });

  it('runs one built graph many times concurrently without runs interfering', async () => {
    const graph = taskGraph<number>()
      .task('double', (_, { input }) => delay(Math.random() * 5, input * 2))
      .task('plusOne', ['double'], ({ double }) => double + 1)
      .build();
    const inputs = Array.from({ length: 50 }, (_, index) => index);
    const results = await Promise.all(inputs.map((input) => graph.run(input)));
    expect(results.map((result) => result.plusOne)).toEqual(inputs.map((input) => input * 2 + 1));
  });

  it('runs an empty graph', async () => {
    await expect(taskGraph().build().run()).resolves.toEqual({});
  });
});

describe('taskGraph: failure and cancellation', () => {
  it('aborts every in-flight sibling at the first failure, rejects with it, and never starts dependents', async () => {
    const siblingReasons: unknown[] = [];
    const neverStarted = vi.fn();
    const graph = taskGraph()
      .task('ok', () => 1)
      .task('hangs1', (_, { signal }) =>
        delay(60_000, 1, signal).catch((error: unknown) => {
          siblingReasons.push(signal.reason);
          throw error;
        }),
      )
      .task('hangs2', (_, { signal }) => delay(60_000, 2, signal).catch(() => siblingReasons.push(signal.reason)))
      .task('fails', async () => {
        await delay(5, null);
        throw new AidocError('UPSTREAM_UNAVAILABLE', 'store is down');
      })
      .task('dependent', ['fails'], neverStarted)
      .build();

    const error = await graph.run().catch((failure: unknown) => failure);
    expect(AidocError.hasCode(error, 'UPSTREAM_UNAVAILABLE')).toBe(true);
    await vi.waitFor(() => expect(siblingReasons).toHaveLength(2));
    for (const reason of siblingReasons) {
      expect(AidocError.hasCode(reason, 'ABORTED')).toBe(true);
      expect((reason as AidocError).message).toContain('"fails" failed');
    }
    expect(neverStarted).not.toHaveBeenCalled();
  });

  it('turns a synchronous throw and a non-AidocError into an AidocError rejection', async () => {
    const graph = taskGraph()
      .task('throws', () => {
        throw new RangeError('bad index');
      })
      .build();
    await expect(graph.run()).rejects.toMatchObject({ code: 'INTERNAL', message: 'bad index' });
  });

  it('cancels the whole run from the caller signal, promptly, even when tasks ignore it', async () => {
    const controller = new AbortController();
    const seen: AbortSignal[] = [];
    const graph = taskGraph()
      .task('listens', (_, { signal }) => (seen.push(signal), delay(60_000, 1, signal)))
      .task('ignores', () => new Promise<number>(() => undefined))
      .build();
    const run = graph.run(undefined, { signal: controller.signal });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    setTimeout(() => controller.abort(), 5);
    await expect(run).rejects.toMatchObject({ code: 'ABORTED' });
    expect(seen[0]!.aborted).toBe(true);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('rejects at once without starting anything when the signal is already aborted', async () => {
    const task = vi.fn(() => 1);
    const controller = new AbortController();
    controller.abort(new AidocError('TIMEOUT', 'request deadline'));
    await expect(taskGraph().task('a', task).build().run(undefined, { signal: controller.signal })).rejects.toMatchObject({
      code: 'TIMEOUT',
    });
    expect(task).not.toHaveBeenCalled();
  });

  it('leaves no listener on a long-lived caller signal after many runs', async () => {
    const controller = new AbortController();
    const graph = taskGraph()
      .task('a', (_, { signal }) => delay(1, 1, signal))
      .task('b', ['a'], () => 2)
      .build();
    for (let index = 0; index < 20; index++) await graph.run(undefined, { signal: controller.signal });
    const failing = taskGraph()
      .task('x', () => Promise.reject(new Error('x')))
      .build();
    await expect(failing.run(undefined, { signal: controller.signal })).rejects.toThrow('x');
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('settle mode reports every outcome, skips dependents of failures and aborts nothing', async () => {
    let siblingAborted = false;
    const graph = taskGraph()
      .task('fails', () => Promise.reject(new AidocError('NOT_FOUND', 'no such patient')))
      .task('slow', (_, { signal }) => delay(20, 'done', signal).finally(() => (siblingAborted = signal.aborted)))
      .task('child', ['fails'], () => 'never')
      .task('grandchild', ['child', 'slow'], () => 'never')
      .task('fine', ['slow'], ({ slow }) => `${slow}!`)
      .build();
    const outcomes = await graph.settle();
    expect(outcomes.fails).toMatchObject({ status: 'rejected', reason: { code: 'NOT_FOUND' } });
    expect(outcomes.slow).toEqual({ status: 'fulfilled', value: 'done' });
    expect(outcomes.child).toEqual({ status: 'skipped', dependency: 'fails' });
    expect(outcomes.grandchild).toEqual({ status: 'skipped', dependency: 'child' });
    expect(outcomes.fine).toEqual({ status: 'fulfilled', value: 'done!' });
    expect(siblingAborted).toBe(false);
  });
});

describe('taskGraph: policies and spans', () => {
  it('fails an attempt past its timeout with TIMEOUT and aborts its signal', async () => {
    let inner: AbortSignal | undefined;
    const graph = taskGraph()
      .task('slow', (_, { signal }) => ((inner = signal), delay(5_000, 1, signal)), { timeoutMs: 20 })
      .build();
    await expect(graph.run()).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(inner?.aborted).toBe(true);
  });

  it('retries retryable failures up to the bound, and never a non-retryable one', async () => {
    let attempts = 0;
    const flaky = taskGraph()
      .task(
        'flaky',
        () => {
          attempts++;
          if (attempts < 3) throw new AidocError('UPSTREAM_UNAVAILABLE', '503');
          return 'ok';
        },
        { retry: { attempts: 3, baseDelayMs: 1 } },
      )
      .build();
    await expect(flaky.run()).resolves.toEqual({ flaky: 'ok' });
    expect(attempts).toBe(3);

    let invalidAttempts = 0;
    const invalid = taskGraph()
      .task('bad', () => Promise.reject(new AidocError('INVALID_INPUT', 'bad id', { details: { calls: ++invalidAttempts } })), {
        retry: { attempts: 5, baseDelayMs: 1 },
      })
      .build();
    await expect(invalid.run()).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(invalidAttempts).toBe(1);
  });

  it('records a span per task under the caller span, and nested work under the task', async () => {
    const graph = taskGraph()
      .task('patient', () => withSpan('db.query', () => delay(5, 'p'), 'call'))
      .task('info', () => delay(2, 'i'))
      .task('brief', ['patient', 'info'], () => delay(1, 'b'), { spanName: 'model.generate' })
      .build();
    const { value, trace } = await runTraced('briefing', () => graph.run());
    expect(value.brief).toBe('b');
    const byName = new Map(trace.spans.map((span) => [span.name, span]));
    expect([...byName.keys()].sort()).toEqual(['briefing', 'db.query', 'info', 'model.generate', 'patient']);
    expect(byName.get('patient')!.parent).toBe(trace.root);
    expect(byName.get('db.query')!.parent).toBe(byName.get('patient'));
    expect(byName.get('db.query')!.kind).toBe('call');
    const brief = byName.get('model.generate')!;
    expect(brief.start).toBeGreaterThanOrEqual(byName.get('patient')!.end!);
    expect(brief.start).toBeGreaterThanOrEqual(byName.get('info')!.end!);
    // Roots started in one loop share one clock reading.
    expect(byName.get('patient')!.start).toBe(byName.get('info')!.start);
    expect(trace.spans.every((span) => span.status === 'ok')).toBe(true);
  });

  it('keeps each task in its own span across awaits, dependents included, and gives the caller its span back at once', async () => {
    const graph = taskGraph()
      .task('slow', async () => {
        await delay(5, null);
        return withSpan('slow.after-await', () => 's');
      })
      .task('fast', () => delay(1, 'f'))
      .task('next', ['fast'], async () => {
        const inner = await withSpan('next.sync', () => 'n');
        await delay(1, null);
        return withSpan('next.after-await', () => inner);
      })
      .build();
    const { trace } = await runTraced('briefing', async (traced) => {
      const running = graph.run();
      expect(currentSpan()).toBe(traced.root);
      await running;
      expect(currentSpan()).toBe(traced.root);
    });
    const byName = new Map(trace.spans.map((span) => [span.name, span]));
    expect(byName.get('slow.after-await')!.parent).toBe(byName.get('slow'));
    expect(byName.get('next.sync')!.parent).toBe(byName.get('next'));
    expect(byName.get('next.after-await')!.parent).toBe(byName.get('next'));
    expect(byName.get('next')!.parent).toBe(trace.root);
    expect(byName.get('next')!.start).toBeGreaterThanOrEqual(byName.get('fast')!.end!);
  });

  it('records no spans with trace: false, and marks failed spans with their code', async () => {
    const quiet = await runTraced('quiet', () => taskGraph().task('a', () => 1).build().run(undefined, { trace: false }));
    expect(quiet.trace.spans).toHaveLength(1);
    const failed = await runTraced('failing', () =>
      taskGraph()
        .task('a', () => Promise.reject(new AidocError('NOT_FOUND', 'x')))
        .build()
        .settle(),
    );
    expect(failed.trace.spans.find((span) => span.name === 'a')).toMatchObject({ status: 'error', errorCode: 'NOT_FOUND' });
  });
});
