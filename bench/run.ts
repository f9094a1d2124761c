// `npm run bench` (full) or `npm run bench -- --quick`: runs every benchmark of the project, each
// in a fresh child process (so one benchmark's heap, JIT state and module-level caches cannot tilt
// the next; within a benchmark, ours and its baseline still share one process), prints one
// markdown table (figure, target, pass/fail) and writes the JSON report to bench/results/ (a
// timestamped file and latest.json).
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { briefingTurn } from './briefing-turn.ts';
import { concurrentBriefings } from './concurrent-briefings.ts';
import { criticalPathAdherence } from './critical-path-adherence.ts';
import { eventLoopMonitorOverhead } from './event-loop-monitor-overhead.ts';
import { executorOverhead } from './executor-overhead.ts';
import { ingestThroughput } from './ingest-throughput.ts';
import { latencyVsConcurrency } from './latency-vs-concurrency.ts';
import { load } from './load.ts';
import { postgresRead } from './postgres-read.ts';
import { retrievalQuality } from './retrieval-quality.ts';
import { vectorSearch } from './vector-search.ts';
import { passes, type Benchmark, type BenchResult, type BenchScale } from './lib/bench-result.ts';

const benchmarks: Benchmark[] = [
  executorOverhead,
  criticalPathAdherence,
  eventLoopMonitorOverhead,
  briefingTurn,
  ingestThroughput,
  concurrentBriefings,
  vectorSearch,
  retrievalQuality,
  postgresRead,
  load,
  latencyVsConcurrency,
];

const scale: BenchScale = process.argv.includes('--quick') ? 'quick' : 'full';
/** Set in the child that runs one benchmark: its name. */
const child = process.argv.find((argument) => argument.startsWith('--child='))?.slice('--child='.length);

if (child !== undefined) {
  const benchmark = benchmarks.find((candidate) => candidate.name === child);
  if (benchmark === undefined) throw new Error(`No benchmark named ${JSON.stringify(child)}`);
  process.stdout.write(`${JSON.stringify(await benchmark.run(scale))}\n`);
} else {
  await runAll(process.argv.find((argument) => argument.startsWith('--only='))?.slice('--only='.length));
}

async function runAll(only: string | undefined): Promise<void> {
  const results: { benchmark: string; rows: BenchResult[] }[] = [];
  for (const benchmark of benchmarks) {
    if (only !== undefined && !benchmark.name.includes(only)) continue;
    process.stderr.write(`bench: ${benchmark.name} (${scale})...\n`);
    results.push({ benchmark: benchmark.name, rows: await runInChild(benchmark.name) });
  }
  await writeReport(results);
}

/** Runs one benchmark in a fresh `node` with this process's flags; its rows come back as JSON on stdout. */
function runInChild(name: string): Promise<BenchResult[]> {
  const script = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const run = execFile(
      process.execPath,
      [...process.execArgv, script, `--child=${name}`, ...(scale === 'quick' ? ['--quick'] : [])],
      { maxBuffer: 16 * 1024 * 1024 },
      (error, stdout) => {
        if (error !== null) reject(new Error(`benchmark ${name} failed: ${error.message}`));
        else resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as BenchResult[]);
      },
    );
    run.stderr?.pipe(process.stderr);
  });
}

/** Prints the table and writes the JSON report. */
async function writeReport(results: readonly { benchmark: string; rows: BenchResult[] }[]): Promise<void> {
  const lines = ['| benchmark | measured | figure | target | result |', '|---|---|---:|---:|:---:|'];
  for (const { rows } of results) {
    for (const row of rows) {
      const unit = row.unit ?? '';
      const comparator = row.higherIsBetter === true ? '>=' : '<=';
      lines.push(`| ${row.name} | ${row.metric} | ${row.value}${unit} | ${comparator} ${row.target}${unit} | ${passes(row) ? 'pass' : 'FAIL'} |`);
    }
  }
  console.log(lines.join('\n'));

  const report = {
    date: new Date().toISOString(),
    scale,
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version, platform: `${os.platform()} ${os.arch()}` },
    results: results.map(({ benchmark, rows }) => ({ benchmark, rows: rows.map((row) => ({ ...row, pass: passes(row) })) })),
  };
  const directory = new URL('./results/', import.meta.url);
  await mkdir(directory, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  await writeFile(new URL(`${report.date.replace(/[:.]/g, '-')}.json`, directory), json);
  await writeFile(new URL('latest.json', directory), json);
  const failed = results.flatMap(({ rows }) => rows).filter((row) => !passes(row));
  process.stderr.write(`bench: ${failed.length === 0 ? 'all targets met' : `${failed.length} target(s) missed`}; report in bench/results/latest.json\n`);
}
