import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Writable } from 'node:stream';
import { resetPools } from '@aidoc/core';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { shutdown } from '../src/shutdown.ts';
import { logCapture, mockAdapters, mockServer, scriptedModel, type TestAdapters } from './support/test-server.ts';

let server: FastifyInstance | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  resetPools();
});

async function until(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function listening(adapters: TestAdapters, logger?: Writable): Promise<{ port: number }> {
  ({ server } = await mockServer({ adapters, ...(logger === undefined ? {} : { logger }) }));
  await server.listen({ host: '127.0.0.1', port: 0 });
  return { port: (server.server.address() as AddressInfo).port };
}

describe('a client that disconnects', () => {
  for (const accept of ['application/json', 'text/event-stream']) {
    it(`aborts its briefing's upstream calls within 100 ms (${accept})`, async () => {
      const adapters = mockAdapters({ model: scriptedModel({ latency: { fixedMs: 10_000 } }) });
      const logs = logCapture();
      const { port } = await listening(adapters, logs.stream);
      const request = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/api/v1/patients/1/briefing', headers: { accept } });
      request.on('error', () => {});
      request.end();
      await until(() => adapters.model.pending === 1);
      const disconnectedAt = performance.now();
      request.destroy();
      await until(() => adapters.model.pending === 0, 100);
      expect(performance.now() - disconnectedAt).toBeLessThan(100);
      const call = adapters.model.calls[0]!;
      expect(call.outcome).toBe('rejected');
      expect(call.error?.code).toBe('ABORTED');
      await until(() => adapters.embedder.pending + adapters.vectorStore.pending + adapters.patients.pending === 0);
      if (accept === 'application/json') {
        // Recorded as the client's doing (499), never as a server error.
        await until(() => logs.lines().some((line) => line.msg === 'client disconnected; briefing aborted'));
        const logged = logs.lines().find((line) => line.msg === 'client disconnected; briefing aborted');
        expect(logged).toMatchObject({ status: 499, patientId: '1', route: '/api/v1/patients/:id/briefing' });
        expect(logs.lines().filter((line) => (line.level as number) >= 40)).toEqual([]);
        const metrics = await server!.inject({ method: 'GET', url: '/metrics' });
        expect(metrics.body).toMatch(/aidoc_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/patients\/:id\/briefing",status_code="499"\} 1/);
        expect(metrics.body).not.toMatch(/status_code="500"/);
      }
    });
  }
});

describe('shutdown', () => {
  it('lets in-flight briefings finish, answers new requests 503 SHUTTING_DOWN, then closes the adapters', async () => {
    const adapters = mockAdapters({ model: scriptedModel({ latency: { fixedMs: 150 } }) });
    ({ server } = await mockServer({ adapters }));
    const inFlight = server.inject({ method: 'POST', url: '/api/v1/patients/1/briefing' });
    await until(() => adapters.model.pending === 1);
    const stopped = shutdown(server, { drainMs: 5_000 });
    const refused = await server.inject({ method: 'GET', url: '/api/v1/patients' });
    expect(refused.statusCode).toBe(503);
    expect(refused.json()).toMatchObject({ code: 'SHUTTING_DOWN' });
    expect(refused.headers.connection).toBe('close');
    expect(adapters.closed.count).toBe(0);
    const finished = await inFlight;
    expect(finished.statusCode).toBe(200);
    expect(finished.json()).toHaveProperty('briefing');
    await expect(stopped).resolves.toBe(0);
    expect(adapters.closed.count).toBe(1);
    expect(shutdown(server, { drainMs: 5_000 })).toBe(shutdown(server));
    server = undefined;
  });

  it('aborts the briefings still running at the drain deadline', async () => {
    const adapters = mockAdapters({ model: scriptedModel({ latency: { fixedMs: 10_000 } }) });
    ({ server } = await mockServer({ adapters }));
    const inFlight = server.inject({ method: 'POST', url: '/api/v1/patients/1/briefing' });
    await until(() => adapters.model.pending === 1);
    const startedAt = performance.now();
    await expect(shutdown(server, { drainMs: 100 })).resolves.toBe(1);
    expect(performance.now() - startedAt).toBeLessThan(1_000);
    const response = await inFlight;
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ code: 'SHUTTING_DOWN' });
    expect(adapters.model.pending).toBe(0);
    expect(adapters.closed.count).toBe(1);
    server = undefined;
  });

  it('stops accepting connections on a listening server while the in-flight briefing completes', async () => {
    const adapters = mockAdapters({ model: scriptedModel({ latency: { fixedMs: 150 } }) });
    const { port } = await listening(adapters);
    const url = `http://127.0.0.1:${port}`;
    const inFlight = fetch(`${url}/api/v1/patients/1/briefing`, { method: 'POST' });
    await until(() => adapters.model.pending === 1);
    const stopped = shutdown(server!);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(((await response.json()) as { briefing: { patientId: string } }).briefing.patientId).toBe('1');
    await expect(stopped).resolves.toBe(0);
    expect(adapters.closed.count).toBe(1);
    server = undefined;
  });
});
