import type { FastifyInstance } from 'fastify';
import { contextOf } from './server-context.ts';

export interface ShutdownOptions {
  /** How long in-flight briefings may run before they are aborted. @default 10_000 */
  readonly drainMs?: number;
}

/**
 * Graceful stop: stop accepting connections, answer new requests 503 SHUTTING_DOWN, let the
 * briefings in flight finish (those still running after `drainMs` are aborted), then close the
 * server and its adapters. Returns how many briefings had to be aborted. Idempotent.
 */
export function shutdown(server: FastifyInstance, options: ShutdownOptions = {}): Promise<number> {
  const context = contextOf(server);
  const existing = shutdowns.get(server);
  if (existing !== undefined) return existing;
  const done = (async () => {
    context.shuttingDown = true;
    if (server.server.listening) {
      // Stop accepting; fastify's close() later finds the listener closed, which it accepts.
      server.server.close(() => {});
      server.server.closeIdleConnections();
    }
    const aborted = await context.tracker.drain(options.drainMs ?? 10_000);
    await server.close();
    return aborted;
  })();
  shutdowns.set(server, done);
  return done;
}

const shutdowns = new WeakMap<FastifyInstance, Promise<number>>();
