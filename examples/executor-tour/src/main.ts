// A tour of the executor on the shape of a briefing request, with simulated upstream latencies
// (no keys, no servers): the patient and the collection info are fetched concurrently; the
// model plans two guideline searches in one turn; each search embeds, then queries the vector
// store, and the two searches run concurrently in a shared, bounded "embedder" pool; a final
// model turn writes the answer. Prints the ASCII waterfall and the latency breakdown.
import { setTimeout as sleep } from 'node:timers/promises';
import { definePools, gather, getPool, renderLatencyBreakdown, renderWaterfall, runTraced, taskGraph, withSpan } from '@aidoc/core';

const latencyMs = { patient: 20, collection: 8, modelTurn: 250, embed: 150, search: 30 };

/** A stand-in for an adapter call: a span of kind `call` around an abortable wait. */
function upstream<T>(name: string, ms: number, value: T, signal: AbortSignal): Promise<T> {
  return withSpan(name, () => sleep(ms, value, { signal }), 'call');
}

definePools({ embedder: { concurrency: 16 }, vectorStore: { concurrency: 32 } });

const briefing = taskGraph<{ patientId: string }>()
  .task('patient', (_, { input, signal }) => upstream('patients.getById', latencyMs.patient, { id: input.patientId, conditions: ['type 2 diabetes', 'CKD stage 3'] }, signal))
  .task('collection', (_, { signal }) => upstream('vectorStore.info', latencyMs.collection, { points: 1240 }, signal))
  .task('plan', ['patient', 'collection'], ({ patient }, { signal }) =>
    upstream('model.generate', latencyMs.modelTurn, patient.conditions.map((condition) => `${condition} guideline`), signal),
  )
  .task('search', ['plan'], ({ plan }, { signal }) =>
    gather(
      plan.map((query) => ({ signal: callSignal }: { signal: AbortSignal }) =>
        withSpan(`tool: search "${query}"`, async () => {
          // The embedder pool bounds embedding calls across every concurrent request.
          const vector = await getPool('embedder').run(
            (poolSignal) => upstream('embedder.embed', latencyMs.embed, [0.1, 0.2], poolSignal ?? callSignal),
            { signal: callSignal },
          );
          return upstream('vectorStore.query', latencyMs.search, { query, hits: vector.length }, callSignal);
        }),
      ),
      { signal },
    ),
  )
  .task('answer', ['search'], ({ search }, { signal }) => upstream('model.generate', latencyMs.modelTurn, `${search.length} sources cited`, signal))
  .build();

const { value, trace } = await runTraced('briefing patient 1', () => briefing.run({ patientId: '1' }));
console.log(`answer: ${value.answer}\n`);
console.log(renderWaterfall(trace, { width: 56, color: process.stdout.isTTY }));
console.log();
console.log(renderLatencyBreakdown(trace));
