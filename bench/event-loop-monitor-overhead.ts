// Event-loop monitor overhead: a busy process (CPU-bound tasks run through the executor,
// yielding between chunks) with the monitor off and on, interleaved round by round; the figure
// is the extra time with the monitor on. Target: < 1%. Also reports the CPU an otherwise idle
// process spends on the monitor's sampling.
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { createEventLoopMonitor, gather } from '@aidoc/core';
import type { Benchmark } from './lib/bench-result.ts';
import { median, round } from './lib/measure.ts';

/** About a third of a millisecond of arithmetic: a task that holds the loop briefly, as parsing does. */
function cpuChunk(): number {
  let sum = 0;
  for (let index = 0; index < 150_000; index++) sum += Math.sqrt(index);
  return sum;
}

async function busyWork(chunks: number): Promise<number> {
  const start = performance.now();
  for (let chunk = 0; chunk < chunks; chunk++) {
    await gather([cpuChunk, cpuChunk]);
    await yieldToLoop();
  }
  return performance.now() - start;
}

async function withMonitor<T>(fn: () => Promise<T>): Promise<T> {
  const monitor = createEventLoopMonitor({ thresholdMs: 50 }).start();
  try {
    return await fn();
  } finally {
    monitor.stop();
  }
}

async function idleCpuShare(ms: number, monitored: boolean): Promise<number> {
  const run = async () => {
    const before = process.cpuUsage();
    await sleep(ms);
    const used = process.cpuUsage(before);
    return (used.user + used.system) / 1000 / ms;
  };
  return monitored ? withMonitor(run) : run();
}

export const eventLoopMonitorOverhead: Benchmark = {
  name: 'event-loop monitor overhead',
  async run(scale) {
    const chunks = scale === 'full' ? 1_500 : 300;
    const rounds = scale === 'full' ? 11 : 3;
    await busyWork(200);
    const off: number[] = [];
    const on: number[] = [];
    for (let index = 0; index < rounds; index++) {
      // Alternate which variant goes first, so drift in machine speed hits both alike.
      if (index % 2 === 0) {
        off.push(await busyWork(chunks));
        on.push(await withMonitor(() => busyWork(chunks)));
      } else {
        on.push(await withMonitor(() => busyWork(chunks)));
        off.push(await busyWork(chunks));
      }
    }
    const overheadPercent = (median(on) / median(off) - 1) * 100;
    const idleMs = scale === 'full' ? 3_000 : 1_000;
    const idleOff = await idleCpuShare(idleMs, false);
    const idleOn = await idleCpuShare(idleMs, true);
    return [
      {
        name: 'busy process, CPU tasks through the executor',
        metric: 'extra time with monitor on',
        value: round(Math.max(0, overheadPercent), 2),
        target: 1,
        unit: '%',
        details: {
          offMedianMs: round(median(off), 1),
          onMedianMs: round(median(on), 1),
          rawOverheadPercent: round(overheadPercent, 2),
          idleCpuPercentOff: round(idleOff * 100, 2),
          idleCpuPercentOn: round(idleOn * 100, 2),
        },
      },
    ];
  },
};
