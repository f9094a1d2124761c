import { availableParallelism } from 'node:os';

/** Settings of `createFileVectorStore`. */
export interface FileVectorStoreOptions {
  /**
   * The store's directory: one file per collection (`<collection>.aidoc-vectors`) and, while a
   * writer has it open, its lock file (`aidoc-vector-store.lock`). A writer creates it when missing.
   */
  readonly directory: string;
  /**
   * Opens the store for reading only: it takes no lock (any number of readers may run beside the
   * one writer, in this process or others), rejects mutations with INVALID_INPUT, and before each
   * call checks (one `stat`) whether the collection's file was replaced, reloading it if so.
   * @default false
   */
  readonly readOnly?: boolean;
  /**
   * Worker threads one search is split across. The main thread only waits meanwhile, so every
   * core may scan; `0` scans on the calling thread (blocking the event loop for the scan).
   * @default os.availableParallelism()
   */
  readonly scanThreads?: number;
  /**
   * Searches smaller than this many multiply-adds (points x dimensions x queries) run on the
   * calling thread, where they take about a millisecond, less than a worker round trip.
   * @default 1_000_000
   */
  readonly workerScanThreshold?: number;
}

/** The options with defaults applied, checked p-queue style (a bad option is a programming error: `TypeError`). */
export function resolveFileVectorStoreOptions(options: FileVectorStoreOptions): Required<FileVectorStoreOptions> {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options);
  const { directory, readOnly = false, scanThreads = availableParallelism(), workerScanThreshold = 1_000_000 } = options;
  if (typeof directory !== 'string' || directory === '') throw invalidOption('directory', 'a non-empty path', directory);
  if (typeof readOnly !== 'boolean') throw invalidOption('readOnly', 'a boolean', readOnly);
  if (typeof scanThreads !== 'number' || !Number.isInteger(scanThreads) || scanThreads < 0) {
    throw invalidOption('scanThreads', 'an integer >= 0', scanThreads);
  }
  if (typeof workerScanThreshold !== 'number' || !(workerScanThreshold >= 0)) {
    throw invalidOption('workerScanThreshold', 'a number >= 0', workerScanThreshold);
  }
  return { directory, readOnly, scanThreads, workerScanThreshold };
}

function invalidOption(name: string, expected: string, value: unknown): TypeError {
  return new TypeError(`Expected \`${name}\` to be ${expected}, got \`${String(value)}\` (${typeof value})`);
}
