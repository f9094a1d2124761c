import { AidocError } from '../src/errors/aidoc-error.ts';
import type { Filter, Payload } from '../src/contracts/vector-store.ts';
import { describe, expect, it } from 'vitest';
import { compileFilter, isEmptyFilter } from '../src/contracts/payload-filter.ts';

const payload: Payload = {
  source: 'a.md',
  year: 2021,
  current: true,
  tags: ['diabetes', 'renal'],
  scores: [1, 5, 9],
  empty: [],
  nothing: null,
};

const matches = (filter: Filter, target: Payload = payload): boolean => compileFilter(filter)(target);

describe('compileFilter', () => {
  it('match value: strict equality on scalars, any element of arrays', () => {
    expect(matches({ must: [{ key: 'source', match: { value: 'a.md' } }] })).toBe(true);
    expect(matches({ must: [{ key: 'year', match: { value: 2021 } }] })).toBe(true);
    expect(matches({ must: [{ key: 'year', match: { value: '2021' } }] })).toBe(false);
    expect(matches({ must: [{ key: 'current', match: { value: true } }] })).toBe(true);
    expect(matches({ must: [{ key: 'current', match: { value: 1 } }] })).toBe(false);
    expect(matches({ must: [{ key: 'tags', match: { value: 'renal' } }] })).toBe(true);
    expect(matches({ must: [{ key: 'scores', match: { value: 5 } }] })).toBe(true);
    expect(matches({ must: [{ key: 'empty', match: { value: 'x' } }] })).toBe(false);
  });

  it('match any: the value or any element is in the set', () => {
    expect(matches({ must: [{ key: 'source', match: { any: ['b.md', 'a.md'] } }] })).toBe(true);
    expect(matches({ must: [{ key: 'tags', match: { any: ['oncology', 'renal'] } }] })).toBe(true);
    expect(matches({ must: [{ key: 'tags', match: { any: ['oncology'] } }] })).toBe(false);
    expect(matches({ must: [{ key: 'year', match: { any: [2020, 2021] } }] })).toBe(true);
    expect(matches({ must: [{ key: 'year', match: { any: [] } }] })).toBe(false);
  });

  it('range: every given bound holds, on numbers only; arrays match when any element does', () => {
    expect(matches({ must: [{ key: 'year', range: { gte: 2021, lt: 2022 } }] })).toBe(true);
    expect(matches({ must: [{ key: 'year', range: { gt: 2021 } }] })).toBe(false);
    expect(matches({ must: [{ key: 'year', range: { lte: 2021 } }] })).toBe(true);
    expect(matches({ must: [{ key: 'scores', range: { gt: 6, lt: 10 } }] })).toBe(true);
    expect(matches({ must: [{ key: 'scores', range: { gt: 9 } }] })).toBe(false);
    expect(matches({ must: [{ key: 'source', range: { gte: 0 } }] })).toBe(false);
  });

  it('missing and null fields match no condition (so mustNot on them holds)', () => {
    for (const key of ['missing', 'nothing']) {
      expect(matches({ must: [{ key, match: { value: 'x' } }] })).toBe(false);
      expect(matches({ must: [{ key, range: { gte: 0 } }] })).toBe(false);
      expect(matches({ mustNot: [{ key, match: { any: ['x'] } }] })).toBe(true);
    }
    expect(matches({ must: [{ key: 'constructor', match: { value: 'x' } }] }, {})).toBe(false);
  });

  it('combines must (all), should (at least one when given) and mustNot (none)', () => {
    const year = (value: number) => ({ key: 'year', match: { value } });
    expect(matches({})).toBe(true);
    expect(matches({ must: [], should: [], mustNot: [] })).toBe(true);
    expect(matches({ must: [year(2021), { key: 'current', match: { value: true } }] })).toBe(true);
    expect(matches({ must: [year(2021), year(2020)] })).toBe(false);
    expect(matches({ should: [year(2020), year(2021)] })).toBe(true);
    expect(matches({ should: [year(2020), year(2019)] })).toBe(false);
    expect(matches({ mustNot: [year(2020)] })).toBe(true);
    expect(matches({ mustNot: [year(2020), year(2021)] })).toBe(false);
    expect(matches({ must: [year(2021)], should: [year(2019)] })).toBe(false);
    expect(matches({ must: [year(2021)], should: [year(2019), year(2021)], mustNot: [{ key: 'tags', match: { value: 'x' } }] })).toBe(true);
  });

  it('rejects malformed filters with INVALID_INPUT naming the part', () => {
    const cases: [unknown, RegExp][] = [
      [null, /the filter/],
      [{ must: {} }, /`must`/],
      [{ must: [null] }, /`must\[0\]`/],
      [{ should: [{ match: { value: 1 } }] }, /`should\[0\]\.key`/],
      [{ must: [{ key: 'a' }] }, /exactly one of `match` and `range`/],
      [{ must: [{ key: 'a', match: { value: 1 }, range: { gt: 1 } }] }, /exactly one/],
      [{ must: [{ key: 'a', match: { value: 1, any: [1] } }] }, /`must\[0\]\.match`/],
      [{ must: [{ key: 'a', match: { value: null } }] }, /match\.value/],
      [{ must: [{ key: 'a', match: { value: Number.NaN } }] }, /match\.value/],
      [{ must: [{ key: 'a', match: { any: [true] } }] }, /match\.any/],
      [{ mustNot: [{ key: 'a', range: { gt: '1' } }] }, /`mustNot\[0\]\.range\.gt`/],
      [{ must: [{ key: 'a', range: {} }] }, /range/],
    ];
    for (const [filter, message] of cases) {
      let caught: unknown;
      try {
        compileFilter(filter);
      } catch (error) {
        caught = error;
      }
      expect(AidocError.hasCode(caught, 'INVALID_INPUT'), `filter ${JSON.stringify(filter)}`).toBe(true);
      expect((caught as Error).message).toMatch(message);
    }
  });

  it('isEmptyFilter: absent or without conditions', () => {
    expect(isEmptyFilter(undefined)).toBe(true);
    expect(isEmptyFilter({ must: [] })).toBe(true);
    expect(isEmptyFilter({ mustNot: [{ key: 'a', match: { value: 1 } }] })).toBe(false);
  });
});
