import { describe, expect, it } from 'vitest';
import { memoiseText } from '../src/index.ts';

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
