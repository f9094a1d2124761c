import { describe, expect, it } from 'vitest';
import { SourceRegistry } from '../src/agent/source-registry.ts';
import type { ScoredPoint } from '../src/contracts/vector-store.ts';

const hit = (id: string, score: number): ScoredPoint => ({ id, score, payload: { source: `${id}.md`, title: 'T', section: 'S', text: `passage ${id}` } });

describe('SourceRegistry', () => {
  it('numbers sources in first-retrieved order and keeps the id of a point retrieved again, with its new score', () => {
    const registry = new SourceRegistry();
    expect(registry.add([hit('p1', 0.9), hit('p2', 0.8)]).map((source) => source.id)).toEqual(['S1', 'S2']);
    const again = registry.add([hit('p3', 0.7), hit('p1', 0.5)]);
    expect(again.map((source) => [source.id, source.score])).toEqual([
      ['S3', 0.7],
      ['S1', 0.5],
    ]);
    expect(registry.size).toBe(3);
    expect(registry.get('S1')).toMatchObject({ pointId: 'p1', text: 'passage p1', document: 'p1.md' });
  });

  it('finds a source by its exact id only', () => {
    const registry = new SourceRegistry();
    registry.add([hit('p1', 0.9), hit('p2', 0.8)]);
    expect(registry.has('S2')).toBe(true);
    for (const id of ['S3', 'S0', 'S01', 'S1.0', 'S 1', 'S-1', 's1', '1', 'S', '', 'constructor']) expect(registry.has(id)).toBe(false);
  });
});
