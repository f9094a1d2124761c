/**
 * A string-keyed store of results of a pure function (a formulary lookup by drug name, the
 * reading of a passage text) holding at most `maxEntries`: past that the oldest is dropped.
 */
export class BoundedCache<V> {
  readonly #entries = new Map<string, V>();
  readonly #maxEntries: number;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  get(key: string): V | undefined {
    return this.#entries.get(key);
  }

  set(key: string, value: V): void {
    if (this.#entries.size >= this.#maxEntries && !this.#entries.has(key)) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, value);
  }
}

/** `compute`, remembered per key in a {@link BoundedCache}. `compute` must not return undefined. */
export function memoise<T>(compute: (key: string) => T, maxEntries: number): (key: string) => T {
  const cache = new BoundedCache<T>(maxEntries);
  return (key) => {
    let result = cache.get(key);
    if (result === undefined) {
      result = compute(key);
      cache.set(key, result);
    }
    return result;
  };
}
