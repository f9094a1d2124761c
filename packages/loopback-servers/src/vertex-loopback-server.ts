import { estimateTokens } from '@aidoc/core';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './listen-on-loopback.ts';
import { vertexLoopbackEmbedding } from './vertex-loopback-embedding.ts';
import type { VertexLoopbackFault, VertexLoopbackFaultOptions } from './vertex-loopback-faults.ts';

/** A model the loopback server serves. */
export interface VertexLoopbackModel {
  /** Largest (and default) `outputDimensionality`. */
  readonly dimensions: number;
  /**
   * Most instances per request.
   * @default the server's `maxInstances`
   */
  readonly maxInstances?: number;
}

/** Settings of {@link startVertexLoopbackServer}. */
export interface VertexLoopbackServerOptions {
  /**
   * The models served, by id; a request for another gets 404 NOT_FOUND.
   * @default text-embedding-005 and text-multilingual-embedding-002 (768 dimensions, 250 instances), gemini-embedding-001 (3,072, 1 instance)
   */
  readonly models?: Readonly<Record<string, VertexLoopbackModel>>;
  /** @default 250 */
  readonly maxInstances?: number;
  /** Most tokens per request, summed over the instances (by `countTokens`). @default 20_000 */
  readonly maxTokensPerRequest?: number;
  /** Tokens of one instance the model reads; longer ones are truncated, or refused without `autoTruncate`. @default 2_048 */
  readonly maxTokensPerText?: number;
  /** How the server counts a text's tokens. @default `estimateTokens` from @aidoc/core */
  readonly countTokens?: (text: string) => number;
}

/** One request the server received, as it received it. */
export interface VertexLoopbackRequest {
  readonly method: string;
  /** Path and query string, e.g. `/v1/projects/p/.../models/text-embedding-005:predict?$alt=json%3Benum-encoding=int`. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** The JSON body, parsed (the raw text when it is not JSON). */
  readonly body: unknown;
  /** From the path, when it names a model resource. */
  readonly project: string | undefined;
  readonly location: string | undefined;
  readonly model: string | undefined;
  /** Number of `instances` (0 when there is no array). */
  readonly instances: number;
  /** Tokens of all instances' `content`, by the server's `countTokens`. */
  readonly tokens: number;
  /** Status the server answered with; undefined while unanswered, or when it dropped the connection. */
  readonly status: number | undefined;
  /** The client closed the connection before the server answered (an abort, a client-side timeout). */
  readonly closedByClient: boolean;
}

/** A running loopback Vertex AI server. */
export interface VertexLoopbackServer {
  readonly port: number;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /**
   * Options for `new PredictionServiceClient(...)` (REST transport, plain HTTP); add
   * `authClient: new PassThroughClient()` from google-auth-library to need no credentials.
   */
  readonly clientOptions: { readonly apiEndpoint: string; readonly port: number; readonly protocol: 'http'; readonly fallback: true };
  /** Every request received, in order. */
  readonly requests: readonly VertexLoopbackRequest[];
  readonly requestCount: number;
  /** Requests whose connection the client closed before the server answered. */
  readonly closedByClient: number;
  /** Makes matching requests fail as `fault` says (first matching fault wins, in the order added). */
  injectFault(fault: VertexLoopbackFault, options?: VertexLoopbackFaultOptions): void;
  clearFaults(): void;
  /** Forgets the recorded requests and the faults. */
  reset(): void;
  /** Closes every connection (hanging requests included) and stops listening. */
  close(): Promise<void>;
}

/** Task types the text-embedding models accept. */
const TASK_TYPES = new Set([
  'RETRIEVAL_QUERY',
  'RETRIEVAL_DOCUMENT',
  'SEMANTIC_SIMILARITY',
  'CLASSIFICATION',
  'CLUSTERING',
  'QUESTION_ANSWERING',
  'FACT_VERIFICATION',
  'CODE_RETRIEVAL_QUERY',
]);

const DEFAULT_MODELS: Readonly<Record<string, VertexLoopbackModel>> = {
  'text-embedding-005': { dimensions: 768 },
  'text-multilingual-embedding-002': { dimensions: 768 },
  'gemini-embedding-001': { dimensions: 3072, maxInstances: 1 },
};

const PREDICT_PATH = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/google\/models\/([^/:]+):predict$/;
const MAX_BODY_BYTES = 64 * 1024 * 1024;

interface FaultRule {
  readonly fault: VertexLoopbackFault;
  readonly project: string | undefined;
  readonly model: string | undefined;
  remaining: number;
}

type RecordedRequest = { -readonly [Key in keyof VertexLoopbackRequest]: VertexLoopbackRequest[Key] };

/** A Google API error, as the REST transport sends it. */
class GoogleApiError extends Error {
  readonly httpStatus: number;
  readonly status: string;
  constructor(httpStatus: number, status: string, message: string) {
    super(message);
    this.httpStatus = httpStatus;
    this.status = status;
  }
}

/**
 * Starts a server on 127.0.0.1 (an ephemeral port) that speaks Vertex AI's REST `predict` for
 * publisher text-embedding models, as `@google-cloud/aiplatform` sends it with `fallback: true`:
 * `POST /v1/projects/P/locations/L/publishers/google/models/M:predict?$alt=json;enum-encoding=int`
 * with `{ instances: [{ content, task_type }], parameters: { autoTruncate, outputDimensionality } }`,
 * answered with `{ predictions: [{ embeddings: { values, statistics: { truncated, token_count } } }] }`.
 *
 * It enforces the API's limits (instances per request, tokens per request; texts over the
 * per-text limit are truncated, or refused without `autoTruncate`) with 400 INVALID_ARGUMENT in
 * Google's error shape `{ error: { code, message, status } }`, answers an unknown model with 404
 * NOT_FOUND, records every request, and injects faults (`injectFault`). Vectors come from
 * {@link vertexLoopbackEmbedding}: deterministic, similar texts close.
 */
export async function startVertexLoopbackServer(options: VertexLoopbackServerOptions = {}): Promise<VertexLoopbackServer> {
  const models = options.models ?? DEFAULT_MODELS;
  const maxInstances = options.maxInstances ?? 250;
  const maxTokensPerRequest = options.maxTokensPerRequest ?? 20_000;
  const maxTokensPerText = options.maxTokensPerText ?? 2_048;
  const countTokens = options.countTokens ?? estimateTokens;
  let requests: RecordedRequest[] = [];
  let faults: FaultRule[] = [];
  let closedByClient = 0;
  let closing = false;
  const timers = new Set<NodeJS.Timeout>();

  const takeFault = (request: RecordedRequest): VertexLoopbackFault | undefined => {
    const rule = faults.find(
      (candidate) => (candidate.project === undefined || candidate.project === request.project) && (candidate.model === undefined || candidate.model === request.model),
    );
    if (rule === undefined) return undefined;
    rule.remaining -= 1;
    if (rule.remaining <= 0) faults = faults.filter((candidate) => candidate !== rule);
    return rule.fault;
  };

  const predict = (request: RecordedRequest, contentType: string | undefined): unknown => {
    const { project, location, model } = request;
    if (request.method !== 'POST' || project === undefined || location === undefined || model === undefined) {
      throw new GoogleApiError(404, 'NOT_FOUND', `The requested URL ${request.method} ${request.url} was not found on this server.`);
    }
    if (contentType === undefined || !contentType.toLowerCase().startsWith('application/json')) {
      throw new GoogleApiError(400, 'INVALID_ARGUMENT', `Invalid Content-Type ${String(contentType)}: expected application/json.`);
    }
    const served = models[model];
    if (served === undefined) {
      throw new GoogleApiError(
        404,
        'NOT_FOUND',
        `Publisher Model \`projects/${project}/locations/${location}/publishers/google/models/${model}\` was not found or your project does not have access to it.`,
      );
    }
    if (typeof request.body !== 'object' || request.body === null) throw new GoogleApiError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
    const { instances, parameters } = request.body as { instances?: unknown; parameters?: unknown };
    if (!Array.isArray(instances) || instances.length === 0) throw new GoogleApiError(400, 'INVALID_ARGUMENT', 'instances must be a non-empty list.');
    const limit = served.maxInstances ?? maxInstances;
    if (instances.length > limit) {
      throw new GoogleApiError(400, 'INVALID_ARGUMENT', `The number of instances (${instances.length}) exceeds the limit of ${limit} per request for model ${model}.`);
    }
    const settings = readParameters(parameters, served.dimensions);
    const contents = instances.map((instance: unknown, index) => {
      if (typeof instance !== 'object' || instance === null) throw new GoogleApiError(400, 'INVALID_ARGUMENT', `instances[${index}] must be an object.`);
      const { content, task_type: taskType } = instance as { content?: unknown; task_type?: unknown };
      if (typeof content !== 'string') throw new GoogleApiError(400, 'INVALID_ARGUMENT', `instances[${index}].content must be a string.`);
      if (taskType !== undefined && (typeof taskType !== 'string' || !TASK_TYPES.has(taskType))) {
        throw new GoogleApiError(400, 'INVALID_ARGUMENT', `instances[${index}].task_type ${JSON.stringify(taskType)} is not a supported task type.`);
      }
      return content;
    });
    if (request.tokens > maxTokensPerRequest) {
      throw new GoogleApiError(
        400,
        'INVALID_ARGUMENT',
        `Unable to submit request because the input token count is ${request.tokens} but the model supports up to ${maxTokensPerRequest}. Reduce the input token count and try again.`,
      );
    }
    const predictions = contents.map((content, index) => {
      const tokens = countTokens(content);
      const truncated = tokens > maxTokensPerText;
      if (truncated && !settings.autoTruncate) {
        throw new GoogleApiError(
          400,
          'INVALID_ARGUMENT',
          `instances[${index}] has ${tokens} tokens; the model reads up to ${maxTokensPerText}. Set autoTruncate to true to truncate it.`,
        );
      }
      const read = truncated ? content.slice(0, Math.floor((content.length * maxTokensPerText) / tokens)) : content;
      return {
        embeddings: {
          values: vertexLoopbackEmbedding(read, settings.outputDimensionality),
          statistics: { truncated, token_count: Math.min(tokens, maxTokensPerText) },
        },
      };
    });
    return { predictions, metadata: { billableCharacterCount: contents.reduce((sum, content) => sum + content.length, 0) } };
  };

  const handle = async (incoming: IncomingMessage, response: ServerResponse): Promise<void> => {
    const rawUrl = incoming.url ?? '/';
    const match = PREDICT_PATH.exec(new URL(rawUrl, 'http://127.0.0.1').pathname);
    const text = await readBody(incoming);
    let body: unknown = text;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      // Recorded as text; answered 400 below.
    }
    const instances: unknown = typeof body === 'object' && body !== null ? (body as { instances?: unknown }).instances : undefined;
    const request: RecordedRequest = {
      method: incoming.method ?? 'GET',
      url: rawUrl,
      headers: incoming.headers,
      body,
      project: match === null ? undefined : decodeURIComponent(match[1]!),
      location: match === null ? undefined : decodeURIComponent(match[2]!),
      model: match === null ? undefined : decodeURIComponent(match[3]!),
      instances: Array.isArray(instances) ? instances.length : 0,
      tokens: Array.isArray(instances) ? instances.reduce((sum: number, instance: unknown) => sum + instanceTokens(instance, countTokens), 0) : 0,
      status: undefined,
      closedByClient: false,
    };
    requests.push(request);
    let droppedByServer = false;
    response.on('close', () => {
      if (!response.writableFinished && !droppedByServer && !closing) {
        request.closedByClient = true;
        closedByClient += 1;
      }
    });

    const answer = (): void => {
      if (response.destroyed) return;
      try {
        sendJson(response, request, 200, predict(request, incoming.headers['content-type']));
      } catch (error) {
        if (!(error instanceof GoogleApiError)) throw error;
        sendGoogleError(response, request, error.httpStatus, error.status, error.message);
      }
    };

    const fault = takeFault(request);
    switch (fault?.type) {
      case undefined:
        return answer();
      case 'rate-limited': {
        const retryAfterSeconds = fault.retryAfterSeconds ?? 1;
        const details = fault.retryInfoSeconds === undefined ? undefined : [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${fault.retryInfoSeconds}s` }];
        return sendGoogleError(response, request, 429, 'RESOURCE_EXHAUSTED', `Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model with base model: ${request.model ?? 'unknown'}. Please submit a quota increase request.`, {
          headers: { 'retry-after': String(retryAfterSeconds) },
          details,
        });
      }
      case 'unavailable':
        return sendGoogleError(response, request, 503, 'UNAVAILABLE', 'The service is currently unavailable.');
      case 'internal':
        return sendGoogleError(response, request, 500, 'INTERNAL', 'Internal error encountered.');
      case 'error':
        return sendGoogleError(response, request, fault.httpStatus, fault.status, fault.message ?? `Injected ${fault.status}.`);
      case 'reply':
        return sendJson(response, request, fault.httpStatus ?? 200, fault.body);
      case 'hang':
        return;
      case 'connection-reset':
        droppedByServer = true;
        incoming.socket.destroy();
        return;
      case 'truncated-response': {
        droppedByServer = true;
        response.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
        response.write('{"predictions": [{"embeddings": {"values": [0.1, ');
        const timer = setTimeout(() => {
          timers.delete(timer);
          incoming.socket.destroy();
        }, 5);
        timers.add(timer);
        return;
      }
      case 'delay': {
        const timer = setTimeout(() => {
          timers.delete(timer);
          answer();
        }, fault.ms);
        timers.add(timer);
        return;
      }
    }
  };

  const server = createServer((incoming, response) => {
    handle(incoming, response).catch((error: unknown) => {
      if (!response.headersSent && !response.destroyed) {
        response.writeHead(500, { 'content-type': 'application/json; charset=UTF-8' });
        response.end(JSON.stringify({ error: { code: 500, message: `Loopback server failure: ${String(error)}`, status: 'INTERNAL' } }));
      } else {
        response.destroy();
      }
    });
  });
  const { url, port } = await listenOnLoopback(server);

  return {
    port,
    url,
    clientOptions: { apiEndpoint: '127.0.0.1', port, protocol: 'http', fallback: true },
    get requests() {
      return requests;
    },
    get requestCount() {
      return requests.length;
    },
    get closedByClient() {
      return closedByClient;
    },
    injectFault(fault, faultOptions = {}) {
      const times = faultOptions.times ?? Infinity;
      if (!(times >= 1)) throw new TypeError(`Expected \`times\` to be a positive number, got \`${String(times)}\` (${typeof times})`);
      faults.push({ fault, project: faultOptions.project, model: faultOptions.model, remaining: times });
    },
    clearFaults() {
      faults = [];
    },
    reset() {
      requests = [];
      faults = [];
      closedByClient = 0;
    },
    async close() {
      closing = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const closed = new Promise<void>((resolve, reject) => server.close((error) => (error === undefined ? resolve() : reject(error))));
      server.closeAllConnections();
      await closed;
    },
  };
}

function readParameters(parameters: unknown, maxDimensions: number): { outputDimensionality: number; autoTruncate: boolean } {
  if (parameters === undefined || parameters === null) return { outputDimensionality: maxDimensions, autoTruncate: true };
  if (typeof parameters !== 'object') throw new GoogleApiError(400, 'INVALID_ARGUMENT', 'parameters must be an object.');
  const { outputDimensionality = maxDimensions, autoTruncate = true } = parameters as { outputDimensionality?: unknown; autoTruncate?: unknown };
  if (typeof outputDimensionality !== 'number' || !Number.isInteger(outputDimensionality) || outputDimensionality < 1 || outputDimensionality > maxDimensions) {
    throw new GoogleApiError(400, 'INVALID_ARGUMENT', `outputDimensionality must be an integer from 1 to ${maxDimensions}, got ${JSON.stringify(outputDimensionality)}.`);
  }
  if (typeof autoTruncate !== 'boolean') throw new GoogleApiError(400, 'INVALID_ARGUMENT', 'autoTruncate must be a boolean.');
  return { outputDimensionality, autoTruncate };
}

function instanceTokens(instance: unknown, countTokens: (text: string) => number): number {
  const content = typeof instance === 'object' && instance !== null ? (instance as { content?: unknown }).content : undefined;
  return typeof content === 'string' ? countTokens(content) : 0;
}

async function readBody(incoming: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new Error(`request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(response: ServerResponse, request: RecordedRequest, httpStatus: number, body: unknown, headers: Record<string, string> = {}): void {
  request.status = httpStatus;
  response.writeHead(httpStatus, { 'content-type': 'application/json; charset=UTF-8', ...headers });
  response.end(JSON.stringify(body));
}

function sendGoogleError(
  response: ServerResponse,
  request: RecordedRequest,
  httpStatus: number,
  status: string,
  message: string,
  extra: { headers?: Record<string, string>; details?: unknown[] | undefined } = {},
): void {
  const error = extra.details === undefined ? { code: httpStatus, message, status } : { code: httpStatus, message, status, details: extra.details };
  sendJson(response, request, httpStatus, { error }, extra.headers);
}
