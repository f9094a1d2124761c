import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Anthropic from '@anthropic-ai/sdk';
import { AidocError, type AidocErrorCode } from '@aidoc/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAnthropicModel } from '../src/index.ts';
import { startAnthropicLoopbackServer, type AnthropicLoopbackFault, type AnthropicLoopbackServer } from '@aidoc/loopback-servers';
import { API_KEY, TOOLS, modelOn, rejectionOf, requestOf } from './support/anthropic-fixtures.ts';

let server: AnthropicLoopbackServer;
beforeAll(async () => {
  server = await startAnthropicLoopbackServer({ apiKey: API_KEY });
});
afterAll(() => server.close());
beforeEach(() => {
  server.reset();
  server.setResponder(() => ({ content: [{ type: 'text', text: MODEL_TEXT }] }));
});

// Stand-ins for patient data: none may appear in an error message or its details.
const PATIENT_TEXT = 'PATIENT-SENTINEL Jane Roe, MRN 0042, eGFR 38';
const MODEL_TEXT = 'MODEL-SENTINEL reduce the metformin dose now, Jane Roe';

async function failureOn(fault: AnthropicLoopbackFault, stream: boolean): Promise<AidocError> {
  const model = modelOn(server, { stream }, server.urlWithFault(fault));
  const error = await rejectionOf(model.generate(requestOf(PATIENT_TEXT, { system: `Record: ${PATIENT_TEXT}` })));
  if (!AidocError.isInstance(error)) throw new Error(`expected an AidocError, got ${String(error)}`);
  return error;
}

function expectNoPatientData(error: AidocError): void {
  // The cause is kept for debugging and may end up in logs: it must not quote the conversation either.
  const cause = error.cause instanceof Error ? `${error.cause.message} ${String((error.cause as { cause?: unknown }).cause)}` : String(error.cause);
  const shown = `${error.message} ${String(error)} ${JSON.stringify(error.details)} ${cause}`;
  for (const secret of ['PATIENT-S', 'MODEL-S', 'Jane Roe', API_KEY]) expect(shown).not.toContain(secret);
}

interface FaultCase {
  readonly name: string;
  readonly fault: AnthropicLoopbackFault;
  readonly code: AidocErrorCode;
  readonly retryable: boolean;
  readonly modes?: readonly boolean[];
  readonly retryAfterMs?: number;
  readonly mentions?: RegExp;
  /** The adapter found the fault itself: there is no SDK error to keep as `cause`. */
  readonly detectedByAdapter?: boolean;
}

const cases: FaultCase[] = [
  { name: '429 with retry-after-ms', fault: { type: 'rate_limited', retryAfterMs: 1500, retryAfterSeconds: 9 }, code: 'RATE_LIMITED', retryable: true, retryAfterMs: 1500 },
  { name: '429 with retry-after in seconds', fault: { type: 'rate_limited', retryAfterSeconds: 2 }, code: 'RATE_LIMITED', retryable: true, retryAfterMs: 2000 },
  { name: '429 without retry-after', fault: { type: 'rate_limited' }, code: 'RATE_LIMITED', retryable: true, retryAfterMs: undefined },
  { name: '529 overloaded', fault: { type: 'overloaded' }, code: 'UPSTREAM_UNAVAILABLE', retryable: true, mentions: /529 overloaded_error/ },
  { name: '500', fault: { type: 'server_error' }, code: 'UPSTREAM_UNAVAILABLE', retryable: true },
  { name: '503', fault: { type: 'server_error', status: 503 }, code: 'UPSTREAM_UNAVAILABLE', retryable: true },
  { name: '408', fault: { type: 'error', status: 408, errorType: 'timeout_error' }, code: 'TIMEOUT', retryable: true },
  { name: '400 invalid_request_error', fault: { type: 'error', status: 400, errorType: 'invalid_request_error', message: 'max_tokens: too large' }, code: 'INVALID_INPUT', retryable: false, mentions: /400 invalid_request_error: max_tokens: too large/ },
  { name: '401', fault: { type: 'error', status: 401, errorType: 'authentication_error', message: 'invalid x-api-key' }, code: 'INVALID_INPUT', retryable: false, mentions: /ANTHROPIC_API_KEY/ },
  { name: '403', fault: { type: 'error', status: 403, errorType: 'permission_error' }, code: 'INVALID_INPUT', retryable: false, mentions: /ANTHROPIC_API_KEY/ },
  { name: '404 unknown model', fault: { type: 'error', status: 404, errorType: 'not_found_error', message: 'model: claude-nope' }, code: 'INVALID_INPUT', retryable: false, mentions: /`model`/ },
  { name: '413 request_too_large', fault: { type: 'error', status: 413, errorType: 'request_too_large' }, code: 'INVALID_INPUT', retryable: false },
  { name: 'a connection cut mid-reply (terminated)', fault: { type: 'cut' }, code: 'UPSTREAM_UNAVAILABLE', retryable: true },
  { name: 'a connection cut before the first event', fault: { type: 'cut', afterEvents: 0 }, code: 'UPSTREAM_UNAVAILABLE', retryable: true, modes: [true] },
  { name: 'a connection cut just before message_stop', fault: { type: 'cut', afterEvents: -1 }, code: 'UPSTREAM_UNAVAILABLE', retryable: true, modes: [true] },
  { name: 'a stream that ends cleanly without message_stop', fault: { type: 'cut', afterEvents: -1, graceful: true }, code: 'UPSTREAM_UNAVAILABLE', retryable: true, modes: [true], mentions: /before message_stop/, detectedByAdapter: true },
  { name: 'a JSON body that ends cleanly half-way', fault: { type: 'cut', graceful: true }, code: 'INVALID_OUTPUT', retryable: true, modes: [false] },
  { name: 'a reply that is not JSON', fault: { type: 'malformed' }, code: 'INVALID_OUTPUT', retryable: true },
  { name: 'in-stream overloaded_error', fault: { type: 'stream_error', errorType: 'overloaded_error' }, code: 'UPSTREAM_UNAVAILABLE', retryable: true, mentions: /overloaded_error/ },
  { name: 'in-stream api_error', fault: { type: 'stream_error', errorType: 'api_error' }, code: 'UPSTREAM_UNAVAILABLE', retryable: true },
  { name: 'in-stream rate_limit_error', fault: { type: 'stream_error', errorType: 'rate_limit_error' }, code: 'RATE_LIMITED', retryable: true },
  { name: 'in-stream invalid_request_error', fault: { type: 'stream_error', errorType: 'invalid_request_error', message: 'bad' }, code: 'INVALID_INPUT', retryable: false },
  { name: 'in-stream timeout_error', fault: { type: 'stream_error', errorType: 'timeout_error' }, code: 'TIMEOUT', retryable: true, modes: [true] },
];

describe('failures', () => {
  for (const failureCase of cases) {
    for (const stream of failureCase.modes ?? [false, true]) {
      it(`${failureCase.name} (${stream ? 'streaming' : 'JSON'}) → ${failureCase.code}, one request, no patient data in the error`, async () => {
        const error = await failureOn(failureCase.fault, stream);
        expect({ code: error.code, retryable: error.retryable }).toEqual({ code: failureCase.code, retryable: failureCase.retryable });
        if ('retryAfterMs' in failureCase) expect(error.retryAfterMs).toBe(failureCase.retryAfterMs);
        if (failureCase.mentions !== undefined) expect(error.message).toMatch(failureCase.mentions);
        if (failureCase.detectedByAdapter !== true) expect(error.cause).toBeDefined();
        expectNoPatientData(error);
        // Retries live in core: the SDK made exactly one attempt.
        expect(server.requests).toHaveLength(1);
      });
    }
  }

  it('the SDK logs nothing (it would print the unparsable chunk, i.e. model text)', async () => {
    // A child process: the SDK binds console methods once per process, out of reach of spies.
    const { ANTHROPIC_LOG: _unset, ...environment } = process.env;
    server.setResponder(() => ({ content: [{ type: 'text', text: MODEL_TEXT }] }));
    const probe = fileURLToPath(new URL('./support/anthropic-log-probe.ts', import.meta.url));
    const baseURL = server.urlWithFault({ type: 'malformed' });
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--conditions=@aidoc/source', probe, baseURL, API_KEY], { env: environment, timeout: 15_000 });
    expect(server.requests).toHaveLength(1);
    expect(`${stdout}${stderr}`).not.toMatch(/MODEL-S|Jane Roe/);
  });

  it('the model text streamed before a cut never reaches the error', async () => {
    const error = await failureOn({ type: 'cut', afterEvents: 5 }, true);
    expect(error.code).toBe('UPSTREAM_UNAVAILABLE');
    expectNoPatientData(error);
  });

  it('a 400 from request validation (a tool_result answering no tool_use) → INVALID_INPUT naming the path, not the content', async () => {
    const error = await rejectionOf(
      modelOn(server).generate(
        requestOf('', {
          tools: TOOLS,
          messages: [
            { role: 'user', content: [{ type: 'text', text: PATIENT_TEXT }] },
            { role: 'assistant', content: [{ type: 'text', text: MODEL_TEXT }] },
            { role: 'user', content: [{ type: 'tool_result', toolCallId: 'toolu_unknown', content: PATIENT_TEXT }] },
          ],
        }),
      ),
    );
    expect(AidocError.hasCode(error, 'INVALID_INPUT')).toBe(true);
    expect((error as AidocError).message).toMatch(/messages\.2\.content\.0\.tool_use_id/);
    expectNoPatientData(error as AidocError);
  });

  it('a wrong API key → INVALID_INPUT naming ANTHROPIC_API_KEY, not the key', async () => {
    const error = await rejectionOf(createAnthropicModel({ apiKey: 'wrong-key', baseURL: server.url }).generate(requestOf('hello')));
    expect(AidocError.hasCode(error, 'INVALID_INPUT')).toBe(true);
    expect((error as AidocError).retryable).toBe(false);
    expect((error as AidocError).message).toMatch(/ANTHROPIC_API_KEY/);
    expect((error as AidocError).message).not.toContain('wrong-key');
  });

  it("the SDK's own timeout (timeoutMs) → TIMEOUT", async () => {
    const model = modelOn(server, { timeoutMs: 80 }, server.urlWithFault({ type: 'hang' }));
    const error = await rejectionOf(model.generate(requestOf('hello')));
    expect(AidocError.hasCode(error, 'TIMEOUT')).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('a refused connection → UPSTREAM_UNAVAILABLE', async () => {
    const closed = await startAnthropicLoopbackServer();
    const url = closed.url;
    await closed.close();
    const error = await rejectionOf(createAnthropicModel({ apiKey: API_KEY, baseURL: url }).generate(requestOf('hello')));
    expect(AidocError.hasCode(error, 'UPSTREAM_UNAVAILABLE')).toBe(true);
    expect((error as AidocError).retryable).toBe(true);
  });

  it('an injected client with retries configured still makes one attempt per call', async () => {
    const client = new Anthropic({ apiKey: API_KEY, baseURL: server.urlWithFault({ type: 'overloaded' }), maxRetries: 5 });
    const error = await rejectionOf(createAnthropicModel({ client }).generate(requestOf('hello')));
    expect(AidocError.hasCode(error, 'UPSTREAM_UNAVAILABLE')).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('an already-aborted signal rejects ABORTED without a request', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await rejectionOf(modelOn(server).generate(requestOf('hello', { signal: controller.signal })));
    expect(AidocError.hasCode(error, 'ABORTED')).toBe(true);
    expect(server.requests).toHaveLength(0);
  });

  it('an invalid request maxTokens → INVALID_INPUT without a request', async () => {
    const error = await rejectionOf(modelOn(server).generate(requestOf('hello', { maxTokens: 0 })));
    expect(AidocError.hasCode(error, 'INVALID_INPUT')).toBe(true);
    expect(server.requests).toHaveLength(0);
  });

  it('an explicit stream: false with a budget the SDK will not send unstreamed → INVALID_INPUT naming `stream`', async () => {
    const error = await rejectionOf(modelOn(server, { stream: false }).generate(requestOf('hello', { maxTokens: 64_000 })));
    expect(AidocError.hasCode(error, 'INVALID_INPUT')).toBe(true);
    expect((error as AidocError).message).toMatch(/`stream`/);
    expect(server.requests).toHaveLength(0);
  });
});
