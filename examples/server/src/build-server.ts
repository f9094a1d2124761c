import path from 'node:path';
import fastifyStatic from '@fastify/static';
import { AidocError, createBriefingPipeline, type BriefingPolicies } from '@aidoc/core';
import { createAdapters, type Adapters, type AppConfig } from '@aidoc/example-config';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import { isAuthorized } from './bearer-auth.ts';
import { registerBriefingRoutes } from './briefing-routes.ts';
import { BriefingTracker } from './briefing-tracker.ts';
import { isClientDisconnect } from './client-disconnect.ts';
import { toErrorResponse } from './error-response.ts';
import { checkReadiness } from './readiness.ts';
import { attachContext, type ServerContext } from './server-context.ts';
import { createServerMetrics } from './server-metrics.ts';

export interface BuildServerOptions {
  readonly config: AppConfig;
  /** The adapters to use (tests inject mocks); default: `createAdapters(config, 'server')`. The server closes them on close. */
  readonly adapters?: Adapters;
  /** `true` (default), `false`, pino options, or a destination stream (`{ write }`) so tests can capture lines. */
  readonly logger?: boolean | object;
  /** Upstream policies (pools, timeouts, retries) of the briefing pipeline; default: core's. */
  readonly policies?: BriefingPolicies;
  /** Where the web page lives; default: `examples/server/public`. */
  readonly publicDirectory?: string;
}

/** Largest request body accepted (the briefing takes none; this bounds what a client can make us read). */
export const BODY_LIMIT_BYTES = 16 * 1024;

/** How long `/readyz` waits for each check. */
const READINESS_TIMEOUT_MS = 2_000;
/** nginx's status for a request whose client went away before the answer. */
const CLIENT_CLOSED_REQUEST = 499;

/** Routes that hold no data and stay open when an API key is configured. */
const PUBLIC_ROUTES: ReadonlySet<string> = new Set(['/', '/healthz', '/assets/*']);

const DEFAULT_PUBLIC_DIRECTORY = path.resolve(import.meta.dirname, '..', 'public');

/**
 * The briefing server with every route, hook and plugin registered (it does not listen).
 * Close it with `shutdown()` to drain in-flight briefings first, or `close()` to abort them.
 */
export async function buildServer(options: BuildServerOptions): Promise<FastifyInstance> {
  const { config } = options;
  const server = Fastify({
    logger: loggerOptions(options.logger),
    // Fastify's two lines per request (with URL, host, remote address) give way to our one line.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    return503OnClosing: false,
    // Errors Fastify raises before routing (a malformed %-escape, an over-long id) get the same
    // `{ code, message }` body as every other error, without echoing the URL.
    frameworkErrors: (error: FastifyError, _request: unknown, reply: FastifyReply) => {
      const response = toErrorResponse(error);
      void reply.code(response.status).send(response.body);
    },
  });
  const adapters = options.adapters ?? createAdapters(config, 'server');
  const metrics = createServerMetrics({ onMonitorUnavailable: () => server.log.warn('event-loop monitor already running in this process: no event-loop metrics') });
  const context: ServerContext = {
    config,
    adapters,
    pipeline: createBriefingPipeline({
      ...adapters,
      collection: config.AIDOC_COLLECTION,
      maxTurns: config.AIDOC_MAX_TURNS,
      ...(options.policies === undefined ? {} : { policies: options.policies }),
    }),
    tracker: new BriefingTracker((count) => metrics.setInFlight(count)),
    metrics,
    shuttingDown: false,
  };
  attachContext(server, context);

  registerJsonOnly(server);
  registerHooks(server, context);
  registerErrorHandlers(server, context);

  await server.register(fastifyStatic, { root: options.publicDirectory ?? DEFAULT_PUBLIC_DIRECTORY, prefix: '/assets/', index: false });
  server.get('/', (_request, reply) => reply.sendFile('index.html'));

  server.get('/healthz', () => ({ status: 'ok' }));
  server.get('/readyz', async (_request, reply) => {
    const { ready, checks } = await checkReadiness(adapters, config.AIDOC_COLLECTION, READINESS_TIMEOUT_MS);
    if (ready) return { status: 'ready', checks };
    const failed = Object.entries(checks).filter(([, outcome]) => outcome !== 'ok');
    return reply.code(503).send({ code: 'NOT_READY', message: failed.map(([name, outcome]) => `${name}: ${outcome}`).join('; '), checks });
  });
  server.get('/metrics', async (_request, reply) => reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics()));
  registerBriefingRoutes(server, context);

  server.addHook('onClose', async () => {
    // `shutdown()` drained already; a plain close() aborts what is left before the adapters go.
    await context.tracker.drain(0);
    metrics.close();
    await adapters.close();
  });
  return server;
}

/** Same-origin script, style, fetch and images (and the page's `data:` favicon); no framing, no plugins, no foreign forms. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Only `application/json` bodies (an empty one counts as none); anything else is 415. */
function registerJsonOnly(server: FastifyInstance): void {
  const parseJson = server.getDefaultJsonParser('error', 'error');
  server.removeAllContentTypeParsers();
  server.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text === '') {
      done(null, undefined);
      return;
    }
    void parseJson(request, text, done);
  });
}

function registerHooks(server: FastifyInstance, context: ServerContext): void {
  const apiKey = context.config.AIDOC_API_KEY;
  server.addHook('onRequest', async (request, reply) => {
    if (context.shuttingDown) {
      return reply.code(503).header('connection', 'close').header('retry-after', '5').send({ code: 'SHUTTING_DOWN', message: 'The server is shutting down' });
    }
    const route = request.routeOptions.url;
    if (apiKey !== undefined && (route === undefined || !PUBLIC_ROUTES.has(route)) && !isAuthorized(request.headers.authorization, apiKey)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ code: 'UNAUTHORIZED', message: 'A valid API key is required (Authorization: Bearer <key>)' });
    }
    return undefined;
  });
  server.addHook('onSend', async (request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    // The page loads its own script and stylesheet and talks to its own API, nothing else: an
    // injected script (say, through a guideline passage that slipped past escaping) cannot run,
    // phone home, or frame the page.
    reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
    reply.header('referrer-policy', 'no-referrer');
    // Briefings are patient data: no cache may keep them.
    if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
    if (context.shuttingDown) reply.header('connection', 'close');
  });
  server.addHook('onResponse', async (request, reply) => {
    // A client that left was recorded by the error handler.
    if (reply.statusCode === CLIENT_CLOSED_REQUEST) return;
    const route = request.routeOptions.url ?? 'unmatched';
    const durationMs = Math.round(reply.elapsedTime * 10) / 10;
    context.metrics.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime);
    request.log.info({ method: request.method, route, status: reply.statusCode, durationMs, ...patientIdOf(request.params) }, 'request completed');
  });
}

function registerErrorHandlers(server: FastifyInstance, context: ServerContext): void {
  server.setErrorHandler(async (error, request, reply) => {
    if (context.shuttingDown && AidocError.hasCode(error, 'ABORTED')) {
      return reply.code(503).send({ code: 'SHUTTING_DOWN', message: 'The server shut down before the briefing finished' });
    }
    if (isClientDisconnect(error)) {
      // nginx's "client closed request": recorded here (no response goes out, so onResponse does
      // not run), and as the client's doing, not as a server error that would page someone.
      const route = request.routeOptions.url ?? 'unmatched';
      context.metrics.observeRequest(request.method, route, CLIENT_CLOSED_REQUEST, reply.elapsedTime);
      const durationMs = Math.round(reply.elapsedTime * 10) / 10;
      request.log.info({ method: request.method, route, status: CLIENT_CLOSED_REQUEST, durationMs, ...patientIdOf(request.params) }, 'client disconnected; briefing aborted');
      return reply.code(CLIENT_CLOSED_REQUEST).send({ code: 'CLIENT_CLOSED_REQUEST', message: 'The client disconnected' });
    }
    const { status, body, retryAfterSeconds } = toErrorResponse(error);
    // The code only: messages, details and causes may quote upstream answers or patient data.
    if (status >= 500) request.log[status === 503 ? 'warn' : 'error']({ code: AidocError.isInstance(error) ? error.code : 'INTERNAL' }, 'request failed');
    if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds));
    return reply.code(status).send(body);
  });
  server.setNotFoundHandler(async (_request, reply) => reply.code(404).send({ code: 'NOT_FOUND', message: 'No such route' }));
}

/** The patient id of a briefing route, when well formed (anything else is never logged). */
function patientIdOf(params: unknown): { patientId?: string } {
  const id = typeof params === 'object' && params !== null && 'id' in params ? params.id : undefined;
  return typeof id === 'string' && /^\d{1,12}$/.test(id) ? { patientId: id } : {};
}

function loggerOptions(logger: boolean | object | undefined): FastifyServerOptions['logger'] {
  if (logger === false) return false;
  const base = { level: 'info', redact: { paths: ['req.headers.authorization', 'headers.authorization'], censor: '[redacted]' } };
  if (logger === true || logger === undefined) return base;
  if ('write' in logger && typeof logger.write === 'function') return { ...base, stream: logger as NodeJS.WritableStream };
  return { ...base, ...logger };
}
