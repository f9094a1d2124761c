import { AidocError } from '@aidoc/core';

/** The ES2024 growable SharedArrayBuffer (the project's `lib` is ES2023, so typed here). */
interface GrowableSharedArrayBuffer extends SharedArrayBuffer {
  readonly maxByteLength: number;
  grow(newByteLength: number): void;
}

const GrowableSharedArrayBuffer = SharedArrayBuffer as unknown as new (
  byteLength: number,
  options: { maxByteLength: number },
) => GrowableSharedArrayBuffer;

/**
 * Address space reserved per collection. A growable SharedArrayBuffer reserves its maximum up
 * front and commits memory only as it grows, so this costs no memory; it caps a collection at
 * about 5.6 million vectors of 768 dimensions (an exact scan of that many takes seconds anyway).
 */
const RESERVED_BYTES = 2 ** 34;

/** Growth is rounded up to this, so a stream of small upserts does not grow the buffer each time. */
const GROWTH_STEP_BYTES = 2 ** 20;

/**
 * The vectors of one collection: `dimensions` float32 components per row, row after row, in ONE
 * growable SharedArrayBuffer. It grows in place (no copy, no doubling, so memory stays within
 * a megabyte of the rows in use), and worker threads scan it without copying.
 */
export class VectorMatrix {
  readonly dimensions: number;
  readonly buffer: SharedArrayBuffer;
  readonly #buffer: GrowableSharedArrayBuffer;
  #rowCount = 0;

  constructor(dimensions: number, rowCount = 0) {
    this.dimensions = dimensions;
    this.#buffer = reserve(roundUp(rowCount * dimensions * 4));
    this.buffer = this.#buffer;
    this.resize(rowCount);
  }

  /** Rows in use. */
  get rowCount(): number {
    return this.#rowCount;
  }

  /** Most rows the reservation can hold. */
  get maxRows(): number {
    return Math.floor(this.#buffer.maxByteLength / (this.dimensions * 4));
  }

  /**
   * Sets the rows in use, growing the buffer when needed. Shrinking keeps the memory (a
   * SharedArrayBuffer cannot shrink) for later rows; the next load from disk is exact.
   */
  resize(rowCount: number): void {
    if (rowCount > this.maxRows) {
      throw new AidocError(
        'INVALID_INPUT',
        `A file vector store collection holds at most ${this.maxRows} vectors of ${this.dimensions} dimensions; use a server-backed store for more`,
        { details: { rowCount, maxRows: this.maxRows } },
      );
    }
    const needed = rowCount * this.dimensions * 4;
    if (needed > this.#buffer.byteLength) this.#buffer.grow(Math.min(this.#buffer.maxByteLength, roundUp(needed)));
    this.#rowCount = rowCount;
  }

  /** A view of one row (writes go to the matrix). */
  row(index: number): Float32Array {
    return new Float32Array(this.#buffer, index * this.dimensions * 4, this.dimensions);
  }

  /** Moves row `from` over row `to` (a swap-remove). */
  moveRow(from: number, to: number): void {
    this.row(to).set(this.row(from));
  }

  /** The bytes of the rows in use, `start` to `end` (rows), for writing to disk or reading into. */
  bytes(start = 0, end = this.#rowCount): Uint8Array {
    const rowBytes = this.dimensions * 4;
    return new Uint8Array(this.#buffer, start * rowBytes, (end - start) * rowBytes);
  }
}

function roundUp(bytes: number): number {
  return Math.ceil(bytes / GROWTH_STEP_BYTES) * GROWTH_STEP_BYTES;
}

/** Reserves the address space, halving the reservation where the platform refuses (a `ulimit -v`). */
function reserve(initialBytes: number): GrowableSharedArrayBuffer {
  for (let maxBytes = RESERVED_BYTES; ; maxBytes /= 2) {
    try {
      return new GrowableSharedArrayBuffer(initialBytes, { maxByteLength: Math.max(maxBytes, initialBytes) });
    } catch (error) {
      if (!(error instanceof RangeError) || maxBytes <= Math.max(initialBytes, GROWTH_STEP_BYTES)) {
        throw new AidocError('INTERNAL', `Could not allocate ${initialBytes} bytes for a vector collection`, { cause: error });
      }
    }
  }
}
