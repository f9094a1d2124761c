import { AidocError } from '../errors/aidoc-error.ts';
import { expectDelay, expectOptionalFunction, invalidOption } from '../errors/validate-option.ts';

/**
 * One injected failure. `'rate-limited'` rejects RATE_LIMITED (a 429, with the configured
 * `retryAfterMs`), `'unavailable'` rejects UPSTREAM_UNAVAILABLE (a 503), `'hang'` never answers
 * until the call's signal fires, and an `AidocError` is thrown as is.
 */
export type SimulatedFault = 'rate-limited' | 'unavailable' | 'hang' | AidocError;

/** What a fault script learns about the call it decides on. */
export interface SimulatedCallContext<Method extends string = string, Input = unknown> {
  /** 0-based arrival order among this mock's calls that reached its simulated upstream. */
  readonly index: number;
  readonly method: Method;
  readonly input: Input;
}

/** Decides each call's fault exactly: return undefined to let the call through. */
export type FaultScript<Method extends string = string, Input = unknown> = (
  call: SimulatedCallContext<Method, Input>,
) => SimulatedFault | undefined;

/**
 * Random failures at given rates, for soak tests and benchmarks of retry. Each call draws once:
 * rate limits take the first `rateLimitRate` of `[0, 1)`, then `unavailableRate`, then `hangRate`.
 */
export interface SimulatedFaultRates {
  /**
   * Fraction of calls (0 to 1) that fail RATE_LIMITED.
   * @default 0
   */
  readonly rateLimitRate?: number;
  /**
   * The `retryAfterMs` rate-limited calls carry, as an upstream's `Retry-After` would.
   * @default undefined (no Retry-After)
   */
  readonly retryAfterMs?: number;
  /**
   * Fraction of calls (0 to 1) that fail UPSTREAM_UNAVAILABLE, as a 5xx would.
   * @default 0
   */
  readonly unavailableRate?: number;
  /**
   * Fraction of calls (0 to 1) that never answer until their signal fires: what a timeout and
   * abort must rescue.
   * @default 0
   */
  readonly hangRate?: number;
  /**
   * Source of the draws in `[0, 1)`; pass a seeded generator so a run fails the same calls.
   * @default Math.random
   */
  readonly random?: () => number;
}

/** Fault options of every mock: rates, or a script deciding each call. */
export type SimulatedFaults<Method extends string = string, Input = unknown> =
  | SimulatedFaultRates
  | FaultScript<Method, Input>;

const RATES = ['rateLimitRate', 'unavailableRate', 'hangRate'] as const;

/** Throws a p-queue style `TypeError` naming the first invalid field of `faults`. */
export function validateFaults(name: string, faults: unknown): void {
  if (faults === undefined || typeof faults === 'function') return;
  if (typeof faults !== 'object' || faults === null) throw invalidOption(name, 'an object or a function', faults);
  const rates = faults as SimulatedFaultRates;
  let total = 0;
  for (const rate of RATES) {
    const value = rates[rate];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw invalidOption(`${name}.${rate}`, 'a number from 0 to 1', value);
    total += value;
  }
  if (total > 1) throw invalidOption(`${name} rates`, 'at most 1 in total', total);
  if (rates.retryAfterMs !== undefined) expectDelay(`${name}.retryAfterMs`, rates.retryAfterMs);
  expectOptionalFunction(`${name}.random`, rates.random);
}

/** Checks a fault given to `failNext`. */
export function validateFault(name: string, fault: unknown): void {
  if (fault === 'rate-limited' || fault === 'unavailable' || fault === 'hang' || AidocError.isInstance(fault)) return;
  throw invalidOption(name, "'rate-limited', 'unavailable', 'hang' or an AidocError", fault);
}

/**
 * Decides the fault of each call: first the queue filled by `failNext`, then the script or the
 * rates. Shared by every mock so they fail alike.
 */
export class FaultPlan<Method extends string, Input> {
  readonly #faults: SimulatedFaults<Method, Input> | undefined;
  readonly #queue: SimulatedFault[] = [];

  constructor(faults: SimulatedFaults<Method, Input> | undefined) {
    this.#faults = faults;
  }

  /** Queues `fault` for the next `times` calls that reach the upstream. */
  failNext(fault: SimulatedFault, times: number): void {
    for (let count = 0; count < times; count++) this.#queue.push(fault);
  }

  /** Forgets queued faults. */
  clear(): void {
    this.#queue.length = 0;
  }

  decide(call: SimulatedCallContext<Method, Input>): SimulatedFault | undefined {
    const queued = this.#queue.shift();
    if (queued !== undefined) return queued;
    const faults = this.#faults;
    if (faults === undefined) return undefined;
    if (typeof faults === 'function') return faults(call);
    const rateLimitRate = faults.rateLimitRate ?? 0;
    const unavailableRate = faults.unavailableRate ?? 0;
    const hangRate = faults.hangRate ?? 0;
    if (rateLimitRate + unavailableRate + hangRate === 0) return undefined;
    const draw = (faults.random ?? Math.random)();
    if (draw < rateLimitRate) return 'rate-limited';
    if (draw < rateLimitRate + unavailableRate) return 'unavailable';
    if (draw < rateLimitRate + unavailableRate + hangRate) return 'hang';
    return undefined;
  }

  /** The `retryAfterMs` that `'rate-limited'` faults carry. */
  get retryAfterMs(): number | undefined {
    const faults = this.#faults;
    return typeof faults === 'object' ? faults.retryAfterMs : undefined;
  }
}

/** The error of a simulated 429. */
export function rateLimitedError(mock: string, method: string, retryAfterMs: number | undefined): AidocError {
  return new AidocError('RATE_LIMITED', `${mock}.${method}: rate limited (simulated 429)`, {
    retryAfterMs,
    details: { simulated: true, status: 429 },
  });
}

/** The error of a simulated 503. */
export function unavailableError(mock: string, method: string): AidocError {
  return new AidocError('UPSTREAM_UNAVAILABLE', `${mock}.${method}: upstream unavailable (simulated 503)`, {
    details: { simulated: true, status: 503 },
  });
}
