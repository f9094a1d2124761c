import { AidocError } from '../../errors/aidoc-error.ts';

/** What bounds one `embed` call. */
export interface BatchLimits {
  /** Most texts per call (the smaller of the embedder's `maxBatchSize` and the pipeline's `batchSize`). */
  readonly maxBatchSize: number;
  /** Most estimated tokens per call (the embedder's `maxTokensPerBatch`), when it has a budget. */
  readonly maxTokensPerBatch: number | undefined;
}

/** Anything batched by its token estimate. */
export interface TokenCounted {
  readonly tokens: number;
}

/**
 * Packs items into embedding batches in arrival order: a batch is sealed as soon as the next item
 * would take it past `maxBatchSize` texts or `maxTokensPerBatch` estimated tokens, so no batch
 * ever exceeds either. Items arrive over time (documents finish chunking one by one); the caller
 * seals a partial batch with `flush` when waiting for more is not worth it.
 */
export class EmbeddingBatcher<Item extends TokenCounted> {
  readonly limits: BatchLimits;
  #items: Item[] = [];
  #tokens = 0;
  #oldestAt = 0;

  constructor(limits: BatchLimits) {
    this.limits = limits;
  }

  /** Items waiting in the open batch. */
  get size(): number {
    return this.#items.length;
  }

  /** `performance.now()` when the open batch's first item arrived (0 when empty). */
  get oldestAt(): number {
    return this.#oldestAt;
  }

  /**
   * Adds an item; returns the batches this sealed (none, usually): the open batch when the item
   * would take it over the token budget, and the batch the item joined when that reached
   * `maxBatchSize`. An item over the token budget on its own is INVALID_INPUT: no call could
   * carry it.
   */
  add(item: Item): Item[][] {
    const { maxBatchSize, maxTokensPerBatch } = this.limits;
    if (maxTokensPerBatch !== undefined && item.tokens > maxTokensPerBatch) {
      throw new AidocError('INVALID_INPUT', `A text of ~${item.tokens} tokens exceeds the embedder's budget of ${maxTokensPerBatch} tokens per call`, {
        details: { tokens: item.tokens, maxTokensPerBatch },
      });
    }
    const sealed: Item[][] = [];
    if (this.#items.length > 0 && maxTokensPerBatch !== undefined && this.#tokens + item.tokens > maxTokensPerBatch) {
      sealed.push(this.#seal());
    }
    if (this.#items.length === 0) this.#oldestAt = performance.now();
    this.#items.push(item);
    this.#tokens += item.tokens;
    if (this.#items.length >= maxBatchSize) sealed.push(this.#seal());
    return sealed;
  }

  /** Seals and returns the open batch (undefined when empty). */
  flush(): Item[] | undefined {
    return this.#items.length === 0 ? undefined : this.#seal();
  }

  #seal(): Item[] {
    const batch = this.#items;
    this.#items = [];
    this.#tokens = 0;
    this.#oldestAt = 0;
    return batch;
  }
}

/** Splits `items` into batches within `limits`, in order (all at once; see `EmbeddingBatcher`). */
export function planEmbeddingBatches<Item extends TokenCounted>(items: Iterable<Item>, limits: BatchLimits): Item[][] {
  const batcher = new EmbeddingBatcher<Item>(limits);
  const batches: Item[][] = [];
  for (const item of items) batches.push(...batcher.add(item));
  const last = batcher.flush();
  if (last !== undefined) batches.push(last);
  return batches;
}
