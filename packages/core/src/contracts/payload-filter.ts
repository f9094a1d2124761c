import { AidocError } from '../errors/aidoc-error.ts';
import type { Filter, Payload, PayloadValue } from './vector-store.ts';

/** A compiled filter: true when the payload matches. */
export type PayloadPredicate = (payload: Payload) => boolean;

type ScalarPredicate = (value: string | number | boolean) => boolean;

/**
 * Checks a filter's shape and compiles it into a predicate with the contract's semantics: every
 * `must` condition holds, at least one `should` holds (when any are given), no `mustNot` holds;
 * a condition on an array field holds when any element matches; a missing or null field matches
 * no condition. Throws INVALID_INPUT naming the faulty part.
 */
export function compileFilter(filter: unknown): PayloadPredicate {
  if (!isRecord(filter)) throw invalidFilter('the filter', 'an object', filter);
  const must = compileClauses(filter, 'must');
  const should = compileClauses(filter, 'should');
  const mustNot = compileClauses(filter, 'mustNot');
  return (payload) =>
    must.every((condition) => condition(payload)) &&
    (should.length === 0 || should.some((condition) => condition(payload))) &&
    !mustNot.some((condition) => condition(payload));
}

/** True when `filter` is absent or has no conditions (it matches every point). */
export function isEmptyFilter(filter: Filter | undefined): boolean {
  return filter === undefined || ((filter.must?.length ?? 0) === 0 && (filter.should?.length ?? 0) === 0 && (filter.mustNot?.length ?? 0) === 0);
}

function compileClauses(filter: Record<string, unknown>, clause: keyof Filter): PayloadPredicate[] {
  const conditions = filter[clause];
  if (conditions === undefined) return [];
  if (!Array.isArray(conditions)) throw invalidFilter(`\`${clause}\``, 'an array of conditions', conditions);
  return conditions.map((condition: unknown, index) => compileCondition(condition, `${clause}[${index}]`));
}

function compileCondition(condition: unknown, where: string): PayloadPredicate {
  if (!isRecord(condition)) throw invalidFilter(`\`${where}\``, 'a condition object', condition);
  const { key } = condition;
  if (typeof key !== 'string' || key === '') throw invalidFilter(`\`${where}.key\``, 'a non-empty string', key);
  const matches = compileScalarPredicate(condition, where);
  return (payload) => {
    const value: PayloadValue | undefined = Object.hasOwn(payload, key) ? payload[key] : undefined;
    if (value === undefined || value === null) return false;
    if (Array.isArray(value)) return (value as readonly (string | number)[]).some(matches);
    return matches(value as string | number | boolean);
  };
}

function compileScalarPredicate(condition: Record<string, unknown>, where: string): ScalarPredicate {
  const hasMatch = 'match' in condition;
  const hasRange = 'range' in condition;
  if (hasMatch === hasRange) throw invalidFilter(`\`${where}\``, 'a condition with exactly one of `match` and `range`', condition);
  if (hasMatch) {
    const { match } = condition;
    if (isRecord(match) && 'value' in match && !('any' in match)) {
      const expected = match.value;
      if (typeof expected !== 'string' && typeof expected !== 'boolean' && !isFiniteNumber(expected)) {
        throw invalidFilter(`\`${where}.match.value\``, 'a string, a finite number or a boolean', expected);
      }
      return (value) => value === expected;
    }
    if (isRecord(match) && 'any' in match && !('value' in match)) {
      const { any } = match;
      if (!Array.isArray(any) || !any.every((item) => typeof item === 'string' || isFiniteNumber(item))) {
        throw invalidFilter(`\`${where}.match.any\``, 'an array of strings and finite numbers', any);
      }
      const accepted = new Set<unknown>(any);
      return (value) => accepted.has(value);
    }
    throw invalidFilter(`\`${where}.match\``, 'either `{ value }` or `{ any }`', match);
  }
  const { range } = condition;
  if (!isRecord(range)) throw invalidFilter(`\`${where}.range\``, 'an object with `gt`, `gte`, `lt` or `lte`', range);
  const bounds = { gt: range.gt, gte: range.gte, lt: range.lt, lte: range.lte };
  for (const [name, bound] of Object.entries(bounds)) {
    if (bound !== undefined && !isFiniteNumber(bound)) throw invalidFilter(`\`${where}.range.${name}\``, 'a finite number', bound);
  }
  const { gt, gte, lt, lte } = bounds as { gt?: number; gte?: number; lt?: number; lte?: number };
  if (gt === undefined && gte === undefined && lt === undefined && lte === undefined) {
    throw invalidFilter(`\`${where}.range\``, 'an object with `gt`, `gte`, `lt` or `lte`', range);
  }
  return (value) =>
    typeof value === 'number' &&
    (gt === undefined || value > gt) &&
    (gte === undefined || value >= gte) &&
    (lt === undefined || value < lt) &&
    (lte === undefined || value <= lte);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function invalidFilter(what: string, expected: string, value: unknown): AidocError {
  let shown: string;
  try {
    shown = JSON.stringify(value) ?? String(value);
  } catch {
    shown = String(value);
  }
  return new AidocError('INVALID_INPUT', `Invalid filter: expected ${what} to be ${expected}, got ${shown}`);
}

/**
 * Whether `payload` passes `filter` (undefined passes everything). Compiles the filter on each
 * call; stores that test many points compile once with `compileFilter`.
 */
export function matchesFilter(payload: Payload, filter: Filter | undefined): boolean {
  return filter === undefined || compileFilter(filter)(payload);
}
