import type { PredictionServiceClient } from '@google-cloud/aiplatform';

/**
 * Options of the `PredictionServiceClient` the embedder builds (google-gax `ClientOptions`
 * without `apiEndpoint`, which is its own setting): credentials (`credentials`, `keyFilename`,
 * `authClient`), transport (`fallback: true` for HTTP/1.1 + JSON instead of gRPC, `protocol`,
 * `port`) for tests and proxies.
 */
export type VertexClientOptions = Omit<NonNullable<ConstructorParameters<typeof PredictionServiceClient>[0]>, 'apiEndpoint'>;

/** Settings of `createVertexEmbedder`. Bad values throw a `TypeError` naming the option. */
export interface VertexEmbedderSettings {
  /**
   * Google Cloud project id that is billed and whose quota is used.
   * @default process.env.GOOGLE_CLOUD_PROJECT (required: one of the two must be set)
   */
  readonly project?: string;
  /**
   * Region the model is served from; also picks the default `apiEndpoint`.
   * @default process.env.GOOGLE_CLOUD_LOCATION, else 'us-central1'
   */
  readonly location?: string;
  /**
   * Publisher model id. `gemini-embedding-001` takes one text per request, so the embedder
   * declares `maxBatchSize: 1` for it (core then sends one text per call, several in parallel).
   * @default 'text-embedding-005'
   */
  readonly model?: string;
  /**
   * Length of the vectors, sent as `parameters.outputDimensionality` on every request, so
   * `dimensions` always holds. text-embedding-005 accepts up to 768, gemini-embedding-001 up to
   * 3,072; a larger value is refused by the API (INVALID_INPUT).
   * @default 768
   */
  readonly outputDimensionality?: number;
  /**
   * Let the API cut a text longer than 2,048 tokens to its first 2,048 (the vector then ignores
   * the rest). `false` makes such a request fail with INVALID_INPUT instead.
   * @default true
   */
  readonly autoTruncate?: boolean;
  /**
   * Host of the Vertex AI API (no scheme, no port: see `clientOptions.port` and `protocol`).
   * @default `${location}-aiplatform.googleapis.com` (`aiplatform.googleapis.com` for 'global')
   */
  readonly apiEndpoint?: string;
  /**
   * A client the application built and owns (shared connections, custom credentials). The
   * embedder uses it as is and never closes it; `apiEndpoint` and `clientOptions` must then be
   * left out. Without it the embedder builds one client on first use and reuses it.
   */
  readonly client?: PredictionServiceClient;
  /** Options of the client the embedder builds; see {@link VertexClientOptions}. */
  readonly clientOptions?: VertexClientOptions;
  /**
   * Deadline of one request in milliseconds (gax `timeout`); past it the call rejects TIMEOUT.
   * Core's per-call timeout, when shorter, aborts the call first.
   * @default 60_000
   */
  readonly timeoutMs?: number;
}

/** Settings after defaults and checks. */
export interface ResolvedVertexSettings {
  readonly project: string;
  readonly location: string;
  readonly model: string;
  readonly outputDimensionality: number;
  readonly autoTruncate: boolean;
  readonly apiEndpoint: string;
  readonly client: PredictionServiceClient | undefined;
  readonly clientOptions: VertexClientOptions;
  readonly timeoutMs: number;
  /** `projects/P/locations/L/publishers/google/models/M`. */
  readonly endpoint: string;
}

const DEFAULT_LOCATION = 'us-central1';
const DEFAULT_MODEL = 'text-embedding-005';
const DEFAULT_DIMENSIONS = 768;
const DEFAULT_TIMEOUT_MS = 60_000;
const MAX_TIMER_DELAY_MS = 2_147_483_647;
/** Segments of the resource name: no slash, no whitespace, nothing a URL path would reinterpret. */
const RESOURCE_SEGMENT = /^[A-Za-z0-9._:-]+$/;
const HOST = /^[A-Za-z0-9.-]+$/;

/** Applies defaults (settings, then environment variables) and checks every setting. */
export function resolveVertexSettings(settings: VertexEmbedderSettings, environment: NodeJS.ProcessEnv = process.env): ResolvedVertexSettings {
  if (typeof settings !== 'object' || settings === null) throw invalidOption('settings', 'an object', settings);
  const project = settings.project ?? nonEmpty(environment.GOOGLE_CLOUD_PROJECT);
  if (typeof project !== 'string' || !RESOURCE_SEGMENT.test(project)) {
    throw invalidOption('project', 'a Google Cloud project id', project, 'GOOGLE_CLOUD_PROJECT');
  }
  const location = settings.location ?? nonEmpty(environment.GOOGLE_CLOUD_LOCATION) ?? DEFAULT_LOCATION;
  if (typeof location !== 'string' || !/^[a-z0-9-]+$/.test(location)) {
    throw invalidOption('location', "a region such as 'us-central1'", location, 'GOOGLE_CLOUD_LOCATION');
  }
  const model = settings.model ?? DEFAULT_MODEL;
  if (typeof model !== 'string' || !RESOURCE_SEGMENT.test(model)) throw invalidOption('model', "a publisher model id such as 'text-embedding-005'", model);
  const outputDimensionality = settings.outputDimensionality ?? DEFAULT_DIMENSIONS;
  if (typeof outputDimensionality !== 'number' || !Number.isInteger(outputDimensionality) || outputDimensionality < 1) {
    throw invalidOption('outputDimensionality', 'a positive integer', outputDimensionality);
  }
  const autoTruncate = settings.autoTruncate ?? true;
  if (typeof autoTruncate !== 'boolean') throw invalidOption('autoTruncate', 'a boolean', autoTruncate);
  const timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0 && timeoutMs <= MAX_TIMER_DELAY_MS)) {
    throw invalidOption('timeoutMs', `a positive number of milliseconds up to ${MAX_TIMER_DELAY_MS}`, timeoutMs);
  }
  const { client, clientOptions } = settings;
  if (client !== undefined) {
    if (typeof client !== 'object' || client === null || typeof client.predict !== 'function') {
      throw invalidOption('client', 'a PredictionServiceClient', client);
    }
    if (settings.apiEndpoint !== undefined || clientOptions !== undefined) {
      throw new TypeError('Expected either `client` or `apiEndpoint` / `clientOptions`, got both (an injected client already has its endpoint and options)');
    }
  }
  if (clientOptions !== undefined && (typeof clientOptions !== 'object' || clientOptions === null)) {
    throw invalidOption('clientOptions', 'an object', clientOptions);
  }
  const apiEndpoint = settings.apiEndpoint ?? (location === 'global' ? 'aiplatform.googleapis.com' : `${location}-aiplatform.googleapis.com`);
  if (typeof apiEndpoint !== 'string' || !HOST.test(apiEndpoint)) {
    throw invalidOption('apiEndpoint', "a host name without scheme or port, such as 'us-central1-aiplatform.googleapis.com'", apiEndpoint);
  }
  return {
    project,
    location,
    model,
    outputDimensionality,
    autoTruncate,
    apiEndpoint,
    client,
    clientOptions: clientOptions ?? {},
    timeoutMs,
    endpoint: `projects/${project}/locations/${location}/publishers/google/models/${model}`,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/**
 * The p-queue style option error core uses, naming the environment variable a setting falls back
 * to: "Expected `project` (or the GOOGLE_CLOUD_PROJECT environment variable) to be ...".
 */
function invalidOption(name: string, expected: string, value: unknown, environmentVariable?: string): TypeError {
  let shown: string;
  try {
    shown = typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
  } catch {
    shown = Object.prototype.toString.call(value);
  }
  const source = environmentVariable === undefined ? `\`${name}\`` : `\`${name}\` (or the ${environmentVariable} environment variable)`;
  return new TypeError(`Expected ${source} to be ${expected}, got \`${shown}\` (${typeof value})`);
}
