import { expectDelay, expectOptionalFunction, invalidOption } from '../errors/validate-option.ts';

/**
 * One conformance check as a plain async function: it resolves when the adapter conforms and
 * throws (an `AssertionError` naming what is wrong) when it does not. The `testX` suites register
 * each as a vitest `it`; `runConformanceChecks` runs them anywhere, which is how the suites' own
 * tests prove a broken adapter fails.
 */
export interface ConformanceCheck {
  /** Stable, human-readable name; also the key of `skip`. */
  readonly name: string;
  /** Why the check does not apply (a capability the adapter lacks, a fixture not given). */
  readonly skipped?: string;
  /** Runs the check; `control` lets it skip itself when the instance lacks an optional capability. */
  run(control?: ConformanceRunControl): Promise<void>;
}

/** Handed to a running check by its runner (vitest's `context.skip`, or `runConformanceChecks`). */
export interface ConformanceRunControl {
  /** Ends the check as skipped, with the reason; throws, like vitest's `context.skip`. */
  skip(reason: string): never;
}

/** Skips the running check when a runner gave control; a check run bare simply ends (passes). */
export function skipCheck(control: ConformanceRunControl | undefined, reason: string): void {
  control?.skip(reason);
}

/** A check that threw. */
export interface ConformanceFailure {
  readonly name: string;
  readonly error: unknown;
}

/** Fixtures that make an adapter fail on purpose, so the suite can check how it reports failures. */
export interface ConformanceFaultFixtures<Adapter> {
  /**
   * An instance whose upstream answers every call with 429 and `Retry-After`; `retryAfterMs` is
   * what the adapter must report (undefined when the fixture sends no `Retry-After`).
   */
  readonly rateLimited?: { readonly create: () => Adapter | Promise<Adapter>; readonly retryAfterMs: number | undefined };
  /** An instance whose upstream answers every call with a 5xx (503). */
  readonly unavailable?: () => Adapter | Promise<Adapter>;
  /** An instance whose upstream accepts the request and never answers: aborting must still end the call. */
  readonly hanging?: () => Adapter | Promise<Adapter>;
}

/** Options every conformance suite takes. */
export interface ConformanceOptions<Adapter> {
  /** Names the suite: `Embedder conformance: ${name}`. */
  readonly name: string;
  /** A fresh adapter for each check (connected to a clean upstream where that matters). */
  readonly create: () => Adapter | Promise<Adapter>;
  /** Fault fixtures; each fault check runs only when its fixture is given. */
  readonly faults?: ConformanceFaultFixtures<Adapter>;
  /**
   * Counts the requests that reached the adapter's upstream (a loopback server's counter, a
   * mock's `calls`). When given, the suite also checks that an already-aborted call and an empty
   * batch send nothing.
   */
  readonly upstreamCalls?: (adapter: Adapter) => number;
  /**
   * How soon after `abort()` a call must reject ABORTED.
   * @default 200
   */
  readonly abortWithinMs?: number;
  /**
   * Checks to skip, by name, with the reason (reported as skipped tests). For an upstream that
   * cannot behave as checked; prefer fixing the adapter.
   */
  readonly skip?: Readonly<Record<string, string>>;
}

/** Throws a p-queue style `TypeError` naming the first invalid common option. */
export function validateConformanceOptions<Adapter>(options: ConformanceOptions<Adapter>): void {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options);
  if (typeof options.name !== 'string' || options.name === '') throw invalidOption('name', 'a non-empty string', options.name);
  if (typeof options.create !== 'function') throw invalidOption('create', 'a function', options.create);
  expectOptionalFunction('upstreamCalls', options.upstreamCalls);
  const { cleanup, additionalTests } = options as { cleanup?: unknown; additionalTests?: unknown };
  expectOptionalFunction('cleanup', cleanup);
  expectOptionalFunction('additionalTests', additionalTests);
  if (options.skip !== undefined && (typeof options.skip !== 'object' || options.skip === null)) throw invalidOption('skip', 'an object', options.skip);
  if (options.abortWithinMs !== undefined) expectDelay('abortWithinMs', options.abortWithinMs, true);
  const faults = options.faults;
  if (faults !== undefined) {
    if (typeof faults !== 'object' || faults === null) throw invalidOption('faults', 'an object', faults);
    const rateLimited = faults.rateLimited;
    if (rateLimited !== undefined && (typeof rateLimited !== 'object' || rateLimited === null || typeof rateLimited.create !== 'function')) {
      throw invalidOption('faults.rateLimited', 'an object with a `create` function', rateLimited);
    }
    expectOptionalFunction('faults.unavailable', faults.unavailable);
    expectOptionalFunction('faults.hanging', faults.hanging);
  }
}

/** Applies `skip` to a list of checks, and rejects names in `skip` that match no check (a typo would silently skip nothing). */
export function applySkips(checks: readonly ConformanceCheck[], skip: Readonly<Record<string, string>> | undefined): ConformanceCheck[] {
  if (skip === undefined) return [...checks];
  const names = new Set(checks.map((check) => check.name));
  for (const name of Object.keys(skip)) {
    if (!names.has(name)) throw invalidOption('skip', `names of checks (${[...names].join('; ')})`, name);
  }
  return checks.map((check) => {
    const reason = skip[check.name];
    return reason === undefined ? check : { name: check.name, skipped: reason, run: (control) => check.run(control) };
  });
}

/** Thrown by `runConformanceChecks`' `skip`, so a check that skips itself stops there. */
class ConformanceSkip extends Error {
  override readonly name = 'ConformanceSkip';
}

/**
 * Runs checks one after another and returns those that failed (skipped ones neither run nor
 * fail; a check that skips itself does not fail).
 *
 * @example
 * ```ts
 * const failures = await runConformanceChecks(embedderConformanceChecks({ name: 'broken', create: () => broken }));
 * expect(failures.map((failure) => failure.name)).toContain('preserves the order of texts');
 * ```
 */
export async function runConformanceChecks(checks: readonly ConformanceCheck[]): Promise<ConformanceFailure[]> {
  const failures: ConformanceFailure[] = [];
  const control: ConformanceRunControl = {
    skip: (reason) => {
      throw new ConformanceSkip(reason);
    },
  };
  for (const check of checks) {
    if (check.skipped !== undefined) continue;
    try {
      await check.run(control);
    } catch (error) {
      if (!(error instanceof ConformanceSkip)) failures.push({ name: check.name, error });
    }
  }
  return failures;
}

/** Creates an adapter, runs `fn` with it, then runs `cleanup` whatever happened. */
export async function withAdapter<Adapter, Result>(
  create: () => Adapter | Promise<Adapter>,
  cleanup: ((adapter: Adapter) => void | Promise<void>) | undefined,
  fn: (adapter: Adapter) => Promise<Result>,
): Promise<Result> {
  const adapter = await create();
  try {
    return await fn(adapter);
  } finally {
    await cleanup?.(adapter);
  }
}
