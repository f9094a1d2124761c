import { AidocError, raceWithAbort, withTimeout } from '@aidoc/core';
import { toQdrantAidocError, type QdrantCallContext } from './qdrant-error.ts';

/** What one Qdrant request needs: where it goes (for errors), the caller's signal, its deadline. */
export interface QdrantRequestOptions extends QdrantCallContext {
  readonly signal: AbortSignal | undefined;
  readonly timeoutMs: number;
}

/**
 * Sends one request through the SDK with a signal of its own, which the SDK's generated API
 * (`client.api().queryPoints(args, { signal })`) hands to `fetch`: aborting it closes the HTTP
 * connection. The signal fires when the caller's does (ABORTED, or the caller's AidocError reason
 * such as core's TIMEOUT) or after `timeoutMs` (TIMEOUT). The call also races that signal, so it
 * rejects at once even when an injected client's own timeout swallowed the per-request signal.
 * Every failure is mapped to an AidocError; nothing is retried here (core retries).
 */
export async function sendQdrantRequest<T>(options: QdrantRequestOptions, send: (init: { signal: AbortSignal }) => Promise<T>): Promise<T> {
  try {
    return await withTimeout((signal) => raceWithAbort(send({ signal }), signal), options.timeoutMs, {
      signal: options.signal,
      name: `Qdrant ${options.operation} (\`timeoutMs\`)`,
    });
  } catch (error) {
    // Our own TIMEOUT and ABORTED (or the caller's AidocError reason) pass through unchanged.
    if (AidocError.isInstance(error)) throw error;
    throw toQdrantAidocError(error, options);
  }
}
