import assert from 'node:assert/strict';
import { expectAidocError, expectNoAbortListeners, settleWithin } from './conformance-assertions.ts';
import { withAdapter, type ConformanceCheck, type ConformanceOptions } from './conformance-check.ts';

/** The call the fault checks make, and how to clean up after it. */
export interface FaultCheckTarget<Adapter> {
  /** Names the call in check names: `embed`, `query`, `getById`, `generate`. */
  readonly label: string;
  /** One representative call; it may resolve or reject on a healthy instance. */
  readonly invoke: (adapter: Adapter, signal: AbortSignal) => Promise<unknown>;
  readonly cleanup?: (adapter: Adapter) => void | Promise<void>;
}

/** How long a call is left in flight on the hanging fixture before the check aborts it. */
const IN_FLIGHT_MS = 50;

/**
 * The checks every adapter passes the same way, whatever it does: abort (already fired, and
 * mid-call on a hanging upstream), listener hygiene, rate limits and unavailability, each
 * rejection an AidocError.
 */
export function faultChecks<Adapter>(options: ConformanceOptions<Adapter>, target: FaultCheckTarget<Adapter>): ConformanceCheck[] {
  const withinMs = options.abortWithinMs ?? 200;
  const { label, invoke, cleanup } = target;
  const faults = options.faults ?? {};
  const checks: ConformanceCheck[] = [
    {
      name: `${label} with an already-aborted signal rejects ABORTED without reaching the upstream`,
      run: () =>
        withAdapter(options.create, cleanup, async (adapter) => {
          const before = options.upstreamCalls?.(adapter);
          const controller = new AbortController();
          controller.abort();
          await expectAidocError(invoke(adapter, controller.signal), 'ABORTED', `${label} with an aborted signal`, withinMs);
          if (before !== undefined) {
            assert.equal(options.upstreamCalls?.(adapter), before, `${label} with an aborted signal still sent a request upstream`);
          }
        }),
    },
    {
      name: `${label} leaves no abort listener on the caller's signal`,
      run: () =>
        withAdapter(options.create, cleanup, async (adapter) => {
          const controller = new AbortController();
          await invoke(adapter, controller.signal).catch(() => undefined);
          expectNoAbortListeners(controller.signal, label);
        }),
    },
  ];

  const hanging = faults.hanging;
  checks.push({
    name: `${label} aborted mid-call rejects ABORTED promptly`,
    skipped: hanging === undefined ? 'no `faults.hanging` fixture' : undefined,
    run: () =>
      withAdapter(hanging ?? options.create, cleanup, async (adapter) => {
        const controller = new AbortController();
        const call = invoke(adapter, controller.signal);
        const early = await settleWithin(call, IN_FLIGHT_MS);
        if (early.state !== 'pending') assert.fail(`${label} on the hanging fixture settled (${early.state}) before it was aborted; the fixture must hold the call open`);
        controller.abort();
        const error = await expectAidocError(call, 'ABORTED', `${label} aborted mid-call`, withinMs);
        assert.ok(error.retryable === false, `${label} aborted mid-call: ABORTED must not be retryable`);
        expectNoAbortListeners(controller.signal, `${label} aborted mid-call`);
      }),
  });

  const rateLimited = faults.rateLimited;
  checks.push({
    name: `${label} rate limited rejects RATE_LIMITED, retryable, with retryAfterMs`,
    skipped: rateLimited === undefined ? 'no `faults.rateLimited` fixture' : undefined,
    run: () =>
      withAdapter(rateLimited?.create ?? options.create, cleanup, async (adapter) => {
        const error = await expectAidocError(invoke(adapter, new AbortController().signal), 'RATE_LIMITED', `${label} on a 429`);
        assert.equal(error.retryable, true, `${label} on a 429: RATE_LIMITED must be retryable`);
        assert.equal(error.retryAfterMs, rateLimited?.retryAfterMs, `${label} on a 429: retryAfterMs must carry the upstream's Retry-After`);
      }),
  });

  const unavailable = faults.unavailable;
  checks.push({
    name: `${label} on an unavailable upstream rejects UPSTREAM_UNAVAILABLE, retryable`,
    skipped: unavailable === undefined ? 'no `faults.unavailable` fixture' : undefined,
    run: () =>
      withAdapter(unavailable ?? options.create, cleanup, async (adapter) => {
        const error = await expectAidocError(invoke(adapter, new AbortController().signal), 'UPSTREAM_UNAVAILABLE', `${label} on a 503`);
        assert.equal(error.retryable, true, `${label} on a 503: UPSTREAM_UNAVAILABLE must be retryable`);
      }),
  });
  return checks;
}
