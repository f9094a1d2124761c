import { expectPositiveInteger, invalidOption } from '../errors/validate-option.ts';

export interface TtlCacheOptions {
  /** Entries kept at most; setting one more evicts the least recently used. */
  maxEntries: number;
  /** How long an entry stays valid after `set` (positive milliseconds, or `Infinity`). */
  ttlMs: number;
  /**
   * Clock in milliseconds; tests pass a fake one.
   * @default Date.now
   */
  now?: () => number;
}

interface Entry<V> {
  readonly value: V;
  readonly expiresAt: number;
}

/**
 * A small LRU cache whose entries expire `ttlMs` after they were set (patient records, query
 * embeddings). Expiry is checked on read, so the cache holds no timers and never keeps the
 * process alive; an expired entry occupies its slot until it is read or evicted.
 *
 * Recency is the Map's insertion order: `get` moves a hit to the end, eviction removes from the
 * front.
 */
export class TtlCache<K, V> {
  readonly maxEntries: number;
  readonly ttlMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<K, Entry<V>>();

  constructor(options: TtlCacheOptions) {
    expectPositiveInteger('maxEntries', options.maxEntries);
    if (!(typeof options.ttlMs === 'number' && options.ttlMs > 0)) {
      throw invalidOption('ttlMs', 'a positive number of milliseconds or Infinity', options.ttlMs);
    }
    if (options.now !== undefined && typeof options.now !== 'function') throw invalidOption('now', 'a function', options.now);
    this.maxEntries = options.maxEntries;
    this.ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
  }

  /** Entries held, including expired ones not yet read or evicted. */
  get size(): number {
    return this.#entries.size;
  }

  /** The live value for `key` (and marks it most recently used), or undefined. */
  get(key: K): V | undefined {
    const entry = this.#live(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Stores `value` for `ttlMs`, as the most recently used entry, evicting the least recently used if full. */
  set(key: K, value: V): this {
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt: this.#now() + this.ttlMs });
    if (this.#entries.size > this.maxEntries) {
      // Map iteration starts at the oldest insertion: the least recently used entry.
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    return this;
  }

  /** True when `key` has a live entry. Does not count as a use (recency is unchanged). */
  has(key: K): boolean {
    return this.#live(key) !== undefined;
  }

  delete(key: K): boolean {
    return this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  /** The entry if present and not expired; an expired one is dropped. */
  #live(key: K): Entry<V> | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (this.#now() >= entry.expiresAt) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }
}
