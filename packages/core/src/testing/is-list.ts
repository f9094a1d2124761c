/**
 * `Array.isArray` without narrowing: for runtime checks of values that are typed as arrays but
 * may come from untyped callers (narrowing a typed readonly array would turn it into `any[]`).
 */
export function isList(value: unknown): boolean {
  return Array.isArray(value);
}
