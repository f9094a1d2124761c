// The whole pipeline on the embedded defaults (no keys, no servers): ingest the sample guidelines
// into a file-backed vector store, then brief a sample patient with the offline rule-based model,
// and print the briefing with its sources, the request's waterfall and its latency breakdown.
//
//   npm run demo                 patient 1
//   npm run demo -- 3            another sample patient (1-6)
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createBriefingPipeline, createIngestPipeline, renderLatencyBreakdown, renderWaterfall, type IngestProgress } from '@aidoc/core';
import {
  createFileVectorStore,
  createHashingEmbedder,
  createJsonPatientRepository,
  createOfflineModel,
  sampleGuidelinesDirectory,
  samplePatientsFile,
} from '@aidoc/local';

const patientId = process.argv[2] ?? '1';
const directory = path.resolve(import.meta.dirname, '..', '.aidoc', 'vectors');
await mkdir(directory, { recursive: true });

const embedder = createHashingEmbedder();
await using vectorStore = createFileVectorStore({ directory });

console.log(`Ingesting the sample guidelines into ${path.relative(process.cwd(), directory)} ...`);
// Sources are named relative to `sourceRoot`, so re-runs recognise the same files from any directory.
const ingest = createIngestPipeline({ embedder, vectorStore, collection: 'guidelines', sourceRoot: sampleGuidelinesDirectory });
const report = await ingest.ingest([sampleGuidelinesDirectory], {
  onProgress: (progress: IngestProgress) => {
    if (progress.final) return;
    process.stdout.write(`\r  ${progress.documentsDone}/${progress.documentsTotal} documents, ${progress.chunks} chunks, ${progress.embedded} embedded`);
  },
});
const { totals } = report;
console.log(
  `\r  ${totals.documents} documents, ${totals.chunks} chunks: ${totals.embedded} embedded, ${totals.skipped} unchanged, ${totals.deleted} stale deleted (${Math.round(report.elapsedMs)} ms)\n`,
);

const pipeline = createBriefingPipeline({
  patients: createJsonPatientRepository({ file: samplePatientsFile }),
  embedder,
  vectorStore,
  // Simulated model latency makes the waterfall look like a real request's.
  model: createOfflineModel({ latencyMs: 400 }),
  collection: 'guidelines',
});

const { briefing, sources, usage, trace } = await pipeline.brief(patientId);
console.log(`Briefing for patient ${briefing.patientId}\n\n${briefing.summary}\n`);
if (briefing.keyConcerns.length > 0) {
  console.log('Key concerns');
  for (const concern of briefing.keyConcerns) console.log(`  [${concern.severity}] ${concern.concern} (${concern.evidence})`);
  console.log();
}
console.log('Recommendations');
for (const item of briefing.recommendations) console.log(`  - ${item.recommendation} [${item.citations.join(', ')}]`);
console.log('\nSources');
for (const source of sources) console.log(`  ${source.id.padEnd(4)} ${source.section} (${source.document})`);
console.log(`\n${usage.modelTurns} model turns, ${usage.toolCalls} tool calls, ${usage.embeddingCalls} embedding calls, ${usage.vectorStoreCalls} vector-store calls\n`);
console.log(renderWaterfall(trace, { width: 50, color: process.stdout.isTTY }));
console.log();
console.log(renderLatencyBreakdown(trace));
