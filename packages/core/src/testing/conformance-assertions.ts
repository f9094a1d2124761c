import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { AidocError, type AidocErrorCode } from '../errors/aidoc-error.ts';

/**
 * Assertions shared by the conformance suites. They throw `AssertionError`s (node:assert), so the
 * checks run under any test runner, and never wait forever: a call that should have settled is
 * given a deadline and reported.
 */

/** Outcome of a promise raced against a deadline. */
export type Settlement<T> =
  | { readonly state: 'resolved'; readonly value: T; readonly elapsedMs: number }
  | { readonly state: 'rejected'; readonly error: unknown; readonly elapsedMs: number }
  | { readonly state: 'pending'; readonly elapsedMs: number };

/** Waits for `promise` at most `ms`; never rejects. The timer is cleared either way. */
export async function settleWithin<T>(promise: Promise<T>, ms: number): Promise<Settlement<T>> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'pending'>((resolve) => {
    timer = setTimeout(() => resolve('pending'), ms);
  });
  try {
    const outcome = await Promise.race([
      promise.then(
        (value) => ({ state: 'resolved' as const, value }),
        (error: unknown) => ({ state: 'rejected' as const, error }),
      ),
      deadline,
    ]);
    const elapsedMs = performance.now() - started;
    return outcome === 'pending' ? { state: 'pending', elapsedMs } : { ...outcome, elapsedMs };
  } finally {
    clearTimeout(timer);
  }
}

/** Describes a thrown value for a failure message. */
export function describeError(error: unknown): string {
  if (AidocError.isInstance(error)) return `AidocError ${error.code}: ${error.message}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/**
 * Asserts that `promise` rejects, within `withinMs`, with an AidocError of `code` (checked by
 * `AidocError.isInstance`, so a duplicate copy of core passes), and returns that error.
 */
export async function expectAidocError(promise: Promise<unknown>, code: AidocErrorCode, what: string, withinMs = 30_000): Promise<AidocError> {
  const settled = await settleWithin(promise, withinMs);
  if (settled.state === 'pending') assert.fail(`${what}: expected to reject with ${code}, still pending after ${withinMs} ms`);
  if (settled.state === 'resolved') assert.fail(`${what}: expected to reject with ${code}, resolved instead`);
  const { error } = settled;
  if (!AidocError.isInstance(error)) assert.fail(`${what}: expected an AidocError ${code}, got ${describeError(error)} (every failure must be an AidocError)`);
  if (error.code !== code) assert.fail(`${what}: expected code ${code}, got ${describeError(error)}`);
  return error;
}

/** Asserts that `signal` carries no abort listener: the adapter removed what it added. */
export function expectNoAbortListeners(signal: AbortSignal, what: string): void {
  const count = getEventListeners(signal, 'abort').length;
  assert.equal(count, 0, `${what}: left ${count} abort listener(s) on the caller's signal (remove them when the call settles)`);
}

/** Asserts that every element is a finite number. */
export function expectFiniteNumbers(values: ArrayLike<unknown>, what: string): void {
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    if (typeof value !== 'number' || !Number.isFinite(value)) assert.fail(`${what}: element ${index} is ${String(value)}, not a finite number`);
  }
}
