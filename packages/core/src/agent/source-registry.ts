import type { ScoredPoint } from '../contracts/vector-store.ts';
import type { RetrievedSource } from './source-xml.ts';

/**
 * The sources retrieved during one briefing run, under the ids the model cites ("S1", "S2",
 * ...). The same point retrieved by two searches keeps one id, so citations stay stable.
 */
export class SourceRegistry {
  readonly #byPointId = new Map<string, RetrievedSource>();
  /** Sources in first-retrieved order: "S<n>" is entry n - 1 (one map fewer per run). */
  readonly #inOrder: RetrievedSource[] = [];

  /** Registers search hits and returns them as sources, in rank order. */
  add(points: readonly ScoredPoint[]): RetrievedSource[] {
    return points.map((point) => {
      const known = this.#byPointId.get(point.id);
      if (known !== undefined) return { ...known, score: point.score };
      const source: RetrievedSource = {
        id: `S${this.#inOrder.length + 1}`,
        pointId: point.id,
        document: stringField(point.payload.source),
        title: stringField(point.payload.title),
        section: stringField(point.payload.section),
        text: stringField(point.payload.text),
        score: point.score,
      };
      this.#byPointId.set(point.id, source);
      this.#inOrder.push(source);
      return source;
    });
  }

  has(sourceId: string): boolean {
    return this.get(sourceId) !== undefined;
  }

  get(sourceId: string): RetrievedSource | undefined {
    const source = this.#inOrder[Number(sourceId.slice(1)) - 1];
    // The exact id, so "S01" or "S1.0" name nothing.
    return source?.id === sourceId ? source : undefined;
  }

  get size(): number {
    return this.#inOrder.length;
  }
}

function stringField(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
