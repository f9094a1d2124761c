import { AidocError, resetPools, type TraceJson } from '@aidoc/core';
import { SCRIPTED_BRIEFING_EVENT_TYPES, createMockPatientRepository, examplePatientRecord } from '@aidoc/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { mockAdapters, mockServer, parseServerSentEvents, scriptedModel } from './support/test-server.ts';

const BRIEFING = '/api/v1/patients/1/briefing';

describe('briefing routes', () => {
  let server: FastifyInstance | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
    // A rate limit pauses the process-wide pool (as it should): start every test afresh.
    resetPools();
  });

  it('answers a JSON briefing with cited sources and usage, without a trace unless ?trace=1', async () => {
    ({ server } = await mockServer());
    const response = await server.inject({ method: 'POST', url: BRIEFING });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.json<Record<string, unknown>>();
    expect(Object.keys(body).sort()).toEqual(['briefing', 'sources', 'usage']);
    expect(body).toMatchObject({ briefing: { patientId: '1', recommendations: [{ citations: ['S1'] }] }, usage: { modelTurns: 2, toolCalls: 3 } });
    expect((body.sources as { id: string }[]).map((source) => source.id)).toEqual(['S1']);
  });

  it('adds the trace as TraceJson with ?trace=1, the critical path marked', async () => {
    ({ server } = await mockServer());
    const response = await server.inject({ method: 'POST', url: `${BRIEFING}?trace=1`, headers: { 'content-type': 'application/json' }, payload: '{}' });
    expect(response.statusCode).toBe(200);
    const { trace } = response.json<{ trace: TraceJson }>();
    const names = trace.spans.map((span) => span.name);
    expect(names).toEqual(expect.arrayContaining(['patients.getById', 'vectorStore.info', 'model.generate', 'embedder.embed', 'vectorStore.queryBatch']));
    expect(trace.spans.some((span) => span.critical)).toBe(true);
    expect(typeof trace.startedAt).toBe('string');
  });

  it('streams the events as SSE with Accept: text/event-stream, ending with done and its trace', async () => {
    ({ server } = await mockServer());
    const response = await server.inject({ method: 'POST', url: BRIEFING, headers: { accept: 'text/event-stream' } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
    const events = parseServerSentEvents(response.body);
    expect(events.map((event) => event.event)).toEqual([...SCRIPTED_BRIEFING_EVENT_TYPES]);
    expect(events[0]!.data).toEqual({ patientId: '1' });
    const done = events.at(-1)!.data as { usage: unknown; durationMs: number; trace: TraceJson };
    expect(Object.keys(done).sort()).toEqual(['durationMs', 'trace', 'usage']);
    expect(done.trace.spans.some((span) => span.name === 'model.generate' && span.critical)).toBe(true);
    expect((events.at(-2)!.data as { sources: { id: string }[] }).sources.map((source) => source.id)).toEqual(['S1']);
  });

  it('ends the stream with an error event when the briefing fails after it started', async () => {
    ({ server } = await mockServer());
    const response = await server.inject({ method: 'POST', url: '/api/v1/patients/999/briefing', headers: { accept: 'text/event-stream' } });
    expect(response.statusCode).toBe(200);
    const events = parseServerSentEvents(response.body);
    expect(events.at(-1)).toEqual({ event: 'error', data: { code: 'NOT_FOUND', message: expect.stringContaining('999') as string, retryable: false } });
  });

  it('answers a malformed id with a JSON 400 before any I/O, also when SSE is asked for', async () => {
    let adapters;
    ({ server, adapters } = await mockServer());
    for (const accept of ['application/json', 'text/event-stream']) {
      const response = await server.inject({ method: 'POST', url: "/api/v1/patients/1'%20OR%201=1/briefing", headers: { accept } });
      expect(response.statusCode).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.json()).toEqual({ code: 'INVALID_INPUT', message: expect.any(String) as string });
    }
    expect(adapters.patients.calls).toHaveLength(0);
  });

  it('answers an unknown patient with 404 NOT_FOUND', async () => {
    ({ server } = await mockServer());
    const response = await server.inject({ method: 'POST', url: '/api/v1/patients/42/briefing' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('answers a rate-limited upstream with 503 and Retry-After in seconds', async () => {
    const model = scriptedModel();
    model.failNext(new AidocError('RATE_LIMITED', 'quota exceeded', { retryAfterMs: 90_000 }));
    ({ server } = await mockServer({ adapters: mockAdapters({ model }) }));
    const response = await server.inject({ method: 'POST', url: BRIEFING });
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('90');
    expect(response.json()).toMatchObject({ code: 'RATE_LIMITED' });
  });

  it('answers an unavailable upstream whose retries ran out with 503, without Retry-After', async () => {
    const model = scriptedModel();
    model.failNext('unavailable', 1);
    ({ server } = await mockServer({ adapters: mockAdapters({ model }), policies: { model: { pool: 'model', retry: { attempts: 1 } } } }));
    const response = await server.inject({ method: 'POST', url: BRIEFING });
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBeUndefined();
    expect(response.json()).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
  });

  it('answers an empty collection with 503 COLLECTION_EMPTY telling to run ingestion', async () => {
    ({ server } = await mockServer({ adapters: mockAdapters({ emptyCollection: true }) }));
    const response = await server.inject({ method: 'POST', url: BRIEFING });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ code: 'COLLECTION_EMPTY', message: expect.stringContaining('run ingestion') as string });
  });

  it('answers other failures with a generic 500 that leaks nothing', async () => {
    const model = scriptedModel();
    model.failNext(new AidocError('INVALID_OUTPUT', 'model said: Alex Example, born 1958-04-12'));
    ({ server } = await mockServer({ adapters: mockAdapters({ model }) }));
    const response = await server.inject({ method: 'POST', url: BRIEFING });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ code: 'INVALID_OUTPUT', message: 'The server could not complete the request' });
    expect(response.body).not.toMatch(/Alex|1958|stack|at /);
  });

  it('accepts no body, an empty JSON body or {}, and rejects other bodies (400), big ones (413) and other types (415)', async () => {
    ({ server } = await mockServer());
    const post = (headers: Record<string, string>, payload?: string) => server!.inject({ method: 'POST', url: BRIEFING, headers, ...(payload === undefined ? {} : { payload }) });
    expect((await post({ 'content-type': 'application/json' }, '')).statusCode).toBe(200);
    expect((await post({ 'content-type': 'application/json; charset=utf-8' }, '{}')).statusCode).toBe(200);
    for (const payload of ['{"patientId":"2"}', '[]', 'null', '{bad json']) {
      const response = await post({ 'content-type': 'application/json' }, payload);
      expect(response.statusCode, payload).toBe(400);
      expect(response.json()).toMatchObject({ code: 'INVALID_INPUT' });
    }
    const large = await post({ 'content-type': 'application/json' }, JSON.stringify({ padding: 'x'.repeat(20_000) }));
    expect(large.statusCode).toBe(413);
    expect(large.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const response = await post({ 'content-type': type }, 'a=1');
      expect(response.statusCode, type).toBe(415);
      expect(response.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    }
  });

  it('lists the patients as { id, label }, or answers 501 when the repository cannot list', async () => {
    ({ server } = await mockServer());
    const listed = await server.inject({ method: 'GET', url: '/api/v1/patients' });
    expect(listed.statusCode).toBe(200);
    expect(listed.json()).toEqual({ patients: [{ id: '1', label: expect.any(String) as string }] });
    expect(listed.body).not.toMatch(/Alex|Example|1958/);
    await server.close();

    const repository = createMockPatientRepository({ records: [examplePatientRecord('1')] });
    const withoutList = Object.assign(Object.create(repository) as typeof repository, { list: undefined });
    ({ server } = await mockServer({ adapters: mockAdapters({ patients: withoutList }) }));
    const response = await server.inject({ method: 'GET', url: '/api/v1/patients' });
    expect(response.statusCode).toBe(501);
    expect(response.json()).toMatchObject({ code: 'NOT_IMPLEMENTED' });
  });

  it('answers unknown routes with a JSON 404', async () => {
    ({ server } = await mockServer());
    const response = await server.inject({ method: 'GET', url: '/api/v1/nothing' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ code: 'NOT_FOUND', message: 'No such route' });
  });
});
