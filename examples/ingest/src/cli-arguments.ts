import { parseArgs } from 'node:util';

/** What the command line asked for. */
export type CliArguments =
  | { readonly help: true }
  | {
      readonly help: false;
      /** Files and folders, as given. */
      readonly paths: readonly string[];
      readonly collection: string | undefined;
      readonly batchSize: number | undefined;
      readonly concurrency: number | undefined;
      readonly sourceRoot: string | undefined;
      readonly dryRun: boolean;
    };

/** A command line the CLI cannot run: the message says why; the usage follows it on stderr. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The collection names the configuration accepts (same rule as AIDOC_COLLECTION). */
const COLLECTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Parses `argv` (without node and the script); throws UsageError. */
export function parseCliArguments(argv: readonly string[]): CliArguments {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        collection: { type: 'string' },
        'batch-size': { type: 'string' },
        concurrency: { type: 'string' },
        'source-root': { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError(parseErrorMessage(error));
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true };
  const batchSize = positiveInteger('--batch-size', values['batch-size']);
  const concurrency = positiveInteger('--concurrency', values.concurrency);
  const collection = values.collection;
  if (collection !== undefined && !COLLECTION_NAME.test(collection)) {
    throw new UsageError(`--collection must be letters, digits, "_" or "-", up to 64 (got "${collection}")`);
  }
  if (values['source-root'] === '') throw new UsageError('--source-root must be a folder');
  if (positionals.length === 0) throw new UsageError('No files or folders to ingest');
  return {
    help: false,
    paths: positionals,
    collection,
    batchSize,
    concurrency,
    sourceRoot: values['source-root'],
    dryRun: values['dry-run'],
  };
}

function positiveInteger(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < 1) {
    throw new UsageError(`${flag} must be a positive whole number (got "${text}")`);
  }
  return value;
}

/** node:util's messages, without their advice about `--` (which only confuses here). */
function parseErrorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('. To specify a positional argument')[0]!.trim();
}
