import { describe, expect, it } from 'vitest';
import { BoundedCache, memoise } from '../src/offline-memo.ts';

describe('BoundedCache', () => {
  it('keeps at most maxEntries, dropping the oldest first', () => {
    const cache = new BoundedCache<number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('a', 3);
    expect([cache.get('a'), cache.get('b')]).toEqual([3, 2]);
    cache.set('c', 4);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([undefined, 2, 4]);
  });
});

describe('memoise', () => {
  it('computes once per key while the key is remembered, and again after it was dropped', () => {
    const seen: string[] = [];
    const length = memoise((key: string) => {
      seen.push(key);
      return key.length;
    }, 2);
    expect([length('one'), length('three'), length('one')]).toEqual([3, 5, 3]);
    expect(seen).toEqual(['one', 'three']);
    length('four');
    expect(length('one')).toBe(3);
    expect(seen).toEqual(['one', 'three', 'four', 'one']);
  });
});
