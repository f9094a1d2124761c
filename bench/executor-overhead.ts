// Orchestration overhead: the executor against the same code written with raw Promise.all, on
// zero-latency tasks (so the figure is pure overhead). Targets: <= 2x raw with spans off,
// <= 5x raw with spans on.
import { gather, runTraced, taskGraph } from '@aidoc/core';
import type { Benchmark, BenchResult } from './lib/bench-result.ts';
import { compareVariants, round } from './lib/measure.ts';

// Zero-latency stand-ins for I/O: each returns an already-resolved promise, as a cache hit does.
const fetchPatient = (): Promise<number> => Promise.resolve(1);
const fetchCollection = (): Promise<number> => Promise.resolve(2);
const summarise = (patient: number, collection: number): Promise<number> => Promise.resolve(patient + collection);

const threeTaskGraph = taskGraph()
  .task('patient', () => fetchPatient())
  .task('collection', () => fetchCollection())
  .task('summary', ['patient', 'collection'], ({ patient, collection }) => summarise(patient, collection))
  .build();

async function rawThreeTasks(): Promise<number> {
  const [patient, collection] = await Promise.all([fetchPatient(), fetchCollection()]);
  return summarise(patient, collection);
}

const fanOutWidth = 32;
const fanOutCalls = Array.from({ length: fanOutWidth }, (_, index) => () => Promise.resolve(index));

export const executorOverhead: Benchmark = {
  name: 'executor overhead',
  async run(scale) {
    const options = scale === 'full' ? { iterations: 20_000, rounds: 15 } : { iterations: 2_000, rounds: 5 };
    const threeTasks = await compareVariants(
      {
        raw: rawThreeTasks,
        spansOff: () => threeTaskGraph.run(),
        spansOn: () => runTraced('request', () => threeTaskGraph.run()),
      },
      options,
    );
    const fanOut = await compareVariants(
      {
        raw: () => Promise.all(fanOutCalls.map((call) => call())),
        spansOff: () => gather(fanOutCalls),
        spansOn: () => runTraced('request', () => gather(fanOutCalls)),
      },
      { iterations: Math.ceil(options.iterations / 8), rounds: options.rounds },
    );
    const rows: BenchResult[] = [];
    for (const [shape, timings] of [
      ['3-task graph (2 fetches -> 1 step)', threeTasks],
      [`${fanOutWidth}-wide fan-out (gather)`, fanOut],
    ] as const) {
      const details = { rawNs: round(timings.raw!, 0), spansOffNs: round(timings.spansOff!, 0), spansOnNs: round(timings.spansOn!, 0) };
      rows.push(
        { name: `${shape}, spans off`, metric: 'time / raw Promise.all', value: round(timings.spansOff! / timings.raw!), target: 2, unit: 'x', details },
        { name: `${shape}, spans on`, metric: 'time / raw Promise.all', value: round(timings.spansOn! / timings.raw!), target: 5, unit: 'x', details },
      );
    }
    return rows;
  },
};
