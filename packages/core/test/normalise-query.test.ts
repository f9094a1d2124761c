import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normaliseQuery } from '../src/agent/guideline-search.ts';

/** The definition the fast path must agree with. */
const reference = (query: string) => query.trim().replace(/\s+/g, ' ').toLowerCase();

describe('normaliseQuery', () => {
  it('folds case and spacing', () => {
    expect(normaliseQuery('  Metformin   dose\tin CKD ')).toBe('metformin dose in ckd');
    expect(normaliseQuery('metformin dose in ckd stage 3b')).toBe('metformin dose in ckd stage 3b');
    for (const query of ['', ' ', 'a  b', ' a', 'a ', 'Ab', 'a\nb', 'Érythème', 'ß', 'a\u00a0b']) expect(normaliseQuery(query)).toBe(reference(query));
  });

  it('agrees with the regex definition on any text', () => {
    const characters = fc.constantFrom('a', 'Z', ' ', '  ', '\t', '\n', '\u00a0', 'É', 'é', '3', '-', '\u2028', 'İ');
    fc.assert(fc.property(fc.array(characters, { maxLength: 12 }).map((parts) => parts.join('')), (query) => normaliseQuery(query) === reference(query)));
    fc.assert(fc.property(fc.string(), (query) => normaliseQuery(query) === reference(query)));
  });
});
