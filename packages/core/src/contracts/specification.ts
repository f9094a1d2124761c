import { AidocError } from '../errors/aidoc-error.ts';

/** The contract versions this core accepts. */
const SUPPORTED = new Set(['v1']);

/**
 * Checks an adapter's `specificationVersion` where it enters core (the pipeline factories), so
 * an adapter written for another contract version fails at start-up with a clear message, not
 * mid-request.
 */
export function assertSpecification(role: string, adapter: unknown): void {
  const version =
    typeof adapter === 'object' && adapter !== null && 'specificationVersion' in adapter ? adapter.specificationVersion : undefined;
  if (typeof version !== 'string' || !SUPPORTED.has(version)) {
    throw new AidocError(
      'INVALID_INPUT',
      `The ${role} adapter declares specificationVersion ${JSON.stringify(version)}; this @aidoc/core supports ${[...SUPPORTED].join(', ')}`,
      { details: { role, specificationVersion: String(version) } },
    );
  }
}
