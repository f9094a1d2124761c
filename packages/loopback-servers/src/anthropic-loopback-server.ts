import { listenOnLoopback } from './listen-on-loopback.ts';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { defaultAnthropicReply } from './anthropic-loopback-default-responder.ts';
import {
  formatSseEvent,
  messageStreamEvents,
  type AnthropicWireMessageResponse,
  type AnthropicWireResponseBlock,
} from './anthropic-loopback-events.ts';
import { AnthropicLoopbackPromptCache, estimateWireTokens } from './anthropic-loopback-prompt-cache.ts';
import type {
  AnthropicLoopbackFault,
  AnthropicLoopbackRecordedRequest,
  AnthropicLoopbackReply,
  AnthropicLoopbackRequestBody,
  AnthropicLoopbackResponder,
  AnthropicWireErrorType,
} from './anthropic-loopback-types.ts';
import { validateMessagesRequest } from './anthropic-loopback-validation.ts';

export interface AnthropicLoopbackServerOptions {
  /**
   * How to answer valid requests: a function of the request, or a script (the `n`-th reply
   * answers the `n`-th valid request; past its end the server answers 500 `api_error`).
   * @default defaultAnthropicReply: calls the forced tool, else echoes the last user text
   */
  readonly respond?: AnthropicLoopbackResponder | readonly AnthropicLoopbackReply[];
  /**
   * When set, every request must carry it as `x-api-key` or `Authorization: Bearer`; others get
   * 401 `authentication_error`.
   */
  readonly apiKey?: string;
  /** A fault applied to requests at `url` (change it later with `setFault`). */
  readonly fault?: AnthropicLoopbackFault;
  /**
   * Delay between two SSE events, so a test can act mid-stream.
   * @default 0
   */
  readonly eventDelayMs?: number;
  /**
   * Simulate prompt caching (cache breakpoints, `cache_read_input_tokens`,
   * `cache_creation_input_tokens`); otherwise both counters are 0.
   * @default true
   */
  readonly promptCache?: boolean;
}

/** A running loopback Messages API. */
export interface AnthropicLoopbackServer {
  /** The base URL to give the SDK (`baseURL`); the SDK posts to `${url}/v1/messages`. */
  readonly url: string;
  readonly port: number;
  /** Every request received, in order (invalid ones and faulted ones included). */
  readonly requests: readonly AnthropicLoopbackRecordedRequest[];
  /** The bodies of the valid `POST /v1/messages` requests, in order. */
  readonly messageRequests: readonly AnthropicLoopbackRequestBody[];
  /** Replaces the fault applied at `url` (undefined: none). */
  setFault(fault: AnthropicLoopbackFault | undefined): void;
  /** Replaces the responder (a script restarts at its first reply). */
  setResponder(respond: AnthropicLoopbackResponder | readonly AnthropicLoopbackReply[]): void;
  /**
   * A base URL on this server where every request meets `fault`, whatever `setFault` says, so
   * fault fixtures and healthy calls share one server.
   */
  urlWithFault(fault: AnthropicLoopbackFault): string;
  /** Forgets recorded requests, the prompt cache and the script position. */
  reset(): void;
  /** Closes the server and every open connection (hanging requests included). */
  close(): Promise<void>;
}

const FAULT_PREFIX = /^\/_fault\/(\d+)(\/.*)$/;

/**
 * Starts a server on 127.0.0.1 (ephemeral port) that speaks the Anthropic Messages API:
 * `POST /v1/messages` answered in JSON (`content-type: application/json`) or, with
 * `stream: true`, as SSE events (`message_start`, `ping`, `content_block_start`, `text_delta` /
 * `input_json_delta` deltas, `content_block_stop`, `message_delta`, `message_stop`). It validates
 * each request like the real API (see `validateMessagesRequest`), records it, simulates prompt
 * caching, and injects faults: 429 with `retry-after`, 529, 5xx, a hang, a connection cut
 * mid-reply, an in-stream `event: error`, a malformed body. Errors use the API's shape
 * `{ type: 'error', error: { type, message } }`.
 *
 * @example
 * ```ts
 * import Anthropic from '@anthropic-ai/sdk';
 *
 * const server = await startAnthropicLoopbackServer({ apiKey: 'test-key', respond: [{ content: [{ type: 'text', text: 'ready' }] }] });
 * const client = new Anthropic({ apiKey: 'test-key', baseURL: server.url, maxRetries: 0 });
 * await client.messages.create({ model: 'claude-sonnet-5-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
 * await server.close();
 * ```
 */
export async function startAnthropicLoopbackServer(options: AnthropicLoopbackServerOptions = {}): Promise<AnthropicLoopbackServer> {
  const eventDelayMs = options.eventDelayMs ?? 0;
  if (!Number.isFinite(eventDelayMs) || eventDelayMs < 0) throw new TypeError(`Expected \`eventDelayMs\` to be a non-negative number, got \`${String(eventDelayMs)}\``);
  const requests: AnthropicLoopbackRecordedRequest[] = [];
  const messageRequests: AnthropicLoopbackRequestBody[] = [];
  const cache = options.promptCache === false ? undefined : new AnthropicLoopbackPromptCache();
  const faults: AnthropicLoopbackFault[] = [];
  const faultUses = new Map<AnthropicLoopbackFault, number>();
  const connectionIds = new WeakMap<Socket, number>();
  let connections = 0;
  let fault = options.fault;
  let respond = options.respond ?? defaultAnthropicReply;
  let replies = 0;

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      // A bug in the server itself: answer 500 when still possible.
      if (!response.headersSent) sendError(response, 500, 'api_error', `Loopback server failure: ${error instanceof Error ? error.name : 'unknown'}`);
      else response.destroy();
    });
  });
  server.on('connection', (socket) => connectionIds.set(socket, ++connections));
  server.keepAliveTimeout = 5_000;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const raw = await readBody(request);
    const prefixed = FAULT_PREFIX.exec(request.url ?? '/');
    const path = (prefixed?.[2] ?? request.url ?? '/').split('?')[0]!;
    const requestFault = prefixed === null ? fault : faults[Number(prefixed[1])];
    let body: unknown;
    try {
      body = raw === '' ? undefined : (JSON.parse(raw) as unknown);
    } catch {
      body = undefined;
    }
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const record: AnthropicLoopbackRecordedRequest = {
      index: requests.length,
      method: request.method ?? 'GET',
      path,
      headers: { ...request.headers },
      body,
      stream: typeof body === 'object' && body !== null && (body as { stream?: unknown }).stream === true,
      connectionId: connectionIds.get(request.socket) ?? 0,
      status: undefined,
      fault: undefined,
      clientDisconnected: false,
      settled,
    };
    requests.push(record);
    let cutByServer = false;
    response.on('close', () => {
      if (!response.writableFinished && !cutByServer) record.clientDisconnected = true;
      settle();
    });
    response.on('finish', () => {
      record.status = response.statusCode;
    });
    const cut = (): void => {
      cutByServer = true;
      record.status = response.statusCode;
      response.destroy();
    };

    if (request.method !== 'POST' || path !== '/v1/messages') {
      sendError(response, 404, 'not_found_error', `Not found: ${request.method ?? ''} ${path}`);
      return;
    }
    if (options.apiKey !== undefined && !authorised(request, options.apiKey)) {
      sendError(response, 401, 'authentication_error', 'invalid x-api-key');
      return;
    }
    const version = request.headers['anthropic-version'];
    if (typeof version !== 'string' || version.trim() === '') {
      sendError(response, 400, 'invalid_request_error', 'anthropic-version: header is required');
      return;
    }
    if (body === undefined) {
      sendError(response, 400, 'invalid_request_error', 'The request body is not valid JSON');
      return;
    }
    const validation = validateMessagesRequest(body);
    if (!validation.valid) {
      sendError(response, 400, 'invalid_request_error', validation.message);
      return;
    }
    const valid = validation.body;
    messageRequests.push(valid);

    const active = requestFault !== undefined && takeFault(requestFault) ? requestFault : undefined;
    record.fault = active?.type;
    switch (active?.type) {
      case 'rate_limited': {
        const headers: Record<string, string> = {};
        if (active.retryAfterMs !== undefined) headers['retry-after-ms'] = String(active.retryAfterMs);
        if (active.retryAfterSeconds !== undefined) headers['retry-after'] = String(active.retryAfterSeconds);
        sendError(response, 429, 'rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit', headers);
        return;
      }
      case 'overloaded':
        sendError(response, 529, 'overloaded_error', 'Overloaded');
        return;
      case 'server_error':
        sendError(response, active.status ?? 500, 'api_error', 'Internal server error');
        return;
      case 'error':
        sendError(response, active.status, active.errorType, active.message ?? `Loopback ${active.errorType}`, active.headers);
        return;
      case 'hang':
        return;
      case 'malformed':
        break;
      case 'stream_error':
        if (!record.stream) {
          const errorType = active.errorType ?? 'overloaded_error';
          sendError(response, statusOf(errorType), errorType, active.message ?? 'Overloaded');
          return;
        }
        break;
      default:
        break;
    }

    let reply: AnthropicLoopbackReply;
    const replyIndex = replies++;
    try {
      reply = await nextReply(valid, { requestIndex: record.index, replyIndex, headers: record.headers });
    } catch (error) {
      sendError(response, 500, 'api_error', error instanceof ScriptExhausted ? error.message : 'The loopback responder failed');
      return;
    }
    const message = buildMessage(valid, reply, record.index);

    if (active?.type === 'malformed' && !record.stream) {
      response.writeHead(200, { 'content-type': 'application/json', 'request-id': requestId(record.index) });
      response.end(withStrayToken(JSON.stringify(message)));
      return;
    }
    if (!record.stream) {
      const json = JSON.stringify(message);
      if (active?.type === 'cut') {
        const half = json.slice(0, Math.floor(json.length / 2));
        if (active.graceful === true) {
          response.writeHead(200, { 'content-type': 'application/json', 'request-id': requestId(record.index) });
          response.end(half);
          return;
        }
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(json)), 'request-id': requestId(record.index) });
        response.write(half, cut);
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json', 'request-id': requestId(record.index) });
      response.end(json);
      return;
    }

    const events = messageStreamEvents(message);
    response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': requestId(record.index) });
    response.flushHeaders();
    const stopAt = active?.type === 'cut' || active?.type === 'stream_error' ? eventsBefore(active.afterEvents, events.length) : events.length;
    const corrupt = active?.type === 'malformed' ? Math.max(events.findIndex((event) => event.event === 'content_block_delta'), 0) : -1;
    for (let index = 0; index < stopAt; index++) {
      if (eventDelayMs > 0) await delay(eventDelayMs);
      if (response.destroyed) return;
      const frame = formatSseEvent(events[index]!);
      response.write(index === corrupt ? withStrayToken(frame) : frame);
    }
    if (active?.type === 'cut') {
      if (eventDelayMs > 0) await delay(eventDelayMs);
      if (active.graceful === true) response.end();
      else response.write('', cut);
      return;
    }
    if (active?.type === 'stream_error') {
      const errorType = active.errorType ?? 'overloaded_error';
      response.end(formatSseEvent({ event: 'error', data: { type: 'error', error: { type: errorType, message: active.message ?? 'Overloaded' } } }));
      return;
    }
    response.end();
  }

  function takeFault(candidate: AnthropicLoopbackFault): boolean {
    const used = faultUses.get(candidate) ?? 0;
    if (candidate.times !== undefined && used >= candidate.times) return false;
    faultUses.set(candidate, used + 1);
    return true;
  }

  async function nextReply(
    body: AnthropicLoopbackRequestBody,
    context: Parameters<AnthropicLoopbackResponder>[1],
  ): Promise<AnthropicLoopbackReply> {
    if (typeof respond === 'function') return respond(body, context);
    const scripted = respond[context.replyIndex];
    if (scripted === undefined) throw new ScriptExhausted(`The loopback script has ${respond.length} replies; request ${context.replyIndex + 1} has none`);
    return scripted;
  }

  function buildMessage(body: AnthropicLoopbackRequestBody, reply: AnthropicLoopbackReply, index: number): AnthropicWireMessageResponse {
    const content: AnthropicWireResponseBlock[] = reply.content.map((block, blockIndex) => {
      if (block.type === 'tool_use') return { type: 'tool_use', id: block.id ?? `toolu_loopback_${index}_${blockIndex}`, name: block.name, input: block.input };
      if (block.type === 'text') return { type: 'text', text: block.text, citations: null };
      return block;
    });
    const prompt = cache?.serve(body) ?? { inputTokens: estimateWireTokens(JSON.stringify(body)), cacheReadInputTokens: 0, cacheCreationInputTokens: 0 };
    return {
      id: `msg_loopback_${index}`,
      type: 'message',
      role: 'assistant',
      model: reply.model ?? body.model,
      content,
      stop_reason: reply.stop_reason ?? (content.some((block) => block.type === 'tool_use') ? 'tool_use' : 'end_turn'),
      stop_sequence: reply.stop_sequence ?? null,
      usage: {
        input_tokens: Math.max(prompt.inputTokens, 1),
        output_tokens: Math.max(estimateWireTokens(JSON.stringify(content)), 1),
        cache_read_input_tokens: prompt.cacheReadInputTokens,
        cache_creation_input_tokens: prompt.cacheCreationInputTokens,
        ...reply.usage,
      },
    };
  }

  const { url, port } = await listenOnLoopback(server);

  return {
    url,
    port,
    requests,
    messageRequests,
    setFault(next) {
      fault = next;
    },
    setResponder(next) {
      respond = next;
      replies = 0;
    },
    urlWithFault(next) {
      faults.push(next);
      return `${url}/_fault/${faults.length - 1}`;
    },
    reset() {
      requests.length = 0;
      messageRequests.length = 0;
      cache?.clear();
      faultUses.clear();
      replies = 0;
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      });
    },
  };
}

class ScriptExhausted extends Error {}

/**
 * Puts a stray token just before the first text value (or the content) of a JSON reply or SSE
 * frame, where a parser's error ("Unexpected token 'x', ...") quotes the text that follows: a
 * client must not pass that message on.
 */
function withStrayToken(json: string): string {
  const text = json.indexOf('"text":"');
  const at = text === -1 ? json.indexOf('{') + 1 : text + '"text":'.length;
  return `${json.slice(0, at)}x${json.slice(at)}`;
}

/** How many of `total` events go out before a cut: `afterEvents` (negative counts from the end), default half. */
function eventsBefore(afterEvents: number | undefined, total: number): number {
  if (afterEvents === undefined) return Math.floor(total / 2);
  return Math.max(0, Math.min(afterEvents < 0 ? total + afterEvents : afterEvents, total));
}

function requestId(index: number): string {
  return `req_loopback_${index}`;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function authorised(request: IncomingMessage, apiKey: string): boolean {
  const header = request.headers['x-api-key'];
  if (header === apiKey) return true;
  const authorization = request.headers.authorization;
  return authorization === `Bearer ${apiKey}`;
}

function statusOf(errorType: AnthropicWireErrorType): number {
  const statuses: Record<AnthropicWireErrorType, number> = {
    invalid_request_error: 400,
    authentication_error: 401,
    billing_error: 402,
    permission_error: 403,
    not_found_error: 404,
    request_too_large: 413,
    rate_limit_error: 429,
    timeout_error: 504,
    api_error: 500,
    overloaded_error: 529,
  };
  return statuses[errorType];
}

function sendError(
  response: ServerResponse,
  status: number,
  type: AnthropicWireErrorType,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  const body = JSON.stringify({ type: 'error', error: { type, message }, request_id: 'req_loopback_error' });
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(body);
}
