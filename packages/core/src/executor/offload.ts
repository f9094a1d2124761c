import { availableParallelism } from 'node:os';
import { basename, extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TransferListItem } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { AidocError } from '../errors/aidoc-error.ts';
import { abortError } from '../errors/to-aidoc-error.ts';
import { withSpan } from '../tracing/trace-context.ts';
import { expectDelay, expectPositiveInteger, invalidOption } from '../errors/validate-option.ts';

export interface OffloaderOptions {
  /**
   * The worker module (path or `file:` URL; a relative path resolves against the working
   * directory). Its default export, or the export named `exportName`, is the function to run;
   * it takes the input and returns the output (or a promise of it). Both cross a thread
   * boundary, so they must be structured-cloneable.
   */
  filename: string | URL;
  /** @default 'default' */
  exportName?: string;
  /**
   * Worker threads to run jobs on; further jobs queue. One core is left to the event loop.
   * @default Math.min(4, availableParallelism() - 1 || 1)
   */
  maxThreads?: number;
  /**
   * How long an idle thread is kept before it exits. Starting a thread costs tens of
   * milliseconds, so bursts of jobs should reuse them; idle threads never keep the process alive.
   * `Infinity` keeps them until `destroy()`.
   * @default 30_000
   */
  idleTimeoutMs?: number;
}

export interface OffloadRunOptions {
  /** Aborting rejects with ABORTED at once; a running job's thread is terminated (and replaced on demand). */
  signal?: AbortSignal;
  /** Buffers to move to the worker instead of copying (they become unusable here). */
  transferList?: readonly TransferListItem[];
}

export interface OffloaderStats {
  /** Worker threads alive now. */
  readonly threads: number;
  /** Jobs waiting for a free thread. */
  readonly queued: number;
  /** Jobs submitted through `run` and not yet settled (queued or running). */
  readonly inFlight: number;
  /** Jobs finished since creation (succeeded or failed). */
  readonly completed: number;
  /** Share of thread capacity used since creation (0 to 1). */
  readonly utilization: number;
}

/** A pool of worker threads running one function, so CPU-heavy work never holds the event loop. */
export interface Offloader<Input, Output> {
  /** `<file name without extension>` or `<file name>#<exportName>`; spans are `offload:<name>`. */
  readonly name: string;
  /**
   * Runs the function on a worker thread. Rejects with ABORTED when `signal` fires (or the
   * offloader is destroyed), and with INTERNAL, the worker's error as `cause`, when it throws.
   */
  run(input: Input, options?: OffloadRunOptions): Promise<Output>;
  stats(): OffloaderStats;
  /** Terminates every thread; jobs still queued or running reject with ABORTED. Idempotent. */
  destroy(): Promise<void>;
}

/**
 * Creates a worker-thread pool (piscina) for one function. Threads start on the first job, not
 * here. When a span is current, each job is recorded as an `offload:<name>` span.
 */
export function createOffloader<Input, Output>(options: OffloaderOptions): Offloader<Input, Output> {
  const { filename, exportName = 'default' } = options;
  const maxThreads = options.maxThreads ?? Math.min(4, availableParallelism() - 1 || 1);
  const idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  if (typeof exportName !== 'string' || exportName === '') {
    throw invalidOption('exportName', 'a non-empty string', exportName);
  }
  expectPositiveInteger('maxThreads', maxThreads);
  if (idleTimeoutMs !== Infinity) expectDelay('idleTimeoutMs', idleTimeoutMs);
  return new PiscinaOffloader<Input, Output>(toPath(filename), exportName, maxThreads, idleTimeoutMs);
}

class PiscinaOffloader<Input, Output> implements Offloader<Input, Output> {
  readonly name: string;
  readonly #pool: Piscina<Input, Output>;
  #inFlight = 0;
  #destroyed = false;
  #destroying: Promise<void> | undefined;

  constructor(path: string, exportName: string, maxThreads: number, idleTimeoutMs: number) {
    const file = basename(path, extname(path));
    this.name = exportName === 'default' ? file : `${file}#${exportName}`;
    this.#pool = new Piscina<Input, Output>({
      filename: path,
      name: exportName,
      minThreads: 0,
      maxThreads,
      idleTimeout: idleTimeoutMs,
    });
  }

  run(input: Input, options: OffloadRunOptions = {}): Promise<Output> {
    return withSpan(`offload:${this.name}`, () => this.#run(input, options), 'internal');
  }

  async #run(input: Input, { signal, transferList }: OffloadRunOptions): Promise<Output> {
    if (signal?.aborted) throw abortError(signal);
    if (this.#destroyed) throw this.#destroyedError();
    this.#inFlight++;
    try {
      return await this.#pool.run(input, {
        signal: signal ?? null,
        transferList: transferList as TransferListItem[] | undefined,
      });
    } catch (error) {
      // Read again: the signal may have fired while the job ran (TypeScript keeps the earlier narrowing).
      if (isAborted(signal)) throw abortError(signal);
      if (this.#destroyed) throw this.#destroyedError(error);
      const detail = error instanceof Error ? error.message : String(error);
      throw new AidocError('INTERNAL', `Offloaded function \`${this.name}\` failed: ${detail}`, { cause: error });
    } finally {
      this.#inFlight--;
    }
  }

  stats(): OffloaderStats {
    const pool = this.#pool;
    return {
      threads: pool.threads.length,
      queued: pool.queueSize,
      inFlight: this.#inFlight,
      completed: pool.completed,
      utilization: pool.utilization,
    };
  }

  destroy(): Promise<void> {
    this.#destroyed = true;
    this.#destroying ??= this.#pool.destroy();
    return this.#destroying;
  }

  #destroyedError(cause?: unknown): AidocError {
    return new AidocError('ABORTED', `The offloader for \`${this.name}\` was destroyed`, { cause });
  }
}

export interface OffloadOptions extends OffloadRunOptions {
  /** @default 'default' */
  exportName?: string;
}

// One pool per function for the whole process: pools are costly, and sharing them is what bounds
// the threads.
const shared = new Map<string, Offloader<unknown, unknown>>();

/**
 * Runs the function exported by `filename` on a worker thread, through a process-wide offloader
 * for that module and export (created on first use, with the default options). For other
 * options, use `createOffloader`. See `Offloader.run` for errors; a bad `filename` rejects with a
 * `TypeError`.
 */
export async function offload<Input, Output>(filename: string | URL, input: Input, options: OffloadOptions = {}): Promise<Output> {
  const { exportName = 'default', ...runOptions } = options;
  const path = toPath(filename);
  const key = `${path}#${exportName}`;
  let offloader = shared.get(key);
  if (offloader === undefined) {
    offloader = createOffloader<unknown, unknown>({ filename: path, exportName });
    shared.set(key, offloader);
  }
  return (await offloader.run(input, runOptions)) as Output;
}

/** Destroys the offloaders `offload` created (at shutdown, or between tests). */
export async function destroySharedOffloaders(): Promise<void> {
  const offloaders = [...shared.values()];
  shared.clear();
  await Promise.all(offloaders.map((offloader) => offloader.destroy()));
}

function isAborted(signal: AbortSignal | undefined): signal is AbortSignal {
  return signal?.aborted === true;
}

/** Piscina wants an absolute path; a relative one would resolve against piscina's own worker script. */
function toPath(filename: string | URL): string {
  if (!(filename instanceof URL) && (typeof filename !== 'string' || filename === '')) {
    throw invalidOption('filename', 'a path or a file URL', filename);
  }
  if (filename instanceof URL) return fileURLToPath(filename);
  return filename.startsWith('file:') ? fileURLToPath(filename) : resolve(filename);
}
