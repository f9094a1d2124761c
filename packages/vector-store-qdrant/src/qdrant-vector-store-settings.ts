import type { QdrantClient } from '@qdrant/js-client-rest';

/** Payload index types Qdrant accepts for `field_schema` (the ones a filter of the contract can use). */
export type QdrantPayloadIndexType = 'keyword' | 'integer' | 'float' | 'bool' | 'uuid' | 'datetime';

/** Settings of {@link createQdrantVectorStore}. */
export interface QdrantVectorStoreSettings {
  /**
   * Qdrant's REST URL, with scheme and port (`http://localhost:6333`,
   * `https://xyz.cloud.qdrant.io:6333`). Not allowed together with `client`.
   * @default process.env.QDRANT_URL
   */
  readonly url?: string;
  /**
   * Sent as the `api-key` header (Qdrant Cloud, or a server started with an API key).
   * Not allowed together with `client`.
   * @default process.env.QDRANT_API_KEY
   */
  readonly apiKey?: string;
  /**
   * A client the application built and owns. Build it with `timeout: Infinity`: the SDK's own
   * timeout replaces the per-request abort signal, so with a finite `timeout` an aborted call
   * still rejects ABORTED at once but its HTTP request runs on until that timeout.
   */
  readonly client?: QdrantClient;
  /**
   * Deadline of each HTTP request in milliseconds; past it the call rejects TIMEOUT (retryable).
   * Core's call policies usually set a tighter per-call deadline; this is the backstop.
   * @default 60_000
   */
  readonly timeoutMs?: number;
  /**
   * Most points sent in one upsert request (`maxUpsertBatchSize`); larger upserts are split.
   * Keep a batch well under Qdrant's 32 MB request limit (`service.max_request_size_mb`).
   * @default 256
   */
  readonly upsertBatchSize?: number;
  /**
   * Lets the SDK compare its version with the server's (one `GET /` when the client is built;
   * it only logs a warning). Ignored with `client`.
   * @default true
   */
  readonly checkCompatibility?: boolean;
  /**
   * Keep-alive connections the client's pool may open to Qdrant. Ignored with `client`.
   * @default 25
   */
  readonly maxConnections?: number;
  /**
   * The Qdrant index type of each payload index that `ensureCollection` creates. Fields not listed
   * get `keyword`; give `integer` (or `float`) to fields filtered by `range` on large collections.
   * @default {}
   */
  readonly payloadIndexTypes?: Readonly<Record<string, QdrantPayloadIndexType>>;
}

/** The settings once checked, with defaults and environment variables applied. */
export interface ResolvedQdrantVectorStoreSettings {
  readonly connection: { readonly client: QdrantClient } | { readonly url: string; readonly apiKey: string | undefined; readonly checkCompatibility: boolean; readonly maxConnections: number };
  readonly timeoutMs: number;
  readonly upsertBatchSize: number;
  readonly payloadIndexTypes: Readonly<Record<string, QdrantPayloadIndexType>>;
}

const MAX_TIMER_DELAY_MS = 2_147_483_647;
const INDEX_TYPES: ReadonlySet<string> = new Set<QdrantPayloadIndexType>(['keyword', 'integer', 'float', 'bool', 'uuid', 'datetime']);

/**
 * Checks the settings where they enter (a bad setting is a programming error: `TypeError` naming
 * the setting and, where one applies, its environment variable) and applies the defaults.
 */
export function resolveQdrantVectorStoreSettings(
  settings: QdrantVectorStoreSettings,
  environment: Readonly<Record<string, string | undefined>> = process.env,
): ResolvedQdrantVectorStoreSettings {
  if (typeof settings !== 'object' || settings === null) throw invalidSetting('settings', 'an object', settings);
  const { client, timeoutMs = 60_000, upsertBatchSize = 256, checkCompatibility = true, maxConnections = 25, payloadIndexTypes = {} } = settings;

  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || timeoutMs > MAX_TIMER_DELAY_MS) {
    throw invalidSetting('timeoutMs', `a positive number of milliseconds up to ${MAX_TIMER_DELAY_MS}`, timeoutMs);
  }
  if (!isPositiveInteger(upsertBatchSize)) throw invalidSetting('upsertBatchSize', 'a positive integer', upsertBatchSize);
  if (typeof payloadIndexTypes !== 'object' || payloadIndexTypes === null) throw invalidSetting('payloadIndexTypes', 'an object', payloadIndexTypes);
  for (const [field, type] of Object.entries(payloadIndexTypes)) {
    if (!INDEX_TYPES.has(type)) throw invalidSetting(`payloadIndexTypes.${field}`, `one of ${[...INDEX_TYPES].join(', ')}`, type);
  }
  const common = { timeoutMs, upsertBatchSize, payloadIndexTypes };

  if (client !== undefined) {
    if (typeof client !== 'object' || client === null || typeof (client as { api?: unknown }).api !== 'function') {
      throw invalidSetting('client', 'a QdrantClient from @qdrant/js-client-rest', client);
    }
    if (settings.url !== undefined) throw new TypeError('Expected either `client` or `url`, got both: a client already has its URL');
    if (settings.apiKey !== undefined) throw new TypeError('Expected either `client` or `apiKey`, got both: a client already has its API key');
    return { ...common, connection: { client } };
  }

  const url = settings.url ?? nonEmpty(environment.QDRANT_URL);
  if (typeof url !== 'string' || !isHttpUrl(url)) {
    throw invalidSetting('url', 'an http(s) URL such as http://localhost:6333', url, 'QDRANT_URL', settings.url === undefined);
  }
  const apiKey = settings.apiKey ?? nonEmpty(environment.QDRANT_API_KEY);
  if (apiKey !== undefined && (typeof apiKey !== 'string' || apiKey === '')) {
    throw invalidSetting('apiKey', 'a non-empty string', apiKey, 'QDRANT_API_KEY');
  }
  if (typeof checkCompatibility !== 'boolean') throw invalidSetting('checkCompatibility', 'a boolean', checkCompatibility);
  if (!isPositiveInteger(maxConnections)) throw invalidSetting('maxConnections', 'a positive integer', maxConnections);
  return { ...common, connection: { url, apiKey, checkCompatibility, maxConnections } };
}

function invalidSetting(name: string, expected: string, value: unknown, environmentVariable?: string, fromEnvironment = false): TypeError {
  const source = environmentVariable === undefined ? `\`${name}\`` : `\`${name}\` (or the ${environmentVariable} environment variable)`;
  const hint = fromEnvironment && value === undefined ? `; set \`${name}\` or ${environmentVariable}` : '';
  return new TypeError(`Expected ${source} to be ${expected}, got \`${describe(value)}\` (${typeof value})${hint}`);
}

function describe(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1;
}
