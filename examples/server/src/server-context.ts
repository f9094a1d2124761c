import type { BriefingPipeline } from '@aidoc/core';
import type { Adapters, AppConfig } from '@aidoc/example-config';
import type { BriefingTracker } from './briefing-tracker.ts';
import type { ServerMetrics } from './server-metrics.ts';

/** What the routes of one server share. */
export interface ServerContext {
  readonly config: AppConfig;
  readonly adapters: Adapters;
  readonly pipeline: BriefingPipeline;
  readonly tracker: BriefingTracker;
  readonly metrics: ServerMetrics;
  /** Set by `shutdown()`: new requests get 503 SHUTTING_DOWN while in-flight briefings drain. */
  shuttingDown: boolean;
}

const contexts = new WeakMap<object, ServerContext>();

/** Remembers the context of `server`, for `shutdown()`. */
export function attachContext(server: object, context: ServerContext): void {
  contexts.set(server, context);
}

/** The context `buildServer` attached to `server`. */
export function contextOf(server: object): ServerContext {
  const context = contexts.get(server);
  if (context === undefined) throw new TypeError('Not a server built by buildServer()');
  return context;
}
