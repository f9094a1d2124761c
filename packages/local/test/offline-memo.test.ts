import { describe, expect, it } from 'vitest';
import { BoundedCache, memoise, memoiseText } from '../src/offline-memo.ts';

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

describe('memoiseText', () => {
  it('computes once per text, recognising an equal text in a new string', () => {
    const seen: string[] = [];
    const read = memoiseText((text: string) => {
      seen.push(text);
      return text.toUpperCase();
    }, 8);
    const passage = 'Halve the metformin dose when eGFR is 30–44. '.repeat(40);
    expect(read(passage)).toBe(passage.toUpperCase());
    expect(read([...passage].join(''))).toBe(passage.toUpperCase());
    expect(seen).toHaveLength(1);
  });

  it('never answers for a different text with the same fingerprint', () => {
    // Same length, and the characters the fingerprint samples (every 32nd of 1,024) agree.
    const first = 'a'.repeat(1024);
    const second = `${'a'.repeat(500)}b${'a'.repeat(523)}`;
    const read = memoiseText((text: string) => text.indexOf('b'), 8);
    expect([read(first), read(second), read(first)]).toEqual([-1, 500, -1]);
  });

  it('keeps at most maxEntries, dropping the oldest first', () => {
    let computed = 0;
    const read = memoiseText((text: string) => {
      computed++;
      return text.length;
    }, 2);
    read('one');
    read('three');
    read('four');
    read('three');
    expect(computed).toBe(3);
    read('one');
    expect(computed).toBe(4);
  });
});
