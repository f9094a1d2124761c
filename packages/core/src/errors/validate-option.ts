/**
 * Option checks shared by the engine (executor primitives, monitor, trace reports). A bad option is a programming error, so it
 * throws a `TypeError` in the p-queue style, naming the option, the expectation and the value:
 * "Expected `concurrency` to be a positive integer, got `0` (number)".
 */

/** Node clamps longer `setTimeout` delays to 1 ms, so no timer-backed option may exceed this. */
export const MAX_TIMER_DELAY_MS = 2_147_483_647;

export function invalidOption(name: string, expected: string, value: unknown): TypeError {
  return new TypeError(`Expected \`${name}\` to be ${expected}, got \`${describe(value)}\` (${typeof value})`);
}

export function expectPositiveInteger(name: string, value: unknown, allowInfinity = false): void {
  const valid =
    typeof value === 'number' && value >= 1 && (Number.isInteger(value) || (allowInfinity && value === Infinity));
  if (!valid) throw invalidOption(name, allowInfinity ? 'a positive integer or Infinity' : 'a positive integer', value);
}

export function expectInteger(name: string, value: unknown, minimum: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum) {
    throw invalidOption(name, `an integer >= ${minimum}`, value);
  }
}

/** A delay usable with `setTimeout`: finite, `>= 0` (or `> 0` when `positive`) and within Node's timer range. */
export function expectDelay(name: string, value: unknown, positive = false): void {
  const error = invalidDelay(name, value, positive);
  if (error !== undefined) throw error;
}

/** The `TypeError` `expectDelay` would throw, or undefined; for functions that reject instead. */
export function invalidDelay(name: string, value: unknown, positive = false): TypeError | undefined {
  const valid = typeof value === 'number' && (positive ? value > 0 : value >= 0) && value <= MAX_TIMER_DELAY_MS;
  if (valid) return undefined;
  return invalidOption(name, `a ${positive ? 'positive' : 'non-negative'} number of milliseconds up to ${MAX_TIMER_DELAY_MS}`, value);
}

export function expectOptionalFunction(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') throw invalidOption(name, 'a function', value);
}

function describe(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
