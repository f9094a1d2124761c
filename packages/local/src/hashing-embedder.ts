import { AidocError, throwIfAborted } from '@aidoc/core';
import type { EmbedOptions, Embedder, EmbeddingKind } from '@aidoc/core';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { stem, tokenize } from './text-features.ts';

/** Lengths of the character n-grams taken inside each word, its start and end marked. */
export interface CharacterNgramRange {
  readonly min: number;
  readonly max: number;
}

/**
 * How much each feature family contributes. Each family is normalised on its own first, so a
 * weight is that family's share of the vector whatever the text's length (character n-grams
 * outnumber words about ten to one and would otherwise drown them).
 */
export interface HashingFeatureWeights {
  /** Single (stemmed) words. @default 1 */
  readonly words?: number;
  /** Adjacent word pairs ("kidney disease"): phrases and word order. @default 1 */
  readonly wordPairs?: number;
  /** Character n-grams: spelling variants, inflections, compounds and rare long terms. @default 2 */
  readonly characters?: number;
}

/**
 * Settings of {@link createHashingEmbedder}. The defaults were chosen on the MedQuAD retrieval
 * benchmark (docs/retrieval-quality.md), which lists what each one is worth.
 */
export interface HashingEmbedderOptions {
  /**
   * Length of every vector, 1 to 65,536. More dimensions mean fewer hash collisions (on MedQuAD,
   * 2,048 instead of 768 lifts MRR by about 0.015) and more memory per stored vector. 768 matches
   * Vertex text-embedding-005, so a collection can switch embedders without a schema change.
   * @default 768
   */
  readonly dimensions?: number;
  /** Longest word n-gram hashed: `1` single words, `2` single words and adjacent pairs. @default 2 */
  readonly wordNgrams?: 1 | 2;
  /**
   * Character n-gram lengths, taken inside each word with its start and end marked
   * (`<kidney>` gives `<ki`, `kid`, ..., `ey>`), or `false` for none.
   * @default { min: 3, max: 5 }
   */
  readonly charNgrams?: CharacterNgramRange | false;
  /** Share of each feature family in the vector. */
  readonly weights?: HashingFeatureWeights;
  /**
   * Drop a small English stopword list (articles, pronouns, question words; negations stay) and,
   * from queries, request-framing words ("information", "explain"). Without inverse document
   * frequencies this is what stops "the" from dominating: on MedQuAD it raises MRR by a third.
   * @default true
   */
  readonly stopwords?: boolean;
  /** Fold plurals, "-ed" and "-ing" forms of words; character n-grams still see the surface word. @default true */
  readonly stemming?: boolean;
  /**
   * Seeds the hash, an unsigned 32-bit integer. Vectors made with different seeds (or any other
   * option) are not comparable; `model` names every option that matters.
   * @default 0
   */
  readonly seed?: number;
}

const DEFAULT_DIMENSIONS = 768;
const MAX_DIMENSIONS = 65_536;
const MAX_BATCH_SIZE = 2048;
/** `embed` yields to the event loop once it has worked this long without a break. */
const SLICE_BUDGET_MS = 8;

// Family tags mixed into each hash, so one string in two families lands in unrelated buckets.
const WORD_FAMILY = 0x5bd1e995;
const PAIR_FAMILY = 0x27d4eb2f;
const CHARACTER_FAMILY = 0x165667b1;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const SPACE = 0x20;
const WORD_START = 0x3c; // '<'
const WORD_END = 0x3e; // '>'

interface ResolvedOptions {
  readonly dimensions: number;
  readonly wordNgrams: 1 | 2;
  readonly charNgrams: CharacterNgramRange | false;
  readonly weights: Required<HashingFeatureWeights>;
  readonly stopwords: boolean;
  readonly stemming: boolean;
  readonly seed: number;
}

/**
 * An {@link Embedder} that needs no model, no network and no key: it hashes words, word pairs
 * and character n-grams into a fixed-length vector (the "hashing trick", with a sign bit per
 * feature so collisions cancel out on average), so texts that share terms score a high cosine.
 * Lexical, not semantic: "heart attack" and "myocardial infarction" share nothing. It runs the
 * pipelines offline and in tests; on MedQuAD it ranks a question's own answer in the top 5 six
 * times in ten, where BM25 does seven (docs/retrieval-quality.md).
 *
 * Vectors are L2-normalised `Float32Array`s, identical across runs and platforms for the same
 * options. A text with no letter or digit (`''`, `'?!'`) has no features and gets the zero
 * vector, whose cosine with anything is 0. A `query` drops request-framing words ("do you have
 * information about ...") on top of the stopwords; otherwise queries and documents are embedded
 * alike.
 *
 * Cost: about 0.2-0.3 µs per character on one core (0.2-0.3 ms for a 1,000-character passage).
 * `embed` yields to the event loop after each 8 ms of work and checks `signal` at each yield, so
 * a full batch of 2,048 passages (about half a second) holds the loop for 8-20 ms at a time. It
 * yields between texts, so one very long text blocks for its whole cost (about 0.25 s per
 * megabyte): chunk documents first.
 *
 * @example
 * ```ts
 * const embedder = createHashingEmbedder();
 * const [vector] = await embedder.embed(['metformin in chronic kidney disease'], { kind: 'query' });
 * ```
 */
export function createHashingEmbedder(options: HashingEmbedderOptions = {}): Embedder {
  const resolved = resolveOptions(options);
  return {
    specificationVersion: 'v1',
    provider: 'local-hashing',
    model: describeModel(resolved),
    dimensions: resolved.dimensions,
    maxBatchSize: MAX_BATCH_SIZE,
    supportsParallelCalls: true,
    embed: (texts, embedOptions) => embedAll(resolved, texts, embedOptions),
  };
}

async function embedAll(options: ResolvedOptions, texts: readonly string[], embedOptions: EmbedOptions): Promise<Float32Array[]> {
  const signal = embedOptions.signal;
  throwIfAborted(signal);
  checkInput(texts, embedOptions);
  const counter = new FeatureCounter();
  const accumulator = new Float64Array(options.dimensions);
  const vectors: Float32Array[] = [];
  let sliceStart = performance.now();
  for (const text of texts) {
    if (performance.now() - sliceStart >= SLICE_BUDGET_MS) {
      await yieldToEventLoop();
      throwIfAborted(signal);
      sliceStart = performance.now();
    }
    vectors.push(embedText(text, embedOptions.kind, options, counter, accumulator));
  }
  return vectors;
}

function checkInput(texts: readonly string[], embedOptions: EmbedOptions): void {
  if (!Array.isArray(texts)) {
    throw new AidocError('INVALID_INPUT', `Expected \`texts\` to be an array of strings, got ${typeof texts}`);
  }
  if (texts.length > MAX_BATCH_SIZE) {
    throw new AidocError('INVALID_INPUT', `The hashing embedder takes at most ${MAX_BATCH_SIZE} texts per call, got ${texts.length}`, {
      details: { count: texts.length, maxBatchSize: MAX_BATCH_SIZE },
    });
  }
  const badIndex = texts.findIndex((text) => typeof text !== 'string');
  if (badIndex !== -1) {
    throw new AidocError('INVALID_INPUT', `Expected \`texts[${badIndex}]\` to be a string, got ${typeof texts[badIndex]}`, {
      details: { index: badIndex },
    });
  }
  const kind: unknown = embedOptions.kind;
  if (kind !== 'query' && kind !== 'document') {
    throw new AidocError('INVALID_INPUT', `Expected \`kind\` to be 'query' or 'document', got ${String(kind)}`);
  }
}

/** How often each hashed feature occurs in one text, per family; reused across the texts of a call. */
class FeatureCounter {
  readonly words = new Map<number, number>();
  readonly pairs = new Map<number, number>();
  readonly characters = new Map<number, number>();

  clear(): void {
    this.words.clear();
    this.pairs.clear();
    this.characters.clear();
  }
}

function embedText(text: string, kind: EmbeddingKind, options: ResolvedOptions, counter: FeatureCounter, accumulator: Float64Array): Float32Array {
  counter.clear();
  const start = FNV_OFFSET ^ options.seed;
  let previous: number | undefined;
  for (const word of tokenize(text, { stopwords: options.stopwords, query: kind === 'query' })) {
    const term = options.stemming ? stem(word) : word;
    const wordState = hashString(term, start);
    increment(counter.words, finalize(wordState ^ WORD_FAMILY));
    if (options.wordNgrams === 2 && previous !== undefined) {
      // A pair's hash carries on from the previous word's FNV state, through a space.
      increment(counter.pairs, finalize(hashString(term, fnvStep(previous, SPACE)) ^ PAIR_FAMILY));
    }
    previous = wordState;
    if (options.charNgrams !== false) countCharacterNgrams(word, options.charNgrams, start, counter.characters);
  }
  accumulator.fill(0);
  addFamily(accumulator, counter.words, options.weights.words);
  addFamily(accumulator, counter.pairs, options.weights.wordPairs);
  addFamily(accumulator, counter.characters, options.weights.characters);
  let squares = 0;
  for (const value of accumulator) squares += value * value;
  const vector = new Float32Array(options.dimensions);
  if (squares === 0) return vector;
  const scale = 1 / Math.sqrt(squares);
  for (let index = 0; index < accumulator.length; index++) vector[index] = accumulator[index]! * scale;
  return vector;
}

/** Counts the n-grams of `<word>`, min <= n <= max, extending one FNV state per start position. */
function countCharacterNgrams(word: string, range: CharacterNgramRange, start: number, counts: Map<number, number>): void {
  const length = word.length + 2;
  const codeAt = (index: number): number => (index === 0 ? WORD_START : index === length - 1 ? WORD_END : word.charCodeAt(index - 1));
  for (let first = 0; first + range.min <= length; first++) {
    let state = start;
    const end = Math.min(length, first + range.max);
    for (let index = first; index < end; index++) {
      state = fnvStep(state, codeAt(index));
      if (index - first + 1 >= range.min) increment(counts, finalize(state ^ CHARACTER_FAMILY));
    }
  }
}

/**
 * Adds one family, scaled to length `weight`. A feature seen `tf` times weighs `sqrt(tf)`:
 * sub-linear, so a repeated term counts without taking over (on MedQuAD `sqrt` beat `1 + ln`
 * slightly, and both beat raw and binary counts). It goes to bucket `hash mod dimensions`, with
 * the sign given by the hash's top bit.
 */
function addFamily(accumulator: Float64Array, counts: Map<number, number>, weight: number): void {
  if (counts.size === 0 || weight === 0) return;
  let squares = 0;
  for (const count of counts.values()) squares += count; // sum of sqrt(tf)^2
  const scale = weight / Math.sqrt(squares);
  const dimensions = accumulator.length;
  for (const [hash, count] of counts) {
    const value = Math.sqrt(count) * scale;
    const bucket = hash % dimensions;
    accumulator[bucket] = accumulator[bucket]! + (hash >= 0x80000000 ? -value : value);
  }
}

function increment(counts: Map<number, number>, key: number): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** FNV-1a over UTF-16 code units, unsigned 32-bit, from `state`. */
function hashString(text: string, state: number): number {
  let hash = state;
  for (let index = 0; index < text.length; index++) hash = fnvStep(hash, text.charCodeAt(index));
  return hash;
}

function fnvStep(state: number, code: number): number {
  return Math.imul(state ^ code, FNV_PRIME) >>> 0;
}

/** murmur3's fmix32: FNV-1a mixes poorly, and the bucket and the sign come from this value. */
function finalize(value: number): number {
  let hash = value >>> 0;
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}

function resolveOptions(options: HashingEmbedderOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options);
  const dimensions = options.dimensions ?? DEFAULT_DIMENSIONS;
  if (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 1 || dimensions > MAX_DIMENSIONS) {
    throw invalidOption('dimensions', `an integer from 1 to ${MAX_DIMENSIONS}`, dimensions);
  }
  const wordNgrams = options.wordNgrams ?? 2;
  if (wordNgrams !== 1 && wordNgrams !== 2) throw invalidOption('wordNgrams', '1 or 2', wordNgrams);
  const charNgrams = options.charNgrams ?? { min: 3, max: 5 };
  if (charNgrams !== false && !isCharacterRange(charNgrams)) {
    throw invalidOption('charNgrams', '`false` or `{ min, max }`, integers with 1 <= min <= max <= 16', charNgrams);
  }
  const weights = options.weights ?? {};
  if (typeof weights !== 'object' || weights === null) throw invalidOption('weights', 'an object', weights);
  const stopwords = options.stopwords ?? true;
  if (typeof stopwords !== 'boolean') throw invalidOption('stopwords', 'a boolean', stopwords);
  const stemming = options.stemming ?? true;
  if (typeof stemming !== 'boolean') throw invalidOption('stemming', 'a boolean', stemming);
  const seed = options.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw invalidOption('seed', 'an integer from 0 to 4294967295', seed);
  }
  return {
    dimensions,
    wordNgrams,
    charNgrams: charNgrams === false ? false : { min: charNgrams.min, max: charNgrams.max },
    weights: {
      words: expectWeight('weights.words', weights.words ?? 1),
      wordPairs: expectWeight('weights.wordPairs', weights.wordPairs ?? 1),
      characters: expectWeight('weights.characters', weights.characters ?? 2),
    },
    stopwords,
    stemming,
    seed,
  };
}

function isCharacterRange(value: unknown): value is CharacterNgramRange {
  if (typeof value !== 'object' || value === null) return false;
  const { min, max } = value as Partial<Record<'min' | 'max', unknown>>;
  return Number.isInteger(min) && Number.isInteger(max) && (min as number) >= 1 && (max as number) >= (min as number) && (max as number) <= 16;
}

function expectWeight(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw invalidOption(name, 'a finite number >= 0', value);
  return value;
}

/** The p-queue style option error core uses: "Expected `dimensions` to be ..., got `0` (number)". */
function invalidOption(name: string, expected: string, value: unknown): TypeError {
  const shown = typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
  return new TypeError(`Expected \`${name}\` to be ${expected}, got \`${shown}\` (${typeof value})`);
}

/** Names every option that changes the vectors, so vectors made another way are told apart. */
function describeModel(options: ResolvedOptions): string {
  const characters = options.charNgrams === false ? 'c0' : `c${options.charNgrams.min}-${options.charNgrams.max}`;
  const { words, wordPairs, characters: characterWeight } = options.weights;
  const text = `${options.stopwords ? 'stop' : 'all'}-${options.stemming ? 'stem' : 'raw'}`;
  return `hashing-v1-d${options.dimensions}-w${options.wordNgrams}-${characters}-${text}-weights${words}:${wordPairs}:${characterWeight}-seed${options.seed}`;
}
