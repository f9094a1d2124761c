import { AidocError, compileFilter, type Filter, type FilterCondition, type PayloadPredicate } from '@aidoc/core';
import { notImplemented, wrongInput } from './qdrant-loopback-http-error.ts';

/**
 * Compiles a Qdrant filter (already checked against the OpenAPI schema) into a predicate with
 * the contract's semantics: it is translated back into the contract's `Filter` and compiled by
 * core's `compileFilter`, the reference semantics of the filter language. Conditions outside that
 * language (nested filters, `is_empty`, `has_id`, geo, text match, `min_should`, ...) are valid
 * Qdrant the loopback server does not implement: 501.
 */
export function compileQdrantFilter(filter: unknown): PayloadPredicate | undefined {
  if (filter === undefined || filter === null) return undefined;
  const contractFilter = toContractFilter(filter);
  try {
    return compileFilter(contractFilter);
  } catch (error) {
    if (AidocError.hasCode(error, 'INVALID_INPUT')) throw wrongInput(error.message);
    throw error;
  }
}

function toContractFilter(filter: unknown): Filter {
  if (!isRecord(filter)) throw wrongInput('a filter must be an object');
  if (filter.min_should !== undefined && filter.min_should !== null) throw notImplemented('`min_should` in filters');
  return {
    must: clause(filter.must, 'must'),
    should: clause(filter.should, 'should'),
    mustNot: clause(filter.must_not, 'must_not'),
  };
}

/** A clause is one condition, a list of them, or null (Qdrant accepts all three). */
function clause(conditions: unknown, name: string): FilterCondition[] | undefined {
  if (conditions === undefined || conditions === null) return undefined;
  const list: unknown[] = Array.isArray(conditions) ? conditions : [conditions];
  return list.map((condition, index) => toContractCondition(condition, `${name}[${index}]`));
}

const UNSUPPORTED_FIELD_CONDITIONS = ['geo_bounding_box', 'geo_radius', 'geo_polygon', 'values_count', 'is_empty', 'is_null'] as const;

function toContractCondition(condition: unknown, where: string): FilterCondition {
  if (!isRecord(condition) || typeof condition.key !== 'string') {
    throw notImplemented(`the condition at ${where} (only field conditions with \`match\` or \`range\`; no nested filters, is_empty, is_null, has_id, has_vector, nested)`);
  }
  const { key } = condition;
  for (const name of UNSUPPORTED_FIELD_CONDITIONS) {
    if (condition[name] !== undefined && condition[name] !== null) throw notImplemented(`\`${name}\` conditions (${where})`);
  }
  const match = condition.match ?? undefined;
  const range = condition.range ?? undefined;
  if (match !== undefined && range !== undefined) throw notImplemented(`a condition with both \`match\` and \`range\` (${where})`);
  if (isRecord(match)) {
    const keys = Object.keys(match);
    if (keys.length === 1 && keys[0] === 'value') return { key, match: { value: match.value as string | number | boolean } };
    if (keys.length === 1 && keys[0] === 'any') return { key, match: { any: match.any as (string | number)[] } };
    throw notImplemented(`\`match\` with ${keys.map((name) => `\`${name}\``).join(', ')} (${where}); only \`value\` and \`any\``);
  }
  if (isRecord(range)) {
    const bounds = Object.values(range).filter((bound) => bound !== null && bound !== undefined);
    if (bounds.some((bound) => typeof bound !== 'number')) throw notImplemented(`datetime ranges (${where})`);
    const numeric = (name: string): number | undefined => (typeof range[name] === 'number' ? range[name] : undefined);
    return { key, range: { gt: numeric('gt'), gte: numeric('gte'), lt: numeric('lt'), lte: numeric('lte') } };
  }
  // A field condition with no test at all: Qdrant refuses it.
  throw wrongInput(`the condition on \`${key}\` at ${where} tests nothing`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
