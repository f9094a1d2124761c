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

/** Characters sampled for a text's fingerprint. */
const FINGERPRINT_SAMPLES = 32;

/**
 * `compute`, remembered per text, for texts of kilobytes (a patient record, a search result)
 * that arrive as new strings in every briefing: a Map keyed by the text would hash every
 * character of each one. Entries are found by a fingerprint (the length and 32 sampled
 * characters) and confirmed by comparing the texts, so a fingerprint collision costs a
 * recomputation, never a wrong answer. At most `maxEntries`, the oldest dropped first.
 */
export function memoiseText<T>(compute: (text: string) => T, maxEntries: number): (text: string) => T {
  const entries = new Map<number, { readonly text: string; readonly value: T }>();
  return (text) => {
    const key = fingerprint(text);
    const entry = entries.get(key);
    if (entry !== undefined && entry.text === text) return entry.value;
    const value = compute(text);
    if (entries.size >= maxEntries && entry === undefined) entries.delete(entries.keys().next().value!);
    entries.set(key, { text, value });
    return value;
  };
}

function fingerprint(text: string): number {
  let hash = Math.imul(text.length, 0x9e3779b1);
  const stride = Math.max(1, Math.floor(text.length / FINGERPRINT_SAMPLES));
  for (let index = 0; index < text.length; index += stride) hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193);
  return hash;
}
