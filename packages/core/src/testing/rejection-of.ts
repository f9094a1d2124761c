import { AidocError } from '../errors/aidoc-error.ts';

/**
 * The AidocError `promise` rejects with. Throws (failing the test) when it resolves, or rejects
 * with anything that is not an AidocError: adapters and pipelines must only ever reject with one.
 *
 * @example
 * ```ts
 * const error = await rejectionOf(store.query('missing', { vector, limit: 1 }));
 * expect(error.code).toBe('NOT_FOUND');
 * ```
 */
export async function rejectionOf(promise: Promise<unknown>): Promise<AidocError> {
  try {
    await promise;
  } catch (error) {
    if (AidocError.isInstance(error)) return error;
    throw new Error(`expected an AidocError rejection, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected a rejection, the promise resolved');
}
