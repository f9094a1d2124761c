import type { ScoredPoint } from '../contracts/vector-store.ts';
import type { RetrievedSource } from './source-xml.ts';

/**
 * The sources retrieved during one briefing run, under the ids the model cites ("S1", "S2",
 * ...). The same point retrieved by two searches keeps one id, so citations stay stable.
 */
export class SourceRegistry {
  readonly #byPointId = new Map<string, RetrievedSource>();
  readonly #bySourceId = new Map<string, RetrievedSource>();

  /** Registers search hits and returns them as sources, in rank order. */
  add(points: readonly ScoredPoint[]): RetrievedSource[] {
    return points.map((point) => {
      const known = this.#byPointId.get(point.id);
      if (known !== undefined) return { ...known, score: point.score };
      const source: RetrievedSource = {
        id: `S${this.#byPointId.size + 1}`,
        pointId: point.id,
        document: stringField(point.payload.source),
        title: stringField(point.payload.title),
        section: stringField(point.payload.section),
        text: stringField(point.payload.text),
        score: point.score,
      };
      this.#byPointId.set(point.id, source);
      this.#bySourceId.set(source.id, source);
      return source;
    });
  }

  has(sourceId: string): boolean {
    return this.get(sourceId) !== undefined;
  }

  get(sourceId: string): RetrievedSource | undefined {
    return this.#bySourceId.get(sourceId);
  }

  get size(): number {
    return this.#byPointId.size;
  }
}

function stringField(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
