import { AidocError, abortError, estimateTokens, raceWithAbort, throwIfAborted } from '@aidoc/core';
import type { EmbedOptions, Embedder } from '@aidoc/core';
import { PredictionServiceClient, helpers, type protos } from '@google-cloud/aiplatform';
import { resolveVertexSettings, type ResolvedVertexSettings, type VertexEmbedderSettings } from './vertex-embedder-settings.ts';
import { toClientSetupError, toVertexError } from './vertex-error.ts';
import { VERTEX_MAX_TOKENS_PER_REQUEST, maxTextsPerRequest } from './vertex-limits.ts';
import { readEmbeddings } from './vertex-predictions.ts';

type ProtobufValue = protos.google.protobuf.IValue;

/** The Vertex AI {@link Embedder}, plus what it adds. */
export interface VertexEmbedder extends Embedder {
  readonly provider: 'vertex';
  /** The model resource every request names: `projects/P/locations/L/publishers/google/models/M`. */
  readonly endpoint: string;
  /**
   * Closes the client the embedder built (an injected `client` is left to its owner): its gRPC
   * channel, if any. Call it when done; a later `embed` builds a new client.
   */
  close(): Promise<void>;
}

/**
 * An {@link Embedder} over Vertex AI text embeddings (`PredictionService.predict` of
 * `@google-cloud/aiplatform`), one request per `embed` call.
 *
 * - `dimensions` is `outputDimensionality` (default 768), sent with every request.
 * - `maxBatchSize` is 250 texts (1 for `gemini-embedding-001`, which takes one text per
 *   request), `maxTokensPerBatch` 20,000 tokens by core's `estimateTokens`: core's batching
 *   stays within both; a call over either rejects INVALID_INPUT before any request.
 * - A text over 2,048 tokens is cut to its first 2,048 by the API when `autoTruncate` is on
 *   (the default); with it off the API refuses the request (INVALID_INPUT).
 * - `kind: 'query'` is sent as task type `RETRIEVAL_QUERY`, `'document'` as `RETRIEVAL_DOCUMENT`.
 * - `supportsParallelCalls`: requests are independent; core bounds how many are in flight.
 *
 * The adapter does not retry (core does): gax's retries are turned off for `predict`. The
 * caller's `signal` is handed to gax, which cancels the HTTP request or gRPC call; the call
 * rejects ABORTED at once. Failures map to AidocErrors: RATE_LIMITED (429 / RESOURCE_EXHAUSTED;
 * `retryAfterMs` only when the error carries a `RetryInfo` detail, since gax does not expose
 * the `Retry-After` header), UPSTREAM_UNAVAILABLE (5xx, UNAVAILABLE, connection refused or
 * reset), TIMEOUT (`timeoutMs`), NOT_FOUND (unknown model or project), INVALID_INPUT (a refused
 * request, or credentials missing or refused), INVALID_OUTPUT (a response without one vector of
 * `dimensions` numbers per text).
 *
 * The client is built on the first `embed`, once, and reused (its connections are pooled);
 * credentials come from Application Default Credentials (`GOOGLE_APPLICATION_CREDENTIALS`)
 * unless `clientOptions` or an injected `client` say otherwise.
 *
 * @example
 * ```ts
 * const embedder = createVertexEmbedder({ project: 'my-project', location: 'europe-west4' });
 * const [vector] = await embedder.embed(['metformin in chronic kidney disease'], { kind: 'query' });
 * ```
 */
export function createVertexEmbedder(settings: VertexEmbedderSettings = {}): VertexEmbedder {
  const resolved = resolveVertexSettings(settings);
  const connection = new ClientConnection(resolved);
  const maxBatchSize = maxTextsPerRequest(resolved.model);
  const context = { project: resolved.project, location: resolved.location, model: resolved.model };
  const parameters = helpers.toValue({ autoTruncate: resolved.autoTruncate, outputDimensionality: resolved.outputDimensionality }) as ProtobufValue;

  const embed = async (texts: readonly string[], options: EmbedOptions): Promise<Float32Array[]> => {
    const signal = options.signal;
    throwIfAborted(signal);
    checkInput(texts, options, maxBatchSize, resolved.model);
    if (texts.length === 0) return [];
    const client = await connection.ready(signal, context);
    const taskType = options.kind === 'query' ? 'RETRIEVAL_QUERY' : 'RETRIEVAL_DOCUMENT';
    const request = {
      endpoint: resolved.endpoint,
      instances: texts.map((content) => helpers.toValue({ content, task_type: taskType }) as ProtobufValue),
      parameters,
    };
    try {
      const [response] = await raceWithAbort(client.predict(request, { timeout: resolved.timeoutMs, retry: null, signal }), signal);
      return readEmbeddings(response, texts.length, resolved.outputDimensionality, resolved.model);
    } catch (error) {
      if (signal?.aborted === true) throw abortError(signal);
      throw toVertexError(error, context);
    }
  };

  return {
    specificationVersion: 'v1',
    provider: 'vertex',
    model: resolved.model,
    endpoint: resolved.endpoint,
    dimensions: resolved.outputDimensionality,
    maxBatchSize,
    maxTokensPerBatch: VERTEX_MAX_TOKENS_PER_REQUEST,
    supportsParallelCalls: true,
    embed,
    close: () => connection.close(),
  };
}

/**
 * The one client: built on first use and reused. Its set-up (`initialize`: credentials, protos)
 * is awaited before the first request, because the generated `predict` re-throws a failed set-up
 * from a detached promise (an unhandled rejection per call); a client whose set-up failed is
 * never called, and one the embedder built is dropped so the next call starts afresh.
 */
class ClientConnection {
  readonly #settings: ResolvedVertexSettings;
  #client: PredictionServiceClient | undefined;
  #initialized: Promise<unknown> | undefined;

  constructor(settings: ResolvedVertexSettings) {
    this.#settings = settings;
    this.#client = settings.client;
  }

  async ready(signal: AbortSignal | undefined, context: { project: string; location: string; model: string }): Promise<PredictionServiceClient> {
    const client = (this.#client ??= new PredictionServiceClient({ ...this.#settings.clientOptions, apiEndpoint: this.#settings.apiEndpoint }));
    const initialized = (this.#initialized ??= client.initialize());
    try {
      await raceWithAbort(initialized, signal);
      return client;
    } catch (error) {
      if (signal?.aborted === true) throw abortError(signal);
      if (this.#settings.client === undefined && this.#client === client) {
        this.#client = undefined;
        this.#initialized = undefined;
      }
      throw toClientSetupError(error, context);
    }
  }

  async close(): Promise<void> {
    const client = this.#client;
    const initialized = this.#initialized;
    if (this.#settings.client !== undefined || client === undefined) return;
    this.#client = undefined;
    this.#initialized = undefined;
    // A client whose set-up failed has nothing to close (and its close() would reject).
    if (initialized !== undefined && !(await initialized.then(() => true, () => false))) return;
    await client.close();
  }
}

function checkInput(texts: readonly string[], options: EmbedOptions, maxBatchSize: number, model: string): void {
  if (!Array.isArray(texts)) throw new AidocError('INVALID_INPUT', `Expected \`texts\` to be an array of strings, got ${typeof texts}`);
  const kind: unknown = options.kind;
  if (kind !== 'query' && kind !== 'document') throw new AidocError('INVALID_INPUT', `Expected \`kind\` to be 'query' or 'document', got ${String(kind)}`);
  if (texts.length > maxBatchSize) {
    throw new AidocError('INVALID_INPUT', `Vertex AI model \`${model}\` takes at most ${maxBatchSize} text(s) per request, got ${texts.length}`, {
      details: { count: texts.length, maxBatchSize },
    });
  }
  let tokens = 0;
  for (const [index, text] of texts.entries()) {
    if (typeof text !== 'string') throw new AidocError('INVALID_INPUT', `Expected \`texts[${index}]\` to be a string, got ${typeof text}`, { details: { index } });
    tokens += estimateTokens(text);
  }
  if (tokens > VERTEX_MAX_TOKENS_PER_REQUEST) {
    throw new AidocError(
      'INVALID_INPUT',
      `Vertex AI takes at most ${VERTEX_MAX_TOKENS_PER_REQUEST} tokens per request; these ${texts.length} text(s) come to ~${tokens} (estimateTokens)`,
      { details: { tokens, maxTokensPerBatch: VERTEX_MAX_TOKENS_PER_REQUEST } },
    );
  }
}
