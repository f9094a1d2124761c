import type { PoolConfig } from '../executor/pool-registry.ts';

/**
 * Sizes of the named pools the pipelines use when the application has not defined them with
 * `definePools`. One table, so the briefing and ingest pipelines of a process agree on one budget
 * per upstream; size them to your quotas in production.
 */
export const DEFAULT_POOLS = {
  model: { concurrency: 64 },
  embedder: { concurrency: 16 },
  vectorStore: { concurrency: 32 },
  patients: { concurrency: 32 },
} as const satisfies Record<string, PoolConfig>;

export type DefaultPoolName = keyof typeof DEFAULT_POOLS;
