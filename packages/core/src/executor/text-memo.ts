/** Characters sampled for a text's fingerprint. */
const FINGERPRINT_SAMPLES = 32;

/**
 * `compute`, remembered per text, for texts of kilobytes (a patient record, a search result)
 * that arrive as new strings in every request: a Map keyed by the text would hash every
 * character of each one. Entries are found by a fingerprint (the length and 32 sampled
 * characters) and confirmed by comparing the texts, so a fingerprint collision costs a
 * recomputation, never a wrong answer. At most `maxEntries`, the oldest dropped first.
 *
 * @example
 * ```ts
 * const readSources = memoiseText((xml) => parseSources(xml), 1024);
 * ```
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
