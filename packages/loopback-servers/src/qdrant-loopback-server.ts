import { listenOnLoopback } from './listen-on-loopback.ts';
import { createServer, STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { QdrantLoopbackCollections } from './qdrant-loopback-collections.ts';
import { describeQdrantFault, type QdrantLoopbackFault } from './qdrant-loopback-faults.ts';
import { QdrantLoopbackHttpError } from './qdrant-loopback-http-error.ts';
import { loadQdrantOpenApiValidator, type QdrantOperationValidator, type QdrantSchemaError } from './qdrant-openapi-validator.ts';

/** Options of {@link startQdrantLoopbackServer}. */
export interface QdrantLoopbackServerOptions {
  /**
   * Requires this key in the `api-key` header (or `Authorization: Bearer`), as a Qdrant started
   * with `QDRANT__SERVICE__API_KEY`: a request without a key gets 401, a wrong key 403.
   */
  readonly apiKey?: string;
  /** Faults from the start: `always` answers every request so; `next` the first requests, in order. */
  readonly faults?: { readonly always?: QdrantLoopbackFault; readonly next?: readonly QdrantLoopbackFault[] };
  /**
   * The OpenAPI description requests and responses are checked against.
   * @default `<repo root>/../shared/specs/qdrant-openapi-v1.19.json`
   */
  readonly specPath?: string;
  /**
   * The version `GET /` reports (the SDK's compatibility check compares it with its own).
   * @default '1.19.0'
   */
  readonly version?: string;
}

/** One request the server received, and what became of it. */
export interface QdrantLoopbackRequest {
  readonly method: string;
  /** The decoded path, without the query string. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: IncomingHttpHeaders;
  /** The parsed JSON body; the raw text when it is not JSON; undefined when empty. */
  readonly body: unknown;
  /** What the OpenAPI check found wrong with the query and body (empty when valid), checked even when a fault answered. */
  readonly requestErrors: readonly QdrantSchemaError[];
  /** The OpenAPI operation the request matched (`query_points`, ...); undefined for unknown routes. */
  readonly operationId: string | undefined;
  /** The fault that answered it, if any (`status 429`, `hang`, ...). */
  readonly fault: string | undefined;
  /** The status sent; undefined while pending, or when no answer was sent (hang, dropped connection). */
  readonly status: number | undefined;
  /** The body sent (parsed), if any. */
  readonly responseBody: unknown;
  /** True once the answer was checked against the spec (every answer the server builds is). */
  readonly responseChecked: boolean;
  /** True when the client closed the connection before the answer was complete (an abort). */
  readonly closedByClient: boolean;
  /** Numbers the TCP connections in order of arrival: equal numbers mean a reused keep-alive connection. */
  readonly connection: number;
}

/** An answer of the server that did not match the OpenAPI description: a bug in the server. */
export interface QdrantSpecViolation {
  readonly operationId: string;
  readonly status: number;
  readonly errors: readonly QdrantSchemaError[];
  readonly body: unknown;
}

/** A running loopback server and its controls. */
export interface QdrantLoopbackServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Every request received, in order. */
  readonly requests: readonly QdrantLoopbackRequest[];
  /**
   * Answers that failed the spec check (each was replaced by a 500), and requests the server
   * failed to handle (a bug). `close()` rejects while any remain.
   */
  readonly specViolations: readonly QdrantSpecViolation[];
  /** Answers the next `times` requests with `fault` (queued after earlier ones). */
  failNext(fault: QdrantLoopbackFault, times?: number): void;
  /** Answers every request with `fault` until `clearFaults()`; `next` faults go first. */
  failAlways(fault: QdrantLoopbackFault): void;
  clearFaults(): void;
  /** Returns the spec violations recorded so far and forgets them (for tests that provoke one). */
  takeSpecViolations(): QdrantSpecViolation[];
  /** Throws, listing them, when any answer failed the spec check. */
  assertNoSpecViolations(): void;
  /** The number of points in a collection; undefined when it does not exist. */
  pointCount(collection: string): number | undefined;
  collectionNames(): string[];
  /** Drops every collection, recorded request and fault. */
  reset(): void;
  /** Stops the server, ending hanging requests and open connections; rejects when spec violations remain. */
  close(): Promise<void>;
}

type MutableRequest = { -readonly [K in keyof QdrantLoopbackRequest]: QdrantLoopbackRequest[K] };

interface Route {
  readonly method: string;
  /** The path template of the OpenAPI description. */
  readonly template: string;
  readonly handle: (context: RouteContext) => unknown;
  /** Routes answered without the `{ result, status, time }` envelope (`GET /`). */
  readonly bare?: boolean;
}

interface RouteContext {
  readonly collection: string;
  readonly body: Record<string, unknown>;
  readonly query: Readonly<Record<string, unknown>>;
}

/**
 * Starts a Qdrant-protocol server on 127.0.0.1 (ephemeral port) for tests: the endpoints the
 * Qdrant adapter uses, with Qdrant's semantics over in-memory collections (exact cosine search,
 * filters, scroll by id, delete by ids or filter). Every request body and query is checked
 * against the official OpenAPI description (an invalid one gets 400 with the schema errors, as
 * Qdrant refuses it), and so is every answer the server builds: an answer that does not match is
 * recorded as a spec violation, replaced by a 500, and makes `close()` reject.
 *
 * @example
 * ```ts
 * const server = await startQdrantLoopbackServer();
 * const store = createQdrantVectorStore({ url: server.url, checkCompatibility: false });
 * server.failNext({ status: 429, retryAfterSeconds: 2 });
 * await server.close();
 * ```
 */
export async function startQdrantLoopbackServer(options: QdrantLoopbackServerOptions = {}): Promise<QdrantLoopbackServer> {
  const validator = await loadQdrantOpenApiValidator(options.specPath);
  const version = options.version ?? '1.19.0';
  const collections = new QdrantLoopbackCollections();
  const requests: MutableRequest[] = [];
  const specViolations: QdrantSpecViolation[] = [];
  const nextFaults: QdrantLoopbackFault[] = [...(options.faults?.next ?? [])];
  let alwaysFault = options.faults?.always;
  const hanging = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  /** Answers the server itself cut off (a dropped connection fault), not the client. */
  const serverDestroyed = new WeakSet<ServerResponse>();
  let closing = false;
  let connectionCount = 0;

  const routes: readonly Route[] = [
    { method: 'GET', template: '/', bare: true, handle: () => ({ title: 'qdrant - vector search engine', version, commit: 'loopback' }) },
    { method: 'GET', template: '/collections', handle: () => ({ collections: collections.names().map((name) => ({ name })) }) },
    { method: 'GET', template: '/collections/{collection_name}', handle: ({ collection }) => collections.info(collection) },
    { method: 'PUT', template: '/collections/{collection_name}', handle: ({ collection, body }) => collections.create(collection, body) },
    { method: 'DELETE', template: '/collections/{collection_name}', handle: ({ collection }) => collections.drop(collection) },
    { method: 'GET', template: '/collections/{collection_name}/exists', handle: ({ collection }) => ({ exists: collections.exists(collection) }) },
    { method: 'PUT', template: '/collections/{collection_name}/index', handle: ({ collection, body, query }) => collections.createPayloadIndex(collection, body, query.wait === true) },
    { method: 'PUT', template: '/collections/{collection_name}/points', handle: ({ collection, body, query }) => collections.upsert(collection, body, query.wait === true) },
    { method: 'POST', template: '/collections/{collection_name}/points/query', handle: ({ collection, body }) => collections.query(collection, body) },
    {
      method: 'POST',
      template: '/collections/{collection_name}/points/query/batch',
      handle: ({ collection, body }) => (Array.isArray(body.searches) ? body.searches : []).map((search: unknown) => collections.query(collection, search as Record<string, unknown>)),
    },
    { method: 'POST', template: '/collections/{collection_name}/points/scroll', handle: ({ collection, body }) => collections.scroll(collection, body) },
    { method: 'POST', template: '/collections/{collection_name}/points/delete', handle: ({ collection, body, query }) => collections.delete(collection, body, query.wait === true) },
  ];

  const server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      // A bug in the server itself: answer 500 so the client sees it, and fail `close()` like a spec violation.
      specViolations.push({ operationId: `${request.method ?? 'GET'} ${request.url ?? '/'}`, status: 500, errors: [{ path: '', message: `the server threw ${String(error)}` }], body: undefined });
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ status: { error: `Qdrant loopback server bug: ${String(error)}` }, time: 0 }));
    });
  });
  const connectionNumbers = new WeakMap<Socket, number>();
  server.on('connection', (socket) => {
    connectionCount += 1;
    connectionNumbers.set(socket, connectionCount);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const text = await readBody(request);
    const body = parseBody(text);
    const matched = matchRoute(routes, request.method ?? 'GET', url.pathname);
    const operation = matched === undefined ? undefined : validator.operation(matched.route.method, matched.route.template);
    // Checked before any fault applies, so a request answered by a fault is checked too.
    const query = operation === undefined ? {} : coerceQuery(Object.fromEntries(url.searchParams), operation);
    const valid = { valid: true } as const;
    const queryCheck = operation === undefined ? valid : operation.checkQuery(query);
    const bodyCheck = operation === undefined || !body.valid ? valid : operation.checkRequestBody(body.value);
    const requestErrors = [...(queryCheck.valid ? [] : queryCheck.errors), ...(bodyCheck.valid ? [] : bodyCheck.errors)];
    const record: MutableRequest = {
      method: request.method ?? 'GET',
      path: decodeURIComponent(url.pathname),
      query: Object.fromEntries(url.searchParams),
      headers: request.headers,
      body: body.value,
      requestErrors: body.valid ? requestErrors : [{ path: '', message: `not JSON: ${body.error}` }],
      operationId: operation?.operationId,
      fault: undefined,
      status: undefined,
      responseBody: undefined,
      responseChecked: false,
      closedByClient: false,
      connection: connectionNumbers.get(request.socket) ?? 0,
    };
    requests.push(record);
    response.on('close', () => {
      hanging.delete(response);
      if (!response.writableFinished && !serverDestroyed.has(response) && !closing) record.closedByClient = true;
    });

    const time = (): number => (performance.now() - started) / 1000;
    /** Sends a checked answer: the envelope (or a bare body), validated against the operation's schema for `status`. */
    const answer = (status: number, payload: unknown, headers: Record<string, string> = {}, transform?: (body: unknown) => unknown): void => {
      let sent = transform === undefined ? payload : transform(payload);
      const check = operation === undefined ? validator.checkComponent('ErrorResponse', sent) : operation.checkResponse(status, sent);
      record.responseChecked = true;
      if (!check.valid) {
        specViolations.push({ operationId: operation?.operationId ?? `${record.method} ${record.path}`, status, errors: check.errors, body: sent });
        status = 500;
        sent = { status: { error: `Qdrant loopback server answer failed the OpenAPI check: ${formatErrors(check.errors)}` }, time: time() };
      }
      record.status = status;
      record.responseBody = sent;
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(JSON.stringify(sent));
    };
    const refuse = (status: number, error: string, headers?: Record<string, string>, transform?: (body: unknown) => unknown): void =>
      answer(status, { status: { error }, time: time() }, headers, transform);

    const fault = nextFaults.shift() ?? alwaysFault;
    if (fault !== undefined && !('transformResponse' in fault)) {
      record.fault = describeQdrantFault(fault);
      applyFault(fault, response, record, refuse);
      return;
    }
    const transform = fault === undefined ? undefined : fault.transformResponse;
    if (fault !== undefined) record.fault = describeQdrantFault(fault);

    if (options.apiKey !== undefined) {
      const key = request.headers['api-key'] ?? bearerToken(request.headers.authorization);
      if (key === undefined) return refuse(401, 'Must provide an API key or an Authorization bearer token', undefined, transform);
      if (key !== options.apiKey) return refuse(403, 'Invalid API key or JWT', undefined, transform);
    }
    if (matched === undefined || operation === undefined) return refuse(404, `Not found: no route for ${record.method} ${record.path}`, undefined, transform);
    if (!body.valid) return refuse(400, `Format error in JSON body: ${body.error}`, undefined, transform);

    if (!queryCheck.valid) return refuse(400, `Query deserialize error: ${formatErrors(queryCheck.errors)}`, undefined, transform);
    if (!bodyCheck.valid) return refuse(400, `Format error in JSON body: ${formatErrors(bodyCheck.errors)}`, undefined, transform);

    let result: unknown;
    try {
      result = matched.route.handle({ collection: matched.collection, body: isRecord(body.value) ? body.value : {}, query });
    } catch (error) {
      if (error instanceof QdrantLoopbackHttpError) return refuse(error.status, error.message, undefined, transform);
      throw error;
    }
    answer(200, matched.route.bare === true ? result : { result, status: 'ok', time: time() }, {}, transform);
  }

  function applyFault(
    fault: Exclude<QdrantLoopbackFault, { transformResponse: unknown }>,
    response: ServerResponse,
    record: MutableRequest,
    refuse: (status: number, error: string, headers?: Record<string, string>) => void,
  ): void {
    if ('status' in fault) {
      const retryAfter = fault.retryAfter ?? (fault.retryAfterSeconds === undefined ? undefined : String(fault.retryAfterSeconds));
      refuse(fault.status, fault.error ?? STATUS_CODES[fault.status] ?? 'Error', retryAfter === undefined ? {} : { 'retry-after': retryAfter });
    } else if ('hang' in fault) {
      hanging.add(response);
    } else if ('dropConnection' in fault) {
      serverDestroyed.add(response);
      if (fault.dropConnection === 'before-response') {
        response.socket?.destroy();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096' });
      response.write('{"result":{"points":[{"id":', () => setImmediate(() => response.socket?.destroy()));
    } else {
      const { status = 200, body, contentType = 'application/json' } = fault.rawResponse;
      record.status = status;
      record.responseBody = body;
      response.writeHead(status, { 'content-type': contentType });
      response.end(body);
    }
  }

  const { url } = await listenOnLoopback(server);

  return {
    url,
    requests,
    specViolations,
    failNext(fault, times = 1) {
      for (let index = 0; index < times; index++) nextFaults.push(fault);
    },
    failAlways(fault) {
      alwaysFault = fault;
    },
    clearFaults() {
      nextFaults.length = 0;
      alwaysFault = undefined;
    },
    takeSpecViolations() {
      return specViolations.splice(0);
    },
    assertNoSpecViolations() {
      if (specViolations.length > 0) throw new Error(describeViolations(specViolations));
    },
    pointCount: (collection) => collections.pointCount(collection),
    collectionNames: () => collections.names(),
    reset() {
      collections.clear();
      requests.length = 0;
      nextFaults.length = 0;
      alwaysFault = undefined;
    },
    async close() {
      closing = true;
      for (const response of hanging) response.destroy();
      hanging.clear();
      const closed = new Promise<void>((resolve, reject) => server.close((error) => (error === undefined ? resolve() : reject(error))));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await closed;
      if (specViolations.length > 0) throw new Error(describeViolations(specViolations));
    },
  };
}

function matchRoute(routes: readonly Route[], method: string, pathname: string): { route: Route; collection: string } | undefined {
  const segments = pathname.split('/').slice(1);
  for (const route of routes) {
    if (route.method !== method) continue;
    const templateSegments = route.template.split('/').slice(1);
    if (templateSegments.length !== segments.length) continue;
    let collection = '';
    const matches = templateSegments.every((part, index) => {
      const segment = segments[index] ?? '';
      if (part === '{collection_name}') {
        collection = decodeURIComponent(segment);
        return segment !== '';
      }
      return part === segment;
    });
    if (matches) return { route, collection };
  }
  return undefined;
}

/** Query parameters arrive as text; the spec types them (`wait: boolean`, `timeout: integer`). */
function coerceQuery(query: Readonly<Record<string, string>>, operation: QdrantOperationValidator): Record<string, unknown> {
  const coerced: Record<string, unknown> = {};
  for (const [name, text] of Object.entries(query)) {
    const type = operation.queryParameters.get(name)?.type;
    if (type === 'boolean' && (text === 'true' || text === 'false')) coerced[name] = text === 'true';
    else if ((type === 'integer' || type === 'number') && text.trim() !== '' && Number.isFinite(Number(text))) coerced[name] = Number(text);
    else coerced[name] = text;
  }
  return coerced;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(text: string): { valid: true; value: unknown } | { valid: false; value: string; error: string } {
  if (text === '') return { valid: true, value: undefined };
  try {
    return { valid: true, value: JSON.parse(text) };
  } catch (error) {
    return { valid: false, value: text, error: error instanceof Error ? error.message : String(error) };
  }
}

function bearerToken(authorization: string | undefined): string | undefined {
  const match = authorization === undefined ? null : /^Bearer\s+(.+)$/i.exec(authorization);
  return match?.[1];
}

function formatErrors(errors: readonly QdrantSchemaError[]): string {
  return errors.map((error) => `${error.path === '' ? '(body)' : error.path}: ${error.message}`).join('; ');
}

function describeViolations(violations: readonly QdrantSpecViolation[]): string {
  const lines = violations.map((violation) => `- ${violation.operationId} ${violation.status}: ${formatErrors(violation.errors)}`);
  return `The Qdrant loopback server sent ${violations.length} answer(s) that do not match the OpenAPI description:\n${lines.join('\n')}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
