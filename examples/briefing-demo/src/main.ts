// The whole pipeline on the embedded defaults (no keys, no servers): ingest the sample guidelines
// into a file-backed vector store, brief a sample patient with the offline rule-based model, print
// the briefing with its sources, the request's waterfall and its latency breakdown, then serve the
// briefing web page (Ctrl-C stops it).
//
//   npm run demo                 patient 1, then the web page
//   npm run demo -- 3            another sample patient (1-6)
//   npm run demo -- 1 --no-serve print the briefing and exit
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '@aidoc/example-config';
import { buildServer } from '@aidoc/example-server/build-server';
import { shutdown } from '@aidoc/example-server/shutdown';
import { createBriefingPipeline, createIngestPipeline, renderLatencyBreakdown, renderWaterfall, type IngestProgress } from '@aidoc/core';
import {
  createFileVectorStore,
  createHashingEmbedder,
  createJsonPatientRepository,
  createOfflineModel,
  sampleGuidelinesDirectory,
  samplePatientsFile,
} from '@aidoc/local';

const positional = process.argv.slice(2).filter((argument) => !argument.startsWith('--'));
const patientId = positional[0] ?? '1';
const serve = !process.argv.includes('--no-serve');
// The data directory the server and the ingest CLI use too (AIDOC_DATA_DIR), so the page serves what was ingested here.
const config = loadConfig(process.env);
const directory = path.join(config.AIDOC_DATA_DIR, 'vectors');
await mkdir(directory, { recursive: true });

const embedder = createHashingEmbedder();
const vectorStore = createFileVectorStore({ directory });

console.log(`Ingesting the sample guidelines into ${directory} ...`);
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

// The writer lock goes before the server opens the store to read it.
await vectorStore.close();
if (serve) {
  const server = await buildServer({ config, logger: false });
  await server.listen({ host: config.HOST, port: config.PORT });
  const address = server.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.PORT;
  console.log(`\nThe briefing page: http://${config.HOST}:${port}/  (Ctrl-C stops the server)`);
  const stop = (): void => {
    shutdown(server, { drainMs: 2_000 }).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
