import { abortError } from '../errors/to-aidoc-error.ts';
import { performance } from 'node:perf_hooks';
import type { Trace } from '../tracing/span.ts';
import { currentSpan } from '../tracing/trace-context.ts';

/** CPU time handed out per event-loop iteration before timers and I/O get their go. */
const SLICE_MS = 4;

/**
 * The real `setImmediate`, taken before any test can install fake timers: turns are about
 * event-loop iterations, not about time, and must keep moving while a test fakes the clock.
 */
const nextIteration = globalThis.setImmediate;

interface Waiter {
  readonly grant: () => void;
  /** The trace (request) that asked, if any. */
  readonly owner: Trace | undefined;
}

/** Callers waiting for a CPU turn, oldest first (a Set keeps insertion order and deletes in O(1)). */
const waiting = new Set<Waiter>();
/** A slice is open for this event-loop iteration (it closes in the next one). */
let sliceOpen = false;
/** CPU time the turns of the open slice have taken so far. */
let sliceUsedMs = 0;
/** When the running turn was granted; undefined while no turn runs. */
let turnStartedAt: number | undefined;
/** The trace (request) the running turn was granted to, if it was asked for inside one. */
let turnOwner: Trace | undefined;
/**
 * True between granting a turn and the granted caller starting to run: callers asking in that
 * window are others (a loop starting many requests in one trace), not the granted caller's
 * continuation.
 */
let grantWindowOpen = false;

/**
 * Waits for this caller's turn to do a slice of CPU work on the event loop. Turns run one at a
 * time, first come first served; once the turns of one event-loop iteration have taken about 4 ms
 * of CPU, the rest wait for the next iteration, after timers and I/O. Until then, and on an idle
 * loop, a turn is granted at once.
 *
 * Why: a thousand briefings whose upstream calls come back in the same millisecond would otherwise
 * each run their CPU-bound step (reading a response, validating a briefing, building the next
 * request) back to back in one macrotask, stalling the loop for the sum of them (hundreds of
 * milliseconds). Taking turns bounds a stall by the slice plus the longest single step; the total
 * CPU is the same.
 *
 * A turn lasts until the caller next waits for real I/O or a timer: everything it runs
 * synchronously or through already-settled promises after the grant belongs to its turn, and a
 * turn the same request (trace) asks for meanwhile, a step that takes a turn calling another, is
 * granted at once.
 *
 * @param signal - Rejects with `ABORTED` (or the signal's AidocError reason) and leaves the
 * queue when it fires before the turn comes.
 */
export function takeCpuTurn(signal?: AbortSignal): Promise<void> {
  if (signal?.aborted === true) return Promise.reject(abortError(signal));
  const owner = currentSpan()?.trace;
  // Asked again by the same request while its turn runs (a step that takes a turn calling
  // another): still that turn. Other requests woken meanwhile (one settled promise can wake a
  // thousand) queue like everyone else.
  if (turnStartedAt !== undefined && !grantWindowOpen && owner !== undefined && owner === turnOwner) return Promise.resolve();
  if (turnStartedAt === undefined && waiting.size === 0 && sliceHasTime()) {
    startTurn(owner);
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      waiting.delete(waiter);
      reject(abortError(signal!));
    };
    const waiter: Waiter = {
      owner,
      grant: () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    waiting.add(waiter);
  });
}

/** Callers waiting for a CPU turn right now (a gauge for metrics: a long queue means CPU saturation). */
export function cpuTurnQueueLength(): number {
  return waiting.size;
}

/** Whether this iteration's turns have CPU time left, opening a slice (closed next iteration) if none is open. */
function sliceHasTime(): boolean {
  if (!sliceOpen) {
    sliceOpen = true;
    sliceUsedMs = 0;
    nextIteration(closeSlice);
  }
  return sliceUsedMs < SLICE_MS;
}

function closeSlice(): void {
  sliceOpen = false;
  if (turnStartedAt === undefined && waiting.size > 0 && sliceHasTime()) grantQueued();
}

function startTurn(owner: Trace | undefined): void {
  turnStartedAt = performance.now();
  turnOwner = owner;
  grantWindowOpen = true;
  queueMicrotask(() => {
    // From here on the granted caller runs: what asks for a turn now is its own continuation.
    grantWindowOpen = false;
    // The turn ends once the granted caller has run everything it can without I/O: a tick
    // queued from a microtask runs only after the microtask queue has drained.
    process.nextTick(endTurn);
  });
}

function endTurn(): void {
  sliceUsedMs += performance.now() - turnStartedAt!;
  turnStartedAt = undefined;
  turnOwner = undefined;
  // Slice spent: the closeSlice already scheduled grants the rest in the next iteration.
  if (waiting.size > 0 && sliceHasTime()) grantQueued();
}

function grantQueued(): void {
  const next = waiting.values().next();
  if (next.done === true) return;
  waiting.delete(next.value);
  startTurn(next.value.owner);
  next.value.grant();
}
