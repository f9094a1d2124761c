import type { Filter, FilterCondition, Payload } from '../contracts/vector-store.ts';
import { AidocError } from '../errors/aidoc-error.ts';

/**
 * Whether `payload` passes `filter` with the contract's semantics: every `must` holds, at least
 * one `should` holds when any are given, no `mustNot` holds; a condition on an array field holds
 * when any element matches; a missing or null field matches nothing.
 */
export function matchesFilter(payload: Payload, filter: Filter | undefined): boolean {
  if (filter === undefined) return true;
  const { must = [], should = [], mustNot = [] } = filter;
  return (
    must.every((condition) => conditionHolds(payload, condition)) &&
    (should.length === 0 || should.some((condition) => conditionHolds(payload, condition))) &&
    !mustNot.some((condition) => conditionHolds(payload, condition))
  );
}

/** Rejects (INVALID_INPUT) a filter outside the contract's language, as a store's server would. */
export function validateFilter(filter: unknown): void {
  if (filter === undefined) return;
  if (typeof filter !== 'object' || filter === null) throw invalid('a filter must be an object', filter);
  for (const clause of ['must', 'should', 'mustNot'] as const) {
    const conditions = (filter as Record<string, unknown>)[clause];
    if (conditions === undefined) continue;
    if (!Array.isArray(conditions)) throw invalid(`filter.${clause} must be an array`, conditions);
    for (const condition of conditions as unknown[]) validateCondition(condition);
  }
}

function validateCondition(condition: unknown): void {
  if (typeof condition !== 'object' || condition === null) throw invalid('a filter condition must be an object', condition);
  const { key, match, range } = condition as { key?: unknown; match?: unknown; range?: unknown };
  if (typeof key !== 'string' || key === '') throw invalid('a filter condition needs a non-empty `key`', condition);
  if ((match === undefined) === (range === undefined)) throw invalid('a filter condition has exactly one of `match` and `range`', condition);
  if (match !== undefined) {
    if (typeof match !== 'object' || match === null) throw invalid('`match` must be an object', condition);
    if ('value' in match) {
      const value: unknown = match.value;
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        throw invalid('`match.value` must be a string, number or boolean', condition);
      }
    } else if (!('any' in match) || !Array.isArray(match.any)) {
      throw invalid('`match` needs `value` or an `any` array', condition);
    }
    return;
  }
  if (typeof range !== 'object' || range === null) throw invalid('`range` must be an object', condition);
  for (const [bound, value] of Object.entries(range)) {
    if (!['gt', 'gte', 'lt', 'lte'].includes(bound) || typeof value !== 'number' || !Number.isFinite(value)) {
      throw invalid('`range` bounds are finite numbers named gt, gte, lt, lte', condition);
    }
  }
}

function conditionHolds(payload: Payload, condition: FilterCondition): boolean {
  const field = payload[condition.key];
  if (field === undefined || field === null) return false;
  const values: readonly (string | number | boolean)[] = Array.isArray(field) ? field : [field as string | number | boolean];
  if ('range' in condition) {
    const { gt, gte, lt, lte } = condition.range;
    return values.some(
      (value) =>
        typeof value === 'number' &&
        (gt === undefined || value > gt) &&
        (gte === undefined || value >= gte) &&
        (lt === undefined || value < lt) &&
        (lte === undefined || value <= lte),
    );
  }
  const { match } = condition;
  if ('value' in match) return values.some((value) => value === match.value);
  return values.some((value) => typeof value !== 'boolean' && match.any.includes(value));
}

function invalid(message: string, value: unknown): AidocError {
  return new AidocError('INVALID_INPUT', `Invalid filter: ${message}`, { details: { value: safeJson(value) } });
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
