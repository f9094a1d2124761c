import { AidocError } from '@aidoc/core';
import { testEmbedder } from '@aidoc/core/testing';
import { getEventListeners } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { createHashingEmbedder, type HashingEmbedderOptions } from '../src/hashing-embedder.ts';
import { stem, tokenize } from '../src/text-features.ts';

testEmbedder({ name: 'hashing', create: () => createHashingEmbedder() });

const dot = (left: Float32Array, right: Float32Array): number => left.reduce((sum, value, index) => sum + value * right[index]!, 0);
const norm = (vector: Float32Array): number => Math.sqrt(dot(vector, vector));

async function embedOne(text: string, kind: 'query' | 'document' = 'document', options?: HashingEmbedderOptions): Promise<Float32Array> {
  const [vector] = await createHashingEmbedder(options).embed([text], { kind });
  return vector!;
}

/** `count` pseudo-random clinical passages of about 1,000 characters (a fixed LCG, so every run embeds the same text). */
function passages(count: number): string[] {
  const vocabulary = ('metformin dose chronic kidney disease egfr asthma inhaler corticosteroid hypertension lisinopril ' +
    'potassium monitoring retinal screening diabetes insulin glucose anticoagulation warfarin bleeding risk allergy penicillin ' +
    'the patient should be reviewed every three months and referred when symptoms worsen despite treatment').split(' ');
  let state = 12345;
  const next = (): number => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
  return Array.from({ length: count }, () => {
    const words: string[] = [];
    let length = 0;
    while (length < 1000) {
      const word = vocabulary[next() % vocabulary.length]!;
      words.push(word);
      length += word.length + 1;
    }
    return `${words.join(' ')}.`;
  });
}

describe('createHashingEmbedder', () => {
  it('declares the v1 contract and its capabilities', () => {
    const embedder = createHashingEmbedder();
    expect(embedder).toMatchObject({
      specificationVersion: 'v1',
      provider: 'local-hashing',
      dimensions: 768,
      maxBatchSize: 2048,
      supportsParallelCalls: true,
    });
    expect(embedder.maxTokensPerBatch).toBeUndefined();
    expect(embedder.model).toBe('hashing-v1-d768-w2-c3-5-stop-stem-weights1:1:2-seed0');
    expect(createHashingEmbedder({ dimensions: 64, seed: 7 }).model).toBe('hashing-v1-d64-w2-c3-5-stop-stem-weights1:1:2-seed7');
  });

  it('returns unit-length Float32Arrays of `dimensions` numbers', async () => {
    for (const dimensions of [1, 64, 768, 4096]) {
      const texts = ['Metformin 500 mg twice daily', 'ＣＫＤ stage 3b — eGFR 38', 'Ça va? Naïve café, 10 mg/kg', 'what is it?'];
      const vectors = await createHashingEmbedder({ dimensions }).embed(texts, { kind: 'document' });
      expect(vectors).toHaveLength(texts.length);
      for (const vector of vectors) {
        expect(vector).toBeInstanceOf(Float32Array);
        expect(vector).toHaveLength(dimensions);
        expect(norm(vector)).toBeCloseTo(1, 5);
      }
    }
  });

  it('gives a text without letters or digits the zero vector', async () => {
    for (const text of ['', '   ', '?!', '—']) {
      const vector = await embedOne(text);
      expect(vector.every((value) => value === 0)).toBe(true);
    }
  });

  it('is deterministic: same text, same vector, across instances and batches; pinned values guard the hash', async () => {
    const text = 'Metformin dose in chronic kidney disease';
    const a = await embedOne(text);
    const [b, , c] = await createHashingEmbedder().embed([text, 'asthma', text], { kind: 'document' });
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    // Any change to tokenising, hashing or weighting changes these; so must the `model` string.
    const small = await embedOne(text, 'document', { dimensions: 16 });
    expect(Array.from(small, (value) => Math.round(value * 1e4) / 1e4 + 0)).toEqual(PINNED_16);
  });

  it('changes every vector with the seed', async () => {
    const text = 'warfarin and bleeding risk';
    const seeded = await embedOne(text, 'document', { seed: 1 });
    expect(dot(seeded, await embedOne(text))).toBeLessThan(0.5);
    expect(await embedOne(text, 'document', { seed: 1 })).toEqual(seeded);
  });

  it('folds case, Unicode compatibility forms, punctuation and possessives', async () => {
    const plain = await embedOne('ckd stage 3 alzheimer disease');
    expect(await embedOne('CKD, stage 3: Alzheimer’s disease!')).toEqual(plain);
    expect(await embedOne('ＣＫＤ ｓｔａｇｅ ３ Alzheimer\'s DISEASE')).toEqual(plain);
  });

  it('puts a question nearer its passage than an unrelated one', async () => {
    const embedder = createHashingEmbedder();
    const [query] = await embedder.embed(['metformin dose in chronic kidney disease'], { kind: 'query' });
    const [kidney, asthma] = await embedder.embed(
      [
        'In chronic kidney disease, reduce the metformin dose when eGFR is below 45 and stop it below 30; check renal function at least twice a year.',
        'Asthma: an inhaled corticosteroid is the basis of maintenance treatment; review inhaler technique and adherence before stepping up.',
      ],
      { kind: 'document' },
    );
    expect(dot(query!, kidney!)).toBeGreaterThan(0.3);
    expect(dot(query!, kidney!)).toBeGreaterThan(dot(query!, asthma!) + 0.2);
  });

  it('matches inflections through stemming and character n-grams', async () => {
    const query = await embedOne('dosing of diuretics', 'query');
    const related = await embedOne('The diuretic dose was adjusted.');
    const unrelated = await embedOne('Retinal screening every year.');
    expect(dot(query, related)).toBeGreaterThan(dot(query, unrelated) + 0.3);
  });

  it('drops request-framing words from queries only', async () => {
    expect(await embedOne('Do you have information about anemia?', 'query')).toEqual(await embedOne('anemia', 'query'));
    expect(await embedOne('Do you have information about anemia?', 'document')).not.toEqual(await embedOne('anemia', 'document'));
    // A passage-like query (no framing words) embeds as the document does.
    expect(await embedOne('metformin in chronic kidney disease', 'query')).toEqual(await embedOne('metformin in chronic kidney disease'));
  });

  it('keeps the order of the batch', async () => {
    const embedder = createHashingEmbedder();
    const texts = ['insulin glargine', 'penicillin allergy', 'retinal screening', 'potassium monitoring'];
    const forward = await embedder.embed(texts, { kind: 'document' });
    const backward = await embedder.embed([...texts].reverse(), { kind: 'document' });
    expect(backward.reverse()).toEqual(forward);
    for (const [index, text] of texts.entries()) expect(forward[index]).toEqual(await embedOne(text));
  });

  it('rejects an already-aborted call with ABORTED, or the AidocError it was aborted with', async () => {
    const embedder = createHashingEmbedder();
    const controller = new AbortController();
    controller.abort();
    await expect(embedder.embed(['text'], { kind: 'query', signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    const timedOut = new AbortController();
    const reason = new AidocError('TIMEOUT', 'too slow');
    timedOut.abort(reason);
    await expect(embedder.embed(['text'], { kind: 'query', signal: timedOut.signal })).rejects.toBe(reason);
  });

  it('stops a large batch at its next yield once aborted, leaving no listener', async () => {
    const embedder = createHashingEmbedder();
    const texts = passages(2048);
    const controller = new AbortController();
    const started = performance.now();
    const call = embedder.embed(texts, { kind: 'document', signal: controller.signal });
    setImmediate(() => controller.abort());
    await expect(call).rejects.toMatchObject({ code: 'ABORTED', retryable: false });
    expect(performance.now() - started).toBeLessThan(200);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('does not block the event loop for more than 50 ms while embedding 2,048 passages', async () => {
    const embedder = createHashingEmbedder();
    const texts = passages(2048);
    await embedder.embed(texts.slice(0, 100), { kind: 'document' }); // warm the JIT
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    const started = performance.now();
    const vectors = await embedder.embed(texts, { kind: 'document' });
    const elapsedMs = performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 5));
    histogram.disable();
    expect(vectors).toHaveLength(2048);
    expect(histogram.max / 1e6).toBeLessThan(50);
    // About 0.2 ms per 1,000-character passage on one core; the bound leaves room for slow CI.
    expect(elapsedMs / texts.length).toBeLessThan(5);
  });

  it('rejects bad input with INVALID_INPUT', async () => {
    const embedder = createHashingEmbedder();
    await expect(embedder.embed(Array.from({ length: 2049 }, () => 'x'), { kind: 'document' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(embedder.embed(['ok', 42 as unknown as string], { kind: 'document' })).rejects.toMatchObject({ code: 'INVALID_INPUT', details: { index: 1 } });
    await expect(embedder.embed(['ok'], { kind: 'passage' as 'document' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(embedder.embed([], { kind: 'document' })).resolves.toEqual([]);
  });

  it.each([
    [{ dimensions: 0 }, 'Expected `dimensions` to be an integer from 1 to 65536, got `0` (number)'],
    [{ dimensions: 1.5 }, 'Expected `dimensions` to be an integer from 1 to 65536, got `1.5` (number)'],
    [{ dimensions: '768' }, 'Expected `dimensions` to be an integer from 1 to 65536, got `768` (string)'],
    [{ wordNgrams: 3 }, 'Expected `wordNgrams` to be 1 or 2, got `3` (number)'],
    [{ charNgrams: { min: 5, max: 3 } }, 'Expected `charNgrams` to be `false` or `{ min, max }`, integers with 1 <= min <= max <= 16, got `{"min":5,"max":3}` (object)'],
    [{ charNgrams: true }, 'Expected `charNgrams` to be `false` or `{ min, max }`, integers with 1 <= min <= max <= 16, got `true` (boolean)'],
    [{ weights: { characters: -1 } }, 'Expected `weights.characters` to be a finite number >= 0, got `-1` (number)'],
    [{ weights: { words: Number.NaN } }, 'Expected `weights.words` to be a finite number >= 0, got `NaN` (number)'],
    [{ stopwords: 'yes' }, 'Expected `stopwords` to be a boolean, got `yes` (string)'],
    [{ stemming: 1 }, 'Expected `stemming` to be a boolean, got `1` (number)'],
    [{ seed: -1 }, 'Expected `seed` to be an integer from 0 to 4294967295, got `-1` (number)'],
  ])('throws a TypeError for bad options: %j', (options, message) => {
    expect(() => createHashingEmbedder(options as HashingEmbedderOptions)).toThrow(new TypeError(message));
  });

  it('allows turning feature families off', async () => {
    const wordsOnly = await embedOne('kidney disease', 'document', { wordNgrams: 1, charNgrams: false });
    expect(wordsOnly.filter((value) => value !== 0)).toHaveLength(2);
    const charactersOnly = await embedOne('kidney', 'document', { wordNgrams: 1, weights: { words: 0 } });
    expect(norm(charactersOnly)).toBeCloseTo(1, 5);
    expect(dot(charactersOnly, await embedOne('kidneys', 'document', { wordNgrams: 1, weights: { words: 0 } }))).toBeGreaterThan(0.7);
  });
});

describe('text features', () => {
  it('tokenises on letters and digits, dropping stopwords unless nothing else is left', () => {
    expect(tokenize('What are the symptoms of Type-2 diabetes?', { stopwords: true })).toEqual(['symptoms', 'type', '2', 'diabetes']);
    expect(tokenize('What is it?', { stopwords: true })).toEqual(['what', 'is', 'it']);
    expect(tokenize('No penicillin, not ever', { stopwords: true })).toEqual(['no', 'penicillin', 'not', 'ever']);
    expect(tokenize('Tell me about the dose', { stopwords: true, query: true })).toEqual(['dose']);
  });

  it('stems plurals and regular inflections onto one stem', () => {
    const groups = [
      ['dose', 'doses', 'dosing', 'dosed'],
      ['therapy', 'therapies'],
      ['kidney', 'kidneys'],
      ['treat', 'treated', 'treating', 'treats'],
      ['stop', 'stopped', 'stopping'],
      ['virus', 'viruses'],
    ];
    for (const group of groups) expect(new Set(group.map(stem)).size).toBe(1);
    for (const word of ['diagnosis', 'stress', 'bleed', '2mg', 'café']) expect(stem(word)).toBe(word);
  });
});

const PINNED_16 = [-0.1042, -0.0289, 0.7049, 0.2275, 0.2979, -0.1986, 0.0871, 0, 0, 0.0993, 0, -0.2979, 0.3268, 0.0993, 0, -0.2979];
