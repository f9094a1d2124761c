import { AidocError, createIngestPipeline, definePools, type IngestProgress, type IngestReport } from '@aidoc/core';
import { ConfigError, createAdapters, loadConfig, poolSizes, type Adapters, type AppConfig } from '@aidoc/example-config';
import path from 'node:path';
import { UsageError, parseCliArguments } from './cli-arguments.ts';
import { ExitCode } from './exit-codes.ts';
import { createProgressDisplay, type ProgressOutput } from './progress-display.ts';
import { summaryFromProgress, summaryFromReport, type RunSummary } from './run-summary.ts';
import { renderSummaryTable } from './summary-table.ts';
import { USAGE } from './usage.ts';

/** What the CLI touches of the process, so it can be run (and tested) as a function. */
export interface CliContext {
  /** The arguments after the script. */
  readonly argv: readonly string[];
  readonly environment: NodeJS.ProcessEnv;
  /** The folder paths are resolved against, and documents are named relative to (unless `--source-root`). */
  readonly workingDirectory: string;
  readonly stdout: { write(text: string): void };
  /** Progress, messages and errors. */
  readonly stderr: ProgressOutput;
  /** Calls `listener` on every Ctrl-C until the returned function is called. */
  onInterrupt(listener: () => void): () => void;
  /** Ends the process at once (a second Ctrl-C). */
  exitNow(code: ExitCode): void;
}

/** Runs the ingest CLI and resolves with its exit code; the adapters are closed before it resolves. */
export async function runIngestCli(context: CliContext): Promise<ExitCode> {
  const { stdout, stderr } = context;
  let cliArguments;
  let config: AppConfig;
  try {
    cliArguments = parseCliArguments(context.argv);
    config = loadConfig(context.environment);
  } catch (error) {
    if (error instanceof UsageError) {
      stderr.write(`error: ${error.message}\n\n${USAGE}`);
      return ExitCode.USAGE;
    }
    if (error instanceof ConfigError) {
      stderr.write(`${error.message}\n`);
      return ExitCode.USAGE;
    }
    throw error;
  }
  if (cliArguments.help) {
    stdout.write(USAGE);
    return ExitCode.OK;
  }

  const collection = cliArguments.collection ?? config.AIDOC_COLLECTION;
  const { dryRun } = cliArguments;
  let adapters: Adapters;
  try {
    definePools(poolSizes(config));
    adapters = createAdapters(config, 'ingest');
  } catch (error) {
    stderr.write(`Invalid configuration: ${describe(error)}\n`);
    return ExitCode.USAGE;
  }

  const display = createProgressDisplay({ output: stderr });
  const controller = new AbortController();
  let interrupted = false;
  const stopListening = context.onInterrupt(() => {
    if (interrupted) {
      display.finish();
      stderr.write('Interrupted again: exiting at once.\n');
      context.exitNow(ExitCode.INTERRUPTED);
      return;
    }
    interrupted = true;
    display.message('Cancelling: finishing the calls in flight (Ctrl-C again to exit at once)…');
    controller.abort();
  });

  try {
    const pipeline = createIngestPipeline({
      embedder: adapters.embedder,
      vectorStore: adapters.vectorStore,
      collection,
      ...(cliArguments.batchSize === undefined ? {} : { batchSize: cliArguments.batchSize }),
      ...(cliArguments.concurrency === undefined ? {} : { concurrency: cliArguments.concurrency }),
      sourceRoot: path.resolve(context.workingDirectory, cliArguments.sourceRoot ?? '.'),
    });
    const sources = cliArguments.paths.map((given) => path.resolve(context.workingDirectory, given));
    let report: IngestReport;
    try {
      report = await pipeline.ingest(sources, { signal: controller.signal, onProgress: (progress) => display.update(progress), dryRun });
    } finally {
      display.finish();
    }
    const summary = summaryFromReport(report, 'completed');
    if (summary.documents === 0) stderr.write('warning: no .md, .markdown, .txt or .pdf files in the given paths\n');
    stdout.write(renderSummaryTable(summary));
    return summary.failed > 0 ? ExitCode.FAILED : ExitCode.OK;
  } catch (error) {
    const outcome = interrupted ? 'interrupted' : 'failed';
    const summary = summaryOfFailedRun(error, { collection, dryRun, outcome });
    if (!interrupted) stderr.write(`error: ${describe(error)}\n`);
    if (summary !== undefined) stdout.write(renderSummaryTable(summary));
    return interrupted ? ExitCode.INTERRUPTED : ExitCode.FAILED;
  } finally {
    // Releases the file store's writer lock; a second Ctrl-C still exits at once meanwhile.
    await adapters.close();
    stopListening();
  }
}

/** What a rejected run had done, from the AidocError's `details.report`, else `details.progress`. */
function summaryOfFailedRun(
  error: unknown,
  context: { collection: string; dryRun: boolean; outcome: 'interrupted' | 'failed' },
): RunSummary | undefined {
  if (!AidocError.isInstance(error) || error.details === undefined) return undefined;
  const { report, progress } = error.details as { report?: IngestReport; progress?: IngestProgress };
  if (report !== undefined) return summaryFromReport(report, context.outcome);
  if (progress !== undefined) return summaryFromProgress(progress, context);
  return undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
