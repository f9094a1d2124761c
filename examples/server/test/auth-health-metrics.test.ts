import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { resetPools } from '@aidoc/core';
import { createMockVectorStore } from '@aidoc/core/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isAuthorized } from '../src/bearer-auth.ts';
import { API_KEY, logCapture, mockAdapters, mockServer } from './support/test-server.ts';

let server: FastifyInstance | undefined;
let publicDirectory: string;

beforeAll(async () => {
  publicDirectory = await mkdtemp(path.join(os.tmpdir(), 'aidoc-public-'));
  await writeFile(path.join(publicDirectory, 'index.html'), '<!doctype html><title>Patient briefing</title>');
  await writeFile(path.join(publicDirectory, 'app.js'), 'console.log("page");');
});
afterAll(() => rm(publicDirectory, { recursive: true, force: true }));
afterEach(async () => {
  await server?.close();
  server = undefined;
  resetPools();
});

describe('API key', () => {
  it('compares the bearer token exactly, whatever its length', () => {
    expect(isAuthorized(`Bearer ${API_KEY}`, API_KEY)).toBe(true);
    expect(isAuthorized(`bearer  ${API_KEY}`, API_KEY)).toBe(true);
    for (const header of [undefined, '', 'Bearer', `Basic ${API_KEY}`, `Bearer ${API_KEY}x`, `Bearer ${API_KEY.slice(0, -1)}`, `Bearer ${API_KEY} extra`]) {
      expect(isAuthorized(header, API_KEY), String(header)).toBe(false);
    }
  });

  it('guards /api, /readyz and /metrics with 401 + WWW-Authenticate, and opens them to the right key', async () => {
    ({ server } = await mockServer({ environment: { AIDOC_API_KEY: API_KEY }, publicDirectory }));
    const requests = [
      { method: 'GET' as const, url: '/api/v1/patients' },
      { method: 'POST' as const, url: '/api/v1/patients/1/briefing' },
      { method: 'GET' as const, url: '/readyz' },
      { method: 'GET' as const, url: '/metrics' },
      { method: 'GET' as const, url: '/api/v1/unknown' },
    ];
    for (const request of requests) {
      for (const authorization of [undefined, 'Bearer wrong-key-0123456789abcdef', API_KEY]) {
        const response = await server.inject({ ...request, headers: authorization === undefined ? {} : { authorization } });
        expect(response.statusCode, `${request.url} ${authorization}`).toBe(401);
        expect(response.headers['www-authenticate']).toBe('Bearer');
        expect(response.json()).toEqual({ code: 'UNAUTHORIZED', message: expect.any(String) as string });
      }
      const allowed = await server.inject({ ...request, headers: { authorization: `Bearer ${API_KEY}` } });
      expect(allowed.statusCode, request.url).toBe(request.url === '/api/v1/unknown' ? 404 : 200);
    }
  });

  it('leaves /healthz, / and /assets/* open (no data there)', async () => {
    ({ server } = await mockServer({ environment: { AIDOC_API_KEY: API_KEY }, publicDirectory }));
    expect((await server.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const page = await server.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('Patient briefing');
    const script = await server.inject({ method: 'GET', url: '/assets/app.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toMatch(/javascript/);
    expect((await server.inject({ method: 'GET', url: '/assets/../package.json' })).statusCode).not.toBe(200);
  });

  it('serves the real page directory (examples/server/public) by default', async () => {
    ({ server } = await mockServer());
    const page = await server.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
  });
});

describe('health, readiness and metrics', () => {
  it('is ready when the collection holds points and the patient repository answers', async () => {
    ({ server } = await mockServer());
    const response = await server.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ready', checks: { vectorStore: 'ok', patients: 'ok' } });
  });

  it('is not ready (503, naming the failed check) when the collection is empty or missing, or the repository fails', async () => {
    ({ server } = await mockServer({ adapters: mockAdapters({ emptyCollection: true }) }));
    const empty = await server.inject({ method: 'GET', url: '/readyz' });
    expect(empty.statusCode).toBe(503);
    expect(empty.json()).toMatchObject({ code: 'NOT_READY', message: expect.stringMatching(/vectorStore: .*empty: run ingestion/) as string, checks: { patients: 'ok' } });
    await server.close();

    const adapters = mockAdapters({ vectorStore: createMockVectorStore() });
    adapters.patients.failNext('unavailable');
    ({ server } = await mockServer({ adapters }));
    const missing = await server.inject({ method: 'GET', url: '/readyz' });
    expect(missing.statusCode).toBe(503);
    expect(missing.json()).toMatchObject({ checks: { vectorStore: expect.stringContaining('missing') as string, patients: 'unreachable (UPSTREAM_UNAVAILABLE)' } });
    expect((await server.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('exposes request, stage, in-flight, pool and event-loop metrics in Prometheus text', async () => {
    ({ server } = await mockServer());
    expect((await server.inject({ method: 'POST', url: '/api/v1/patients/1/briefing' })).statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const response = await server.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    const text = response.body;
    expect(text).toMatch(/aidoc_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/patients\/:id\/briefing",status_code="200"\} 1/);
    for (const span of ['model.generate', 'embedder.embed', 'vectorStore.queryBatch', 'patients.getById', 'vectorStore.info']) {
      expect(text).toContain(`aidoc_briefing_stage_duration_seconds_count{span="${span}",status="ok"}`);
    }
    expect(text).toMatch(/aidoc_briefing_stage_duration_seconds_count\{span="model.generate",status="ok"\} 2/);
    expect(text).toMatch(/^aidoc_briefings_in_flight 0$/m);
    expect(text).toMatch(/^aidoc_pool_queue_depth\{pool="model"\} 0$/m);
    expect(text).toMatch(/^aidoc_pool_active\{pool="embedder"\} 0$/m);
    expect(text).toMatch(/^aidoc_cpu_turn_queue 0$/m);
    expect(text).toMatch(/^aidoc_event_loop_delay_seconds\{quantile="0.99"\} [\d.e-]+$/m);
    expect(text).toMatch(/^aidoc_event_loop_utilization [\d.e-]+$/m);
  });
});

describe('logs', () => {
  it('write one line per request (method, route, status, duration, patient id) and no patient data or key', async () => {
    const logs = logCapture();
    ({ server } = await mockServer({ logger: logs.stream, environment: { AIDOC_API_KEY: API_KEY } }));
    const authorization = `Bearer ${API_KEY}`;
    expect((await server.inject({ method: 'POST', url: '/api/v1/patients/1/briefing?trace=1', headers: { authorization } })).statusCode).toBe(200);
    expect((await server.inject({ method: 'POST', url: '/api/v1/patients/1/briefing', headers: { authorization, accept: 'text/event-stream' } })).statusCode).toBe(200);
    expect((await server.inject({ method: 'GET', url: '/api/v1/patients', headers: { authorization } })).statusCode).toBe(200);
    expect((await server.inject({ method: 'POST', url: '/api/v1/patients/abc/briefing', headers: { authorization } })).statusCode).toBe(400);
    expect((await server.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);

    const text = logs.text();
    for (const secret of ['Alex', 'Example', '1958-04-12', API_KEY, 'Metformin', 'eGFR']) expect(text, secret).not.toContain(secret);
    const requests = logs.lines().filter((line) => line.msg === 'request completed');
    expect(requests).toHaveLength(5);
    expect(requests[0]).toMatchObject({ method: 'POST', route: '/api/v1/patients/:id/briefing', status: 200, patientId: '1', durationMs: expect.any(Number) as number });
    expect(requests[3]).toMatchObject({ status: 400 });
    expect(requests[3]).not.toHaveProperty('patientId');
    expect(requests[4]).toMatchObject({ route: '/metrics', status: 401 });
  });
});
