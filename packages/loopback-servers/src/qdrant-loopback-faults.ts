/**
 * What the Qdrant loopback server can do instead of answering a request, for tests of failure
 * handling. Each form mimics something seen in production.
 */
export type QdrantLoopbackFault =
  /**
   * Answer with this status and Qdrant's error envelope (`{ status: { error }, time }`), e.g. 429
   * with `retryAfterSeconds` (a rate-limited cluster) or 503 (an overloaded or restarting node).
   */
  | {
      readonly status: number;
      /** Sent as the `retry-after` header, in seconds. */
      readonly retryAfterSeconds?: number;
      /** A raw `retry-after` header (an HTTP date, or something malformed); wins over `retryAfterSeconds`. */
      readonly retryAfter?: string;
      /** The error text. @default the status's reason phrase */
      readonly error?: string;
    }
  /** Accept the request and never answer: only the client's abort (or `close()`) ends it. */
  | { readonly hang: true }
  /**
   * The server dies mid-request: `before-response` destroys the socket before any byte of the
   * answer; `mid-response` sends the status, headers and part of the body, then destroys it.
   */
  | { readonly dropConnection: 'before-response' | 'mid-response' }
  /** Answer these raw bytes (unchecked against the spec): a broken proxy, a truncated body. */
  | { readonly rawResponse: { readonly status?: number; readonly body: string; readonly contentType?: string } }
  /**
   * Handle the request normally, then pass the answer's body through `transform` before it is
   * checked against the spec and sent: proves the response check catches a server bug.
   */
  | { readonly transformResponse: (body: unknown) => unknown };

/** A short label of a fault, kept on the recorded request. */
export function describeQdrantFault(fault: QdrantLoopbackFault): string {
  if ('status' in fault) return `status ${fault.status}`;
  if ('hang' in fault) return 'hang';
  if ('dropConnection' in fault) return `drop connection ${fault.dropConnection}`;
  if ('rawResponse' in fault) return `raw response ${fault.rawResponse.status ?? 200}`;
  return 'transform response';
}
