import { TtlCache } from '../executor/ttl-cache.ts';
import { formatSources, type RetrievedSource } from './source-xml.ts';

interface Formatted {
  readonly sources: readonly RetrievedSource[];
  readonly xml: string;
}

/**
 * `formatSources` with one string per distinct search result, for one pipeline. Concurrent
 * briefings on similar patients ask the same questions and get the same passages back under the
 * same ids: each would otherwise build, and keep through the model turn that follows, its own
 * copy of the same kilobytes of XML (two bytes a character once a passage holds a "≥"), and a
 * thousand such copies are most of what the garbage collector copies under load. A result is
 * looked up by its query and source ids and confirmed field by field, so a passage that changed
 * is formatted afresh, never served stale.
 */
export class SearchResultTexts {
  readonly #formatted: TtlCache<string, Formatted>;

  constructor(maxEntries = 256) {
    this.#formatted = new TtlCache({ maxEntries, ttlMs: Infinity });
  }

  format(query: string, sources: readonly RetrievedSource[]): string {
    let key = query;
    for (const source of sources) key += `\u0000${source.id}`;
    const known = this.#formatted.get(key);
    if (known !== undefined && sameSources(known.sources, sources)) return known.xml;
    const xml = formatSources(query, sources);
    this.#formatted.set(key, { sources, xml });
    return xml;
  }
}

function sameSources(known: readonly RetrievedSource[], sources: readonly RetrievedSource[]): boolean {
  return sources.every((source, index) => {
    const other = known[index]!;
    return (
      source.pointId === other.pointId &&
      source.score === other.score &&
      source.text === other.text &&
      source.document === other.document &&
      source.title === other.title &&
      source.section === other.section
    );
  });
}
