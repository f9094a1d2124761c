// The file vector store of @aidoc/local at 100k x 768 (20k in --quick): query latency (k = 5,
// with and without a payload filter), durable upsert throughput, save and load times, and memory
// against the raw vector bytes. Part of `npm run bench`; also runs alone:
//   node --conditions=@aidoc/source bench/vector-search.ts [--quick]
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Filter, VectorPoint } from '@aidoc/core';
import { seededRandom } from '@aidoc/core/testing';
import { createFileVectorStore } from '@aidoc/local';
import type { Benchmark, BenchResult, BenchScale } from './lib/bench-result.ts';
import { garbageCollector } from './lib/garbage-collector.ts';
import { median, percentile, round } from './lib/measure.ts';

const DIMENSIONS = 768;
const COLLECTION = 'bench';
/** Upsert batches in flight at once, as an ingest pipeline keeps them. */
const UPSERTS_IN_FLIGHT = 4;
const SOURCES = 50;
/** Matches 5 of the 50 sources: a tenth of the points. */
const FILTER: Filter = { must: [{ key: 'source', match: { any: ['guideline-0', 'guideline-1', 'guideline-2', 'guideline-3', 'guideline-4'] } }] };

export const vectorSearch: Benchmark = {
  name: 'vector search (file store)',
  async run(scale) {
    const pointCount = scale === 'full' ? 100_000 : 20_000;
    const queries = scale === 'full' ? 60 : 20;
    const random = seededRandom(20_241_124);
    const directory = await mkdtemp(join(tmpdir(), 'aidoc-bench-vector-search-'));
    const collectGarbage = garbageCollector();
    const store = createFileVectorStore({ directory });
    try {
      collectGarbage();
      const before = process.memoryUsage();
      await store.ensureCollection(COLLECTION, { dimensions: DIMENSIONS, distance: 'cosine' });

      // Durable upsert throughput: batches of the store's maximum, a few in flight.
      const batchSize = store.maxUpsertBatchSize;
      const upsertStart = performance.now();
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < pointCount) {
          const start = next;
          next = Math.min(pointCount, next + batchSize);
          await store.upsert(COLLECTION, makePoints(start, next, random));
        }
      };
      await Promise.all(Array.from({ length: UPSERTS_IN_FLIGHT }, worker));
      const upsertMs = performance.now() - upsertStart;

      const rawBytes = pointCount * DIMENSIONS * 4;
      collectGarbage();
      const built = process.memoryUsage();

      // Query latency, k = 5: unfiltered and filtered, interleaved after a warm-up.
      const latencies = { plain: [] as number[], filtered: [] as number[] };
      for (let index = 0; index < 5; index++) {
        await store.query(COLLECTION, { vector: unitVector(random), limit: 5 });
        await store.query(COLLECTION, { vector: unitVector(random), limit: 5, filter: FILTER });
      }
      for (let index = 0; index < queries; index++) {
        for (const kind of ['plain', 'filtered'] as const) {
          const vector = unitVector(random);
          const start = performance.now();
          await store.query(COLLECTION, { vector, limit: 5, filter: kind === 'filtered' ? FILTER : undefined });
          latencies[kind].push(performance.now() - start);
        }
      }
      collectGarbage();
      const queried = process.memoryUsage();

      // Save: one more point costs one full durable write of the collection.
      const saveStart = performance.now();
      await store.upsert(COLLECTION, makePoints(pointCount, pointCount + 1, random));
      const saveMs = performance.now() - saveStart;
      const fileBytes = (await stat(join(directory, `${COLLECTION}.aidoc-vectors`))).size;

      // Load: a reader opening the collection (read, checksum, parse). Its resident growth is the
      // memory figure: the vectors live in a growable SharedArrayBuffer, which `arrayBuffers`
      // does not count, and the writer's growth above also holds the garbage of the 100k input
      // points (kept in the details).
      collectGarbage();
      const beforeLoad = process.memoryUsage();
      const reader = createFileVectorStore({ directory, readOnly: true });
      const loadStart = performance.now();
      const loaded = await reader.info(COLLECTION);
      const loadMs = performance.now() - loadStart;
      collectGarbage();
      const afterLoad = process.memoryUsage();
      await reader.close();
      if (loaded.pointCount !== pointCount + 1) throw new Error(`the reader loaded ${loaded.pointCount} points`);
      const residentRatio = (afterLoad.rss - beforeLoad.rss) / rawBytes;
      const size = `${pointCount / 1000}k x ${DIMENSIONS}`;
      const queryDetails = (values: number[]): Record<string, number> => ({
        p50Ms: round(median(values)),
        p95Ms: round(percentile(values, 95)),
        queries: values.length,
      });
      const rows: BenchResult[] = [
        { name: `query k=5, ${size}`, metric: 'p50 latency', value: round(median(latencies.plain)), target: 50, unit: ' ms', details: queryDetails(latencies.plain) },
        { name: `query k=5, ${size}, filter (10%)`, metric: 'p50 latency', value: round(median(latencies.filtered)), target: 50, unit: ' ms', details: queryDetails(latencies.filtered) },
        {
          name: `upsert ${size}, batches of ${batchSize}, ${UPSERTS_IN_FLIGHT} in flight`,
          metric: 'durable points / s',
          value: Math.round(pointCount / (upsertMs / 1000)),
          target: scale === 'full' ? 5_000 : 10_000,
          higherIsBetter: true,
          details: { totalMs: round(upsertMs, 0), points: pointCount },
        },
        { name: `save ${size} (one durable write)`, metric: 'time', value: round(saveMs, 0), target: 5_000, unit: ' ms', details: { fileBytes } },
        { name: `load ${size} (reader, checksum)`, metric: 'time', value: round(loadMs, 0), target: 5_000, unit: ' ms', details: { fileBytes } },
        {
          name: `memory ${size}`,
          metric: 'loaded store resident growth / raw vector bytes',
          value: round(residentRatio),
          target: 1.2,
          unit: 'x',
          details: {
            rawVectorMB: round(rawBytes / 1e6, 1),
            readerRssMB: round((afterLoad.rss - beforeLoad.rss) / 1e6, 1),
            readerHeapUsedMB: round((afterLoad.heapUsed - beforeLoad.heapUsed) / 1e6, 1),
            readerArrayBuffersMB: round((afterLoad.arrayBuffers - beforeLoad.arrayBuffers) / 1e6, 1),
            writerRssAfterUpsertMB: round((built.rss - before.rss) / 1e6, 1),
            writerRssAfterQueriesMB: round((queried.rss - before.rss) / 1e6, 1),
            writerHeapUsedMB: round((queried.heapUsed - before.heapUsed) / 1e6, 1),
          },
        },
      ];
      return rows;
    } finally {
      await store.close();
      await rm(directory, { recursive: true, force: true });
    }
  },
};

function makePoints(start: number, end: number, random: () => number): VectorPoint[] {
  return Array.from({ length: end - start }, (_, offset) => {
    const index = start + offset;
    return {
      id: uuidFor(index),
      vector: unitVector(random),
      payload: { source: `guideline-${index % SOURCES}`, chunk: index, section: index % 7 },
    };
  });
}

/** A deterministic UUID-shaped id for point `index`. */
function uuidFor(index: number): string {
  const hex = index.toString(16).padStart(12, '0');
  return `00000000-0000-4000-8000-${hex}`;
}

/** A random direction, uniform on the sphere (Gaussian components, Box-Muller). */
function unitVector(random: () => number): Float32Array {
  const vector = new Float32Array(DIMENSIONS);
  let squares = 0;
  for (let index = 0; index < DIMENSIONS; index += 2) {
    const radius = Math.sqrt(-2 * Math.log(1 - random()));
    const angle = 2 * Math.PI * random();
    vector[index] = radius * Math.cos(angle);
    if (index + 1 < DIMENSIONS) vector[index + 1] = radius * Math.sin(angle);
    squares += vector[index]! ** 2 + (vector[index + 1] ?? 0) ** 2;
  }
  const scale = 1 / Math.sqrt(squares);
  for (let index = 0; index < DIMENSIONS; index++) vector[index] = vector[index]! * scale;
  return vector;
}

// Run alone: print the rows.
if (import.meta.url === `file://${process.argv[1]}`) {
  const scale: BenchScale = process.argv.includes('--quick') ? 'quick' : 'full';
  const started = performance.now();
  for (const row of await vectorSearch.run(scale)) {
    console.log(`${row.name}: ${row.metric} = ${row.value}${row.unit ?? ''} (target ${row.higherIsBetter === true ? '>=' : '<='} ${row.target}) ${JSON.stringify(row.details)}`);
  }
  console.log(`(${round((performance.now() - started) / 1000, 1)} s)`);
}
