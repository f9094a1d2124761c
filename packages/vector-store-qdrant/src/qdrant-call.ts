import { AidocError, abortError, linkSignal, throwIfAborted } from '@aidoc/core';
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
  throwIfAborted(options.signal);
  const linked = linkSignal(options.signal);
  const timer = setTimeout(() => {
    linked.controller.abort(
      new AidocError('TIMEOUT', `Qdrant ${options.operation} took longer than ${options.timeoutMs} ms (\`timeoutMs\`)`, {
        details: { operation: options.operation, collection: options.collection, timeoutMs: options.timeoutMs },
      }),
    );
  }, options.timeoutMs);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(abortError(linked.signal));
    linked.signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([send({ signal: linked.signal }), aborted]);
  } catch (error) {
    if (linked.signal.aborted) throw abortError(linked.signal);
    throw toQdrantAidocError(error, options);
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) linked.signal.removeEventListener('abort', onAbort);
    linked.dispose();
  }
}
