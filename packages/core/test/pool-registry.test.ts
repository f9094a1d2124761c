import { afterEach, describe, expect, it, vi } from 'vitest';
import { AidocError } from '../src/errors/aidoc-error.ts';
import { ConcurrencyPool } from '../src/executor/pool.ts';
import { definePools, getPool, listPools, resetPools } from '../src/executor/pool-registry.ts';

afterEach(() => {
  resetPools();
});

describe('pool registry', () => {
  it('creates named pools and hands out the same instance everywhere', () => {
    definePools({ embedder: { concurrency: 16 }, llm: { concurrency: 4, rate: { limit: 50, intervalMs: 60_000 } } });
    const embedder = getPool('embedder');
    expect(embedder).toBeInstanceOf(ConcurrencyPool);
    expect(embedder.name).toBe('embedder');
    expect(embedder.concurrency).toBe(16);
    expect(getPool('embedder')).toBe(embedder);
    expect(getPool('llm').rate).toEqual({ limit: 50, intervalMs: 60_000 });
    expect(listPools().map((pool) => pool.name)).toEqual(['embedder', 'llm']);
  });

  it('reconfigures an existing pool in place, keeping its callers', async () => {
    definePools({ embedder: { concurrency: 1, rate: { limit: 5, intervalMs: 1000 } } });
    const embedder = getPool('embedder');
    let release!: () => void;
    const running = embedder.run(() => new Promise<void>((resolve) => (release = resolve)));
    const queued = embedder.run(() => Promise.resolve('queued'));
    definePools({ embedder: { concurrency: 2 } });
    expect(getPool('embedder')).toBe(embedder);
    expect(embedder.concurrency).toBe(2);
    expect(embedder.rate).toBeUndefined();
    await expect(queued).resolves.toBe('queued');
    release();
    await running;
  });

  it('throws INVALID_INPUT naming the defined pools for an unknown name', () => {
    expect(() => getPool('embedder')).toThrow(/Unknown pool "embedder" \(none are defined\)/);
    definePools({ embedder: { concurrency: 4 }, llm: { concurrency: 2 } });
    let error: unknown;
    try {
      getPool('embeder');
    } catch (caught) {
      error = caught;
    }
    expect(AidocError.hasCode(error, 'INVALID_INPUT')).toBe(true);
    expect((error as AidocError).message).toContain('defined pools: "embedder", "llm"');
    expect((error as AidocError).details).toEqual({ pool: 'embeder', knownPools: ['embedder', 'llm'] });
  });

  it('creates a missing pool from defaults, and leaves an existing one unchanged', () => {
    const created = getPool('vector-store', { concurrency: 8 });
    expect(created.concurrency).toBe(8);
    expect(getPool('vector-store', { concurrency: 99 })).toBe(created);
    expect(created.concurrency).toBe(8);
    expect(getPool('vector-store')).toBe(created);
  });

  it('applies nothing when any entry is invalid', () => {
    definePools({ embedder: { concurrency: 4 } });
    expect(() => definePools({ embedder: { concurrency: 8 }, llm: { concurrency: 0 } })).toThrow(
      new TypeError('Expected `concurrency` to be a positive integer or Infinity, got `0` (number)'),
    );
    expect(getPool('embedder').concurrency).toBe(4);
    expect(listPools()).toHaveLength(1);
  });

  it('forgets every pool on resetPools', () => {
    definePools({ embedder: { concurrency: 4 } });
    resetPools();
    expect(listPools()).toEqual([]);
    expect(() => getPool('embedder')).toThrow(AidocError);
  });

  it('shares one registry across duplicate copies of the package', async () => {
    definePools({ embedder: { concurrency: 3 } });
    const mine = getPool('embedder');
    vi.resetModules();
    // A fresh evaluation of the module stands in for a second installed copy of @aidoc/core.
    const copy = await import('../src/executor/pool-registry.ts');
    expect(copy.getPool).not.toBe(getPool);
    expect(copy.getPool('embedder')).toBe(mine);
    const registry = (globalThis as Record<symbol, unknown>)[Symbol.for('@aidoc/core/pools')];
    expect(registry).toBeInstanceOf(Map);
    expect((registry as Map<string, unknown>).get('embedder')).toBe(mine);
  });
});
