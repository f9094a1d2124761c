import { describe, it } from 'vitest';
import type { ConformanceCheck } from './conformance-check.ts';

/**
 * Registers checks as one vitest `describe` of `it`s (skipped checks as `it.skip`, their reason in
 * the title), then the caller's own tests inside the same block.
 */
export function registerConformanceSuite(title: string, checks: readonly ConformanceCheck[], additionalTests?: () => void): void {
  describe(title, () => {
    for (const check of checks) {
      if (check.skipped === undefined) it(check.name, (context) => check.run({ skip: (reason) => context.skip(reason) }));
      else it.skip(`${check.name} (${check.skipped})`, () => undefined);
    }
    additionalTests?.();
  });
}
