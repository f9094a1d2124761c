import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { estimateTokens } from '../src/contracts/estimate-tokens.ts';

/** The definition: a third of the characters or the whitespace-separated runs, whichever is more, plus one. */
function reference(text: string): number {
  let words = 0;
  let previous = ' ';
  for (const character of text) {
    if (character > ' ' && previous <= ' ') words++;
    previous = character;
  }
  return Math.max(Math.ceil(text.length / 3), words) + 1;
}

// Any UTF-16 code unit, lone surrogates included, with plenty of whitespace and control characters.
const codeUnit = fc.oneof(
  fc.integer({ min: 0, max: 0x20 }),
  fc.integer({ min: 0x21, max: 0x7f }),
  fc.integer({ min: 0x80, max: 0xffff }),
).map((code) => String.fromCharCode(code));

describe('estimateTokens', () => {
  it('matches its definition on any text (ASCII, multi-byte, surrogates, control characters)', () => {
    fc.assert(fc.property(fc.string({ unit: codeUnit, maxLength: 400 }), (text) => estimateTokens(text) === reference(text)), { numRuns: 2_000 });
  });

  it('counts texts longer than its scratch space the same way', () => {
    const long = 'metformin 500 mg\ttwice daily; eGFR 42 → review.\n'.repeat(5_000);
    expect(long.length * 3).toBeGreaterThan(3 * 65_536);
    expect(estimateTokens(long)).toBe(reference(long));
    expect(estimateTokens(long.slice(0, 60_000))).toBe(reference(long.slice(0, 60_000)));
  });

  it('errs high: never below a third of the characters, and dense numbers count per word', () => {
    expect(estimateTokens('')).toBe(1);
    expect(estimateTokens('a b c d e f')).toBe(7);
    expect(estimateTokens('x'.repeat(300))).toBe(101);
  });
});
