import { describe, expect, it } from 'vitest';
import { AidocError, abortError, toAidocError } from '../src/index.ts';

describe('AidocError', () => {
  it('marks timeouts, rate limits and upstream failures retryable by default, nothing else', () => {
    expect(new AidocError('TIMEOUT', 'slow').retryable).toBe(true);
    expect(new AidocError('RATE_LIMITED', '429').retryable).toBe(true);
    expect(new AidocError('UPSTREAM_UNAVAILABLE', '503').retryable).toBe(true);
    expect(new AidocError('INVALID_INPUT', 'bad').retryable).toBe(false);
    expect(new AidocError('ABORTED', 'stop').retryable).toBe(false);
    expect(new AidocError('NOT_FOUND', 'nope', { retryable: true }).retryable).toBe(true);
  });

  it('is recognised across duplicate package copies through a registered symbol', () => {
    const foreign = Object.defineProperty(new Error('from another copy'), Symbol.for('@aidoc/core/AidocError'), {
      value: true,
    });
    expect(AidocError.isInstance(foreign)).toBe(true);
    expect(AidocError.isInstance(new Error('plain'))).toBe(false);
    expect(AidocError.isInstance(null)).toBe(false);
    expect(AidocError.isInstance('TIMEOUT')).toBe(false);
  });

  it('keeps the cause, Retry-After and details', () => {
    const cause = new Error('HTTP 429');
    const error = new AidocError('RATE_LIMITED', 'slow down', { cause, retryAfterMs: 1500, details: { pool: 'embedder' } });
    expect(error.cause).toBe(cause);
    expect(error.retryAfterMs).toBe(1500);
    expect(error.details).toEqual({ pool: 'embedder' });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('AidocError');
  });
});

describe('toAidocError', () => {
  it('passes AidocErrors through, maps aborts to ABORTED and the rest to INTERNAL', () => {
    const own = new AidocError('NOT_FOUND', 'x');
    expect(toAidocError(own)).toBe(own);
    const controller = new AbortController();
    controller.abort();
    expect(toAidocError(controller.signal.reason).code).toBe('ABORTED');
    const internal = toAidocError(new TypeError('boom'));
    expect(internal.code).toBe('INTERNAL');
    expect(internal.message).toBe('boom');
    expect(toAidocError('a string').code).toBe('INTERNAL');
  });

  it('abortError prefers an AidocError reason (so a timeout stays a TIMEOUT)', () => {
    const controller = new AbortController();
    const timeout = new AidocError('TIMEOUT', 'took too long');
    controller.abort(timeout);
    expect(abortError(controller.signal)).toBe(timeout);
    const plain = new AbortController();
    plain.abort();
    expect(abortError(plain.signal).code).toBe('ABORTED');
  });
});

describe('deadlines from AbortSignal.timeout', () => {
  it('map to TIMEOUT, not ABORTED', async () => {
    const signal = AbortSignal.timeout(1);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(abortError(signal).code).toBe('TIMEOUT');
    expect(toAidocError(signal.reason).code).toBe('TIMEOUT');
  });
});
