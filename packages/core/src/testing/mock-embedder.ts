import type { EmbedOptions, Embedder, EmbeddingKind } from '../contracts/embedder.ts';
import { estimateTokens } from '../contracts/estimate-tokens.ts';
import { AidocError } from '../errors/aidoc-error.ts';
import { expectPositiveInteger, invalidOption } from '../errors/validate-option.ts';
import { hashEmbedding } from './hash-embedding.ts';
import { MockAdapter, type MockAdapterOptions, type MockCall, type MockControls } from './mock-adapter.ts';

/** A vector as a test writes it. */
export type MockVector = Float32Array | readonly number[];

/** What `embed` received. */
export interface MockEmbedInput {
  readonly texts: readonly string[];
  readonly kind: EmbeddingKind;
}

export type MockEmbedderCall = MockCall<'embed', MockEmbedInput, Float32Array[]>;

/** Computes one call's vectors; `callIndex` counts the calls answered before this one. */
export type MockEmbedFunction = (
  texts: readonly string[],
  context: { readonly kind: EmbeddingKind; readonly callIndex: number },
) => readonly MockVector[] | Promise<readonly MockVector[]>;

/**
 * What `embed` answers, as in the AI SDK's mocks: a function, one fixed list of vectors for
 * every call, or a list of such lists (call `n` gets the `n`-th; a call beyond the list rejects
 * INTERNAL, since running past a script is a bug in the test).
 */
export type MockEmbedValue = MockEmbedFunction | readonly MockVector[] | readonly (readonly MockVector[])[];

export interface MockEmbedderOptions extends MockAdapterOptions<'embed', MockEmbedInput> {
  /**
   * Length of every vector.
   * @default 16
   */
  readonly dimensions?: number;
  /**
   * Most texts per call; more reject INVALID_INPUT.
   * @default 64
   */
  readonly maxBatchSize?: number;
  /** Token budget per call by `estimateTokens`; a batch over it rejects INVALID_INPUT. @default undefined (none) */
  readonly maxTokensPerBatch?: number;
  /** @default true */
  readonly supportsParallelCalls?: boolean;
  /** @default 'mock-embedding' */
  readonly model?: string;
  /**
   * The vectors to return. Custom vectors are returned as given (not checked), so tests can
   * feed core a wrong count or length.
   * @default {@link hashEmbedding} of each text: deterministic, unit length, and texts that share
   * words point the same way, so retrieval over mock vectors finds overlapping text.
   */
  readonly embed?: MockEmbedValue;
}

/** An Embedder that records its calls and simulates latency and faults. */
export interface MockEmbedder extends Embedder, MockControls<MockEmbedderCall> {
  readonly maxTokensPerBatch: number | undefined;
}

/**
 * Creates a mock {@link Embedder} for pipeline tests and benchmarks.
 *
 * @example
 * ```ts
 * const embedder = createMockEmbedder({ dimensions: 8, maxBatchSize: 4, latency: { fixedMs: 20, perItemMs: 1 } });
 * embedder.failNext('rate-limited');
 * await runIngest({ embedder });
 * expect(embedder.calls.map((call) => call.outcome)).toEqual(['rejected', 'resolved']);
 * expect(embedder.pending).toBe(0);
 * ```
 */
export function createMockEmbedder(options: MockEmbedderOptions = {}): MockEmbedder {
  return new SimulatedEmbedder(options);
}

class SimulatedEmbedder extends MockAdapter<MockEmbedderCall> implements MockEmbedder {
  readonly specificationVersion = 'v1';
  readonly provider = 'mock';
  readonly model: string;
  readonly dimensions: number;
  readonly maxBatchSize: number;
  readonly maxTokensPerBatch: number | undefined;
  readonly supportsParallelCalls: boolean;
  readonly #embed: MockEmbedFunction;
  #answered = 0;

  constructor(options: MockEmbedderOptions) {
    super('mock-embedder', options);
    const dimensions = options.dimensions ?? 16;
    const maxBatchSize = options.maxBatchSize ?? 64;
    expectPositiveInteger('dimensions', dimensions);
    expectPositiveInteger('maxBatchSize', maxBatchSize);
    if (options.maxTokensPerBatch !== undefined) expectPositiveInteger('maxTokensPerBatch', options.maxTokensPerBatch);
    if (options.supportsParallelCalls !== undefined && typeof options.supportsParallelCalls !== 'boolean') {
      throw invalidOption('supportsParallelCalls', 'a boolean', options.supportsParallelCalls);
    }
    if (options.model !== undefined && (typeof options.model !== 'string' || options.model === '')) {
      throw invalidOption('model', 'a non-empty string', options.model);
    }
    this.dimensions = dimensions;
    this.maxBatchSize = maxBatchSize;
    this.maxTokensPerBatch = options.maxTokensPerBatch;
    this.supportsParallelCalls = options.supportsParallelCalls ?? true;
    this.model = options.model ?? 'mock-embedding';
    this.#embed = toEmbedFunction(options.embed, dimensions);
  }

  embed(texts: readonly string[], options: EmbedOptions): Promise<Float32Array[]> {
    const input: MockEmbedInput = { texts: [...texts], kind: options.kind };
    return this.simulate({
      method: 'embed',
      input,
      signal: options.signal,
      items: texts.length,
      validate: () => this.#validate(input),
      // Nothing to send: a real adapter answers without a request.
      answersLocally: texts.length === 0,
      respond: async () => {
        if (input.texts.length === 0) return [];
        const vectors = await this.#embed(input.texts, { kind: input.kind, callIndex: this.#answered++ });
        return vectors.map((vector) => Float32Array.from(vector));
      },
    });
  }

  #validate({ texts, kind }: MockEmbedInput): void {
    if (kind !== 'query' && kind !== 'document') {
      throw new AidocError('INVALID_INPUT', `mock-embedder: kind must be 'query' or 'document', got ${String(kind)}`);
    }
    if (texts.some((text) => typeof text !== 'string')) throw new AidocError('INVALID_INPUT', 'mock-embedder: every text must be a string');
    if (texts.length > this.maxBatchSize) {
      throw new AidocError('INVALID_INPUT', `mock-embedder: ${texts.length} texts exceed maxBatchSize ${this.maxBatchSize}`, {
        details: { texts: texts.length, maxBatchSize: this.maxBatchSize },
      });
    }
    if (this.maxTokensPerBatch !== undefined) {
      const tokens = texts.reduce((sum, text) => sum + estimateTokens(text), 0);
      if (tokens > this.maxTokensPerBatch) {
        throw new AidocError('INVALID_INPUT', `mock-embedder: about ${tokens} tokens exceed maxTokensPerBatch ${this.maxTokensPerBatch}`, {
          details: { tokens, maxTokensPerBatch: this.maxTokensPerBatch },
        });
      }
    }
  }
}

function toEmbedFunction(value: MockEmbedValue | undefined, dimensions: number): MockEmbedFunction {
  if (value === undefined) return (texts) => texts.map((text) => hashEmbedding(text, dimensions));
  if (typeof value === 'function') return value;
  if (!Array.isArray(value)) throw invalidOption('embed', 'a function, a list of vectors or a list of such lists', value);
  const list = value as readonly (MockVector | readonly MockVector[])[];
  if (list.length > 0 && list.every(isVectorList)) {
    const perCall = list as readonly (readonly MockVector[])[];
    return (_texts, { callIndex }) => {
      const vectors = perCall[callIndex];
      if (vectors === undefined) {
        throw new AidocError('INTERNAL', `mock-embedder: no vectors scripted for call ${callIndex + 1} (${perCall.length} given)`);
      }
      return vectors;
    };
  }
  const fixed = list as readonly MockVector[];
  return () => fixed;
}

function isVectorList(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  const first: unknown = value[0];
  return first instanceof Float32Array || Array.isArray(first);
}
