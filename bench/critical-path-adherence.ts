// Critical-path adherence: random DAGs of 50 tasks with timer latencies of 1-20 ms. The figure
// is wall time / the critical path computed from each task's own measured duration (so timer
// slop inside a task is not blamed on the executor). Target: median <= 1.02 over 20 graphs.
// Level-by-level code (Promise.all per depth) runs the same graphs as the baseline.
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { TaskGraph } from '@aidoc/core';
import type { Benchmark } from './lib/bench-result.ts';
import { median, round } from './lib/measure.ts';
import { seededRandom } from '@aidoc/core/testing';
import { levels, longestPath, randomDag, type RandomDag } from './lib/random-dag.ts';

async function timedTask(latencyMs: number, durations: number[], index: number): Promise<number> {
  const start = performance.now();
  await sleep(latencyMs);
  durations[index] = performance.now() - start;
  return index;
}

async function runOurs(dag: RandomDag): Promise<number> {
  const durations: number[] = [];
  const graph = TaskGraph.fromDeclarations(
    dag.latenciesMs.map((latencyMs, index) => ({
      name: `t${index}`,
      dependsOn: dag.dependsOn[index]!.map((dependency) => `t${dependency}`),
      run: () => timedTask(latencyMs, durations, index),
    })),
  );
  const start = performance.now();
  await graph.run();
  const wall = performance.now() - start;
  return wall / longestPath(dag, durations);
}

async function runLevelByLevel(dag: RandomDag): Promise<number> {
  const durations: number[] = [];
  const start = performance.now();
  for (const level of levels(dag)) {
    await Promise.all(level.map((index) => timedTask(dag.latenciesMs[index]!, durations, index)));
  }
  const wall = performance.now() - start;
  return wall / longestPath(dag, durations);
}

export const criticalPathAdherence: Benchmark = {
  name: 'critical-path adherence',
  async run(scale) {
    const graphs = scale === 'full' ? 20 : 5;
    const random = seededRandom(42);
    const ours: number[] = [];
    const levelByLevel: number[] = [];
    for (let index = 0; index < graphs; index++) {
      const dag = randomDag(50, random, { minLatencyMs: 1, maxLatencyMs: 20, edgeProbability: 0.08 });
      ours.push(await runOurs(dag));
      levelByLevel.push(await runLevelByLevel(dag));
    }
    return [
      {
        name: `random 50-task DAGs, 1-20 ms (${graphs} graphs)`,
        metric: 'wall / critical path (median)',
        value: round(median(ours), 3),
        target: 1.02,
        details: { oursMedian: round(median(ours), 3), oursWorst: round(Math.max(...ours), 3), levelByLevelMedian: round(median(levelByLevel), 3) },
      },
    ];
  },
};
