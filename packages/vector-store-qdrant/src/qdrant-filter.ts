import { AidocError, compileFilter, type Filter, type FilterCondition } from '@aidoc/core';
import type { Schemas } from '@qdrant/js-client-rest';

/**
 * Translates the contract's filter into Qdrant's: `{ must, should, mustNot }` become
 * `{ must, should, must_not }`, each condition `{ key, match: { value } }`,
 * `{ key, match: { any } }` or `{ key, range: { gt, gte, lt, lte } }`, which Qdrant evaluates
 * with the contract's semantics (any element of an array field; a missing or null field matches
 * no condition). Empty clauses are left out, so an empty filter becomes `{}` (every point).
 *
 * Two forms need care, because Qdrant's schema is narrower than the contract: `match.value` on
 * a non-integer number becomes the equivalent `range: { gte: v, lte: v }`; `match.any` must hold
 * only strings or only integers (Qdrant's rule), else INVALID_INPUT before any request.
 *
 * @throws AidocError INVALID_INPUT naming the faulty part (checked by core's `compileFilter`).
 */
export function toQdrantFilter(filter: Filter): Schemas['Filter'] {
  compileFilter(filter);
  const translated: Schemas['Filter'] = {};
  if (filter.must !== undefined && filter.must.length > 0) translated.must = filter.must.map((condition, index) => toQdrantCondition(condition, `must[${index}]`));
  if (filter.should !== undefined && filter.should.length > 0) translated.should = filter.should.map((condition, index) => toQdrantCondition(condition, `should[${index}]`));
  if (filter.mustNot !== undefined && filter.mustNot.length > 0) {
    translated.must_not = filter.mustNot.map((condition, index) => toQdrantCondition(condition, `mustNot[${index}]`));
  }
  return translated;
}

function toQdrantCondition(condition: FilterCondition, where: string): Schemas['FieldCondition'] {
  const { key } = condition;
  if ('range' in condition) {
    const { gt, gte, lt, lte } = condition.range;
    return { key, range: withoutUndefined({ gt, gte, lt, lte }) };
  }
  if ('value' in condition.match) {
    const { value } = condition.match;
    if (typeof value === 'number' && !Number.isInteger(value)) return { key, range: { gte: value, lte: value } };
    return { key, match: { value } };
  }
  // Qdrant refuses duplicates (`uniqueItems`) and mixed lists; the set's order is the caller's.
  const any = [...new Set(condition.match.any)];
  if (any.every((item) => typeof item === 'string')) return { key, match: { any } };
  if (any.every((item) => typeof item === 'number' && Number.isInteger(item))) return { key, match: { any } };
  throw new AidocError(
    'INVALID_INPUT',
    `Invalid filter for Qdrant: \`${where}.match.any\` must hold only strings or only integers (Qdrant's rule), got ${JSON.stringify(condition.match.any)}; split it into \`should\` conditions`,
    { details: { key } },
  );
}

function withoutUndefined<T extends Record<string, number | undefined>>(bounds: T): { [K in keyof T]?: number } {
  return Object.fromEntries(Object.entries(bounds).filter(([, bound]) => bound !== undefined)) as { [K in keyof T]?: number };
}
