import assert from 'node:assert/strict';
import type { Embedder, EmbeddingKind } from '../contracts/embedder.ts';
import { estimateTokens } from '../contracts/estimate-tokens.ts';
import { expectPositiveInteger, invalidOption } from '../errors/validate-option.ts';
import { expectAidocError, expectFiniteNumbers } from './conformance-assertions.ts';
import { applySkips, skipCheck, validateConformanceOptions, withAdapter, type ConformanceCheck, type ConformanceOptions } from './conformance-check.ts';
import { cosineSimilarity } from './cosine-similarity.ts';
import { faultChecks } from './fault-checks.ts';
import { registerConformanceSuite } from './register-conformance-suite.ts';

export interface EmbedderConformanceOptions<E extends Embedder = Embedder> extends ConformanceOptions<E> {
  /** Runs after each check with the instance it used (close clients, stop servers). */
  readonly cleanup?: (embedder: E) => void | Promise<void>;
  /**
   * At least three distinct texts to embed.
   * @default three short clinical sentences
   */
  readonly texts?: readonly string[];
  /**
   * How far two embeddings of the same text may drift (as `1 - cosine similarity`): hosted
   * models are not always bit-for-bit repeatable across batch compositions.
   * @default 0.001
   */
  readonly tolerance?: number;
  /**
   * The largest batch the suite sends to check `maxBatchSize`; beyond it the full-batch checks
   * are skipped (an embedder declaring 100,000 would make a slow test).
   * @default 4096
   */
  readonly largestBatch?: number;
  /** Registers the adapter's own tests inside the suite's `describe`. */
  readonly additionalTests?: () => void;
}

const DEFAULT_TEXTS = [
  'Metformin is contraindicated when eGFR falls below 30 mL/min/1.73m2.',
  'Adults with type 2 diabetes should have retinal screening every year.',
  'A penicillin allergy label should be reviewed before prescribing a cephalosporin.',
];

/**
 * The Embedder conformance checks as plain async functions (see {@link testEmbedder}, which
 * registers them); run them with `runConformanceChecks` to assert an adapter fails them.
 */
export function embedderConformanceChecks<E extends Embedder>(options: EmbedderConformanceOptions<E>): ConformanceCheck[] {
  validateConformanceOptions(options);
  const texts = options.texts ?? DEFAULT_TEXTS;
  if (!Array.isArray(texts) || texts.length < 3 || new Set(texts).size !== texts.length || texts.some((text) => typeof text !== 'string')) {
    throw invalidOption('texts', 'at least three distinct strings', texts);
  }
  const tolerance = options.tolerance ?? 0.001;
  if (typeof tolerance !== 'number' || !(tolerance >= 0 && tolerance < 1)) throw invalidOption('tolerance', 'a number from 0 to 1', tolerance);
  const largestBatch = options.largestBatch ?? 4096;
  expectPositiveInteger('largestBatch', largestBatch);
  const { cleanup } = options;
  const use = (fn: (embedder: E) => Promise<void>): Promise<void> => withAdapter(options.create, cleanup, fn);
  const [first, second, third] = texts as [string, string, string, ...string[]];

  const embed = async (embedder: E, batch: readonly string[], kind: EmbeddingKind = 'document'): Promise<Float32Array[]> => {
    const vectors = await embedder.embed(batch, { kind, signal: new AbortController().signal });
    expectShape(vectors, batch.length, embedder.dimensions, `embed of ${batch.length} text(s)`);
    return vectors;
  };
  const expectSame = (actual: Float32Array | undefined, expected: Float32Array | undefined, what: string): void => {
    assert.ok(actual !== undefined && expected !== undefined, `${what}: missing vector`);
    const similarity = cosineSimilarity(actual, expected);
    assert.ok(1 - similarity <= tolerance, `${what}: cosine similarity ${similarity.toFixed(6)} is below ${1 - tolerance}`);
  };

  const checks: ConformanceCheck[] = [
    {
      name: 'declares its capabilities',
      run: () =>
        use(async (embedder) => {
          assert.equal(embedder.specificationVersion, 'v1', 'specificationVersion');
          assert.ok(typeof embedder.provider === 'string' && embedder.provider !== '', 'provider must be a non-empty string');
          assert.ok(typeof embedder.model === 'string' && embedder.model !== '', 'model must be a non-empty string');
          assert.ok(Number.isInteger(embedder.dimensions) && embedder.dimensions > 0, `dimensions must be a positive integer, got ${embedder.dimensions}`);
          assert.ok(Number.isInteger(embedder.maxBatchSize) && embedder.maxBatchSize > 0, `maxBatchSize must be a positive integer, got ${embedder.maxBatchSize}`);
          const budget = embedder.maxTokensPerBatch;
          assert.ok(budget === undefined || (Number.isInteger(budget) && budget > 0), `maxTokensPerBatch must be undefined or a positive integer, got ${budget}`);
          assert.equal(typeof embedder.supportsParallelCalls, 'boolean', 'supportsParallelCalls must be a boolean');
          await Promise.resolve();
        }),
    },
    {
      name: 'returns one vector of `dimensions` finite numbers per text',
      run: () =>
        use(async (embedder) => {
          const vectors = await embed(embedder, texts);
          vectors.forEach((vector, index) => assert.ok(vector.some((value) => value !== 0), `vector ${index} is all zeros`));
        }),
    },
    {
      name: 'tells different texts apart',
      run: () =>
        use(async (embedder) => {
          const [a, b, c] = await embed(embedder, [first, second, third]);
          for (const [left, right, what] of [[a, b, '1 and 2'], [a, c, '1 and 3'], [b, c, '2 and 3']] as const) {
            assert.ok(left !== undefined && right !== undefined);
            assert.ok(1 - cosineSimilarity(left, right) > tolerance, `texts ${what} got the same vector`);
          }
        }),
    },
    {
      name: 'preserves the order of texts',
      run: () =>
        use(async (embedder) => {
          const [a, b, c] = await embed(embedder, [first, second, third]);
          const [c2, a2, b2] = await embed(embedder, [third, first, second]);
          const [b3] = await embed(embedder, [second]);
          expectSame(a2, a, 'text 1 moved to position 2');
          expectSame(b2, b, 'text 2 moved to position 3');
          expectSame(c2, c, 'text 3 moved to position 1');
          expectSame(b3, b, 'text 2 embedded alone');
        }),
    },
    {
      name: 'is deterministic for identical input',
      run: () =>
        use(async (embedder) => {
          const [a, b, duplicate] = await embed(embedder, [first, second, first]);
          const [again] = await embed(embedder, [first]);
          expectSame(duplicate, a, 'the same text twice in one batch');
          expectSame(again, a, 'the same text in a later call');
          assert.ok(b !== undefined);
        }),
    },
    {
      name: 'accepts query and document kinds',
      run: () =>
        use(async (embedder) => {
          await embed(embedder, [first], 'query');
          await embed(embedder, [first], 'document');
        }),
    },
    {
      name: 'answers an empty batch with [] without a request',
      run: () =>
        use(async (embedder) => {
          const before = options.upstreamCalls?.(embedder);
          const vectors = await embedder.embed([], { kind: 'document', signal: new AbortController().signal });
          assert.deepEqual(vectors, [], 'embed([]) must resolve to []');
          if (before !== undefined) assert.equal(options.upstreamCalls?.(embedder), before, 'embed([]) sent a request upstream');
        }),
    },
    fullBatchCheck('embeds a full batch of maxBatchSize texts', 0),
    fullBatchCheck('rejects more than maxBatchSize texts with INVALID_INPUT', 1),
    ...faultChecks(options, {
      label: 'embed',
      invoke: (embedder, signal) => embedder.embed([first], { kind: 'query', signal }),
      cleanup,
    }),
  ];
  return applySkips(checks, options.skip);

  function fullBatchCheck(name: string, extra: 0 | 1): ConformanceCheck {
    return {
      name,
      run: (control) =>
        use(async (embedder) => {
          const size = embedder.maxBatchSize + extra;
          if (size > largestBatch) return skipCheck(control, `maxBatchSize ${embedder.maxBatchSize} exceeds largestBatch ${largestBatch}`);
          const batch = Array.from({ length: size }, (_, index) => `note ${index + 1}`);
          const budget = embedder.maxTokensPerBatch;
          const tokens = batch.reduce((sum, text) => sum + estimateTokens(text), 0);
          if (extra === 0) {
            assert.ok(budget === undefined || tokens <= budget, `maxBatchSize ${size} short texts (~${tokens} tokens) already exceed maxTokensPerBatch ${budget}`);
            await embed(embedder, batch);
          } else {
            await expectAidocError(embedder.embed(batch, { kind: 'document', signal: new AbortController().signal }), 'INVALID_INPUT', `embed of ${size} texts`);
          }
        }),
    };
  }
}

/**
 * Registers the Embedder conformance suite (vitest) for an adapter: shape, order, determinism,
 * batch limits, then abort and fault behaviour for each fixture given.
 *
 * @example
 * ```ts
 * // packages/embedder-vertex/test/vertex-embedder.test.ts
 * import { testEmbedder } from '@aidoc/core/testing';
 *
 * testEmbedder({
 *   name: 'vertex (loopback)',
 *   create: () => createVertexEmbedder({ apiEndpoint: server.url }),
 *   faults: {
 *     rateLimited: { create: () => createVertexEmbedder({ apiEndpoint: server.url429 }), retryAfterMs: 2000 },
 *     unavailable: () => createVertexEmbedder({ apiEndpoint: server.url503 }),
 *     hanging: () => createVertexEmbedder({ apiEndpoint: server.urlHanging }),
 *   },
 *   upstreamCalls: () => server.requestCount,
 * });
 * ```
 */
export function testEmbedder<E extends Embedder>(options: EmbedderConformanceOptions<E>): void {
  registerConformanceSuite(`Embedder conformance: ${options.name}`, embedderConformanceChecks(options), options.additionalTests);
}

function expectShape(vectors: unknown, count: number, dimensions: number, what: string): void {
  assert.ok(Array.isArray(vectors), `${what}: expected an array of vectors`);
  assert.equal(vectors.length, count, `${what}: expected ${count} vector(s), got ${vectors.length}`);
  vectors.forEach((vector: unknown, index) => {
    assert.ok(vector instanceof Float32Array, `${what}: vector ${index} must be a Float32Array`);
    assert.equal(vector.length, dimensions, `${what}: vector ${index} has ${vector.length} values, dimensions says ${dimensions}`);
    expectFiniteNumbers(vector, `${what}: vector ${index}`);
  });
}
