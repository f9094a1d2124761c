import { describe, expect, it, vi } from 'vitest';
import { TtlCache } from '../src/executor/ttl-cache.ts';

function clock(start = 0): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

describe('TtlCache', () => {
  it('stores, reads, deletes and clears', () => {
    const cache = new TtlCache<string, number>({ maxEntries: 10, ttlMs: 1000 });
    expect(cache.set('a', 1)).toBe(cache);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1);
    expect(cache.has('b')).toBe(true);
    expect(cache.get('missing')).toBeUndefined();
    expect(cache.size).toBe(2);
    expect(cache.delete('a')).toBe(true);
    expect(cache.delete('a')).toBe(false);
    expect(cache.has('a')).toBe(false);
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it('expires an entry ttlMs after it was set, checked on read', () => {
    const time = clock();
    const cache = new TtlCache<string, string>({ maxEntries: 10, ttlMs: 100, now: time.now });
    cache.set('patient:1', 'record');
    time.advance(99);
    expect(cache.get('patient:1')).toBe('record');
    expect(cache.has('patient:1')).toBe(true);
    time.advance(1);
    expect(cache.size).toBe(1);
    expect(cache.has('patient:1')).toBe(false);
    expect(cache.get('patient:1')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('does not extend the expiry on reads, only on set', () => {
    const time = clock();
    const cache = new TtlCache<string, string>({ maxEntries: 10, ttlMs: 100, now: time.now });
    cache.set('k', 'v1');
    time.advance(80);
    expect(cache.get('k')).toBe('v1');
    time.advance(20);
    expect(cache.get('k')).toBeUndefined();
    cache.set('k', 'v2');
    time.advance(99);
    expect(cache.get('k')).toBe('v2');
  });

  it('evicts the least recently used entry when full', () => {
    const cache = new TtlCache<string, number>({ maxEntries: 2, ttlMs: 1000 });
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // `a` is now the most recently used
    cache.set('c', 3);
    expect(cache.has('b')).toBe(false);
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
    expect(cache.size).toBe(2);
  });

  it('does not count has() as a use, and re-setting a key moves it without evicting', () => {
    const cache = new TtlCache<string, number>({ maxEntries: 2, ttlMs: 1000 });
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.has('a')).toBe(true);
    cache.set('c', 3);
    expect(cache.has('a')).toBe(false);

    cache.set('b', 20);
    expect(cache.size).toBe(2);
    cache.set('d', 4);
    expect(cache.get('b')).toBe(20);
    expect(cache.has('c')).toBe(false);
  });

  it('keeps entries forever with ttlMs Infinity and schedules no timers', () => {
    vi.useFakeTimers();
    try {
      const time = clock();
      const cache = new TtlCache<number, number>({ maxEntries: 1000, ttlMs: Infinity, now: time.now });
      for (let key = 0; key < 1000; key++) cache.set(key, key);
      time.advance(Number.MAX_SAFE_INTEGER);
      expect(cache.get(0)).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('validates its options p-queue style', () => {
    expect(() => new TtlCache({ maxEntries: 0, ttlMs: 1 })).toThrow(
      new TypeError('Expected `maxEntries` to be a positive integer, got `0` (number)'),
    );
    expect(() => new TtlCache({ maxEntries: 1, ttlMs: 0 })).toThrow(
      new TypeError('Expected `ttlMs` to be a positive number of milliseconds or Infinity, got `0` (number)'),
    );
    expect(() => new TtlCache({ maxEntries: 1, ttlMs: Number.NaN })).toThrow(TypeError);
  });
});
