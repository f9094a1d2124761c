/**
 * What the loopback Vertex server does instead of answering normally. Each is what a real
 * upstream (or the network in between) does, so the adapter meets it through the real client.
 */
export type VertexLoopbackFault =
  /** 429 RESOURCE_EXHAUSTED with a `Retry-After` header, and a `google.rpc.RetryInfo` detail when `retryInfoSeconds` is set. */
  | { readonly type: 'rate-limited'; readonly retryAfterSeconds?: number; readonly retryInfoSeconds?: number }
  /** 503 UNAVAILABLE. */
  | { readonly type: 'unavailable' }
  /** 500 INTERNAL. */
  | { readonly type: 'internal' }
  /** Reads the request and never answers (until the client gives up or the server closes). */
  | { readonly type: 'hang' }
  /** Destroys the connection as soon as the request is read: no status line ("socket hang up"). */
  | { readonly type: 'connection-reset' }
  /** Sends 200 and half a JSON body, then destroys the connection. */
  | { readonly type: 'truncated-response' }
  /** Answers with a Google error: `{ error: { code: httpStatus, message, status } }`. */
  | { readonly type: 'error'; readonly httpStatus: number; readonly status: string; readonly message?: string }
  /** Answers with this body as JSON (a malformed prediction, the wrong number of them). */
  | { readonly type: 'reply'; readonly body: unknown; readonly httpStatus?: number }
  /** Waits, then answers normally. */
  | { readonly type: 'delay'; readonly ms: number };

/** Which requests a fault applies to, and how many times. */
export interface VertexLoopbackFaultOptions {
  /** Only requests for this project (`projects/P/...`). */
  readonly project?: string;
  /** Only requests for this model. */
  readonly model?: string;
  /**
   * How many requests it applies to; then it is removed.
   * @default Infinity
   */
  readonly times?: number;
}
