import { AidocError, AidocErrorCode } from '../errors/aidoc-error.ts';
import { ConcurrencyPool, validatePoolOptions, type PoolOptions } from './pool.ts';

/** A pool's settings in the registry (its name is the key). */
export type PoolConfig = Omit<PoolOptions, 'name'>;

/**
 * The registry lives on `globalThis` under a registered symbol, so two copies of @aidoc/core in
 * one process (a dependency pinning another version) share one budget per upstream instead of
 * each allowing its own `concurrency`. Pools are used by shape (`run`, counters), which is
 * stable across versions of this package.
 */
const REGISTRY_KEY = Symbol.for('@aidoc/core/pools');

function registry(): Map<string, ConcurrencyPool> {
  const holder = globalThis as { [REGISTRY_KEY]?: Map<string, ConcurrencyPool> };
  return (holder[REGISTRY_KEY] ??= new Map<string, ConcurrencyPool>());
}

/**
 * Creates the named pools, or reconfigures those that exist to exactly the given settings
 * (an omitted `rate` removes the limit); in-flight calls are kept and a lower `concurrency`
 * applies as they finish. Every entry is validated before any is applied, so a
 * bad entry changes nothing.
 *
 * @example definePools({ embedder: { concurrency: 16 }, llm: { concurrency: 4, rate: { limit: 50, intervalMs: 60_000 } } })
 */
export function definePools(config: Readonly<Record<string, PoolConfig>>): void {
  const entries = Object.entries(config);
  for (const [name, poolConfig] of entries) validatePoolOptions({ ...poolConfig, name });
  const pools = registry();
  for (const [name, poolConfig] of entries) {
    const existing = pools.get(name);
    if (existing === undefined) {
      pools.set(name, new ConcurrencyPool({ ...poolConfig, name }));
    } else {
      existing.concurrency = poolConfig.concurrency;
      existing.rate = poolConfig.rate;
      existing.maxPauseMs = poolConfig.maxPauseMs;
    }
  }
}

/**
 * The pool named `name`. Without `defaults`, an unknown name throws INVALID_INPUT listing the
 * defined pools (a typo must not silently create an unbounded budget). With `defaults`, a
 * missing pool is created from them; an existing pool is returned unchanged.
 */
export function getPool(name: string, defaults?: PoolConfig): ConcurrencyPool {
  const pools = registry();
  const existing = pools.get(name);
  if (existing !== undefined) return existing;
  if (defaults === undefined) {
    const known = [...pools.keys()];
    const listed = known.length === 0 ? 'none are defined' : `defined pools: ${known.map((each) => `"${each}"`).join(', ')}`;
    throw new AidocError(AidocErrorCode.INVALID_INPUT, `Unknown pool "${name}" (${listed}); define it with definePools()`, {
      details: { pool: name, knownPools: known },
    });
  }
  const pool = new ConcurrencyPool({ ...defaults, name });
  pools.set(name, pool);
  return pool;
}

/** Every registered pool, in definition order (for metrics). */
export function listPools(): ConcurrencyPool[] {
  return [...registry().values()];
}

/**
 * Forgets every pool, for test isolation. Calls already queued on a forgotten pool still run;
 * new `getPool` calls see an empty registry.
 */
export function resetPools(): void {
  registry().clear();
}
