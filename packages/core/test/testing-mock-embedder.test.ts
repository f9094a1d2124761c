import { describe, expect, it } from 'vitest';
import { estimateTokens } from '../src/contracts/estimate-tokens.ts';
import { cosineSimilarity, createMockEmbedder, hashEmbedding } from '../src/testing/index.ts';

const document = { kind: 'document' } as const;

describe('createMockEmbedder', () => {
  it('declares its capabilities, with defaults', () => {
    expect(createMockEmbedder()).toMatchObject({
      specificationVersion: 'v1',
      provider: 'mock',
      model: 'mock-embedding',
      dimensions: 16,
      maxBatchSize: 64,
      maxTokensPerBatch: undefined,
      supportsParallelCalls: true,
    });
  });

  it('embeds deterministically by default: unit vectors, identical texts identical, shared words close', async () => {
    const embedder = createMockEmbedder({ dimensions: 64 });
    const [metformin, again, related, unrelated] = await embedder.embed(
      ['Metformin dose in renal impairment', 'metformin DOSE in renal impairment!', 'renal impairment and metformin', 'influenza vaccination schedule'],
      document,
    );
    expect(Math.hypot(...metformin!)).toBeCloseTo(1, 5);
    expect(Array.from(again!)).toEqual(Array.from(metformin!));
    expect(cosineSimilarity(metformin!, related!)).toBeGreaterThan(0.55);
    expect(Math.abs(cosineSimilarity(metformin!, unrelated!))).toBeLessThan(0.3);
    const [asQuery] = await embedder.embed(['Metformin dose in renal impairment'], { kind: 'query' });
    expect(Array.from(asQuery!)).toEqual(Array.from(metformin!));
    expect(Array.from(hashEmbedding('', 3))).toEqual(Array.from(hashEmbedding('', 3)));
    expect(Math.hypot(...hashEmbedding('', 3))).toBeCloseTo(1, 5);
  });

  it('rejects more than maxBatchSize texts, or a batch over the token budget, before any request', async () => {
    const embedder = createMockEmbedder({ maxBatchSize: 2, maxTokensPerBatch: 40 });
    await expect(embedder.embed(['a', 'b', 'c'], document)).rejects.toMatchObject({ code: 'INVALID_INPUT', details: { texts: 3, maxBatchSize: 2 } });
    const long = 'x'.repeat(120);
    expect(estimateTokens(long)).toBeGreaterThan(40);
    await expect(embedder.embed([long], document)).rejects.toMatchObject({ code: 'INVALID_INPUT', retryable: false });
    await expect(embedder.embed(['a', 'b'], document)).resolves.toHaveLength(2);
    expect(embedder.calls.map((call) => call.reachedUpstream)).toEqual([false, false, true]);
  });

  it('answers an empty batch at once, without reaching the upstream', async () => {
    const embedder = createMockEmbedder({ latency: { fixedMs: 10_000 }, faults: { unavailableRate: 1 } });
    await expect(embedder.embed([], document)).resolves.toEqual([]);
    expect(embedder.calls[0]).toMatchObject({ outcome: 'resolved', reachedUpstream: false });
  });

  it('returns fixed vectors, one list per call, or what a function computes (AI SDK style)', async () => {
    const fixed = createMockEmbedder({ embed: [[1, 0], new Float32Array([0, 1])] });
    const first = await fixed.embed(['a', 'b'], document);
    first[0]![0] = 99;
    expect((await fixed.embed(['a', 'b'], document)).map((vector) => Array.from(vector))).toEqual([
      [1, 0],
      [0, 1],
    ]);

    const perCall = createMockEmbedder({ embed: [[[1, 2]], [[3, 4]]] });
    expect(Array.from((await perCall.embed(['a'], document))[0]!)).toEqual([1, 2]);
    expect(Array.from((await perCall.embed(['a'], document))[0]!)).toEqual([3, 4]);
    await expect(perCall.embed(['a'], document)).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('no vectors scripted for call 3') as string });

    const computed = createMockEmbedder({ embed: (texts, { kind, callIndex }) => texts.map((text) => [text.length, callIndex, kind === 'query' ? 1 : 0]) });
    await computed.embed(['abc'], document);
    expect(Array.from((await computed.embed(['hello'], { kind: 'query' }))[0]!)).toEqual([5, 1, 1]);
  });

  it('rejects bad options with a TypeError naming them', () => {
    expect(() => createMockEmbedder({ dimensions: 0 })).toThrow(new TypeError('Expected `dimensions` to be a positive integer, got `0` (number)'));
    expect(() => createMockEmbedder({ maxBatchSize: 1.5 })).toThrow(/`maxBatchSize`/);
    expect(() => createMockEmbedder({ maxTokensPerBatch: -1 })).toThrow(/`maxTokensPerBatch`/);
    expect(() => createMockEmbedder({ model: '' })).toThrow(/`model`/);
    expect(() => createMockEmbedder({ supportsParallelCalls: 1 as unknown as boolean })).toThrow(/`supportsParallelCalls`/);
    expect(() => createMockEmbedder({ embed: 'vectors' as never })).toThrow(/`embed`/);
  });
});

describe('recordCalls: false', () => {
  it('keeps no call log (for load benchmarks) while still counting calls in flight', async () => {
    const embedder = createMockEmbedder({ dimensions: 4, recordCalls: false, latency: { fixedMs: 5 } });
    const call = embedder.embed(['a'], { kind: 'query' });
    expect(embedder.pending).toBe(1);
    await call;
    expect(embedder.calls).toHaveLength(0);
    expect(embedder.pending).toBe(0);
    expect(() => createMockEmbedder({ recordCalls: 'no' as unknown as boolean })).toThrow(TypeError);
  });
});
