import type { Payload, ScoredPoint, ScrollPage } from '@aidoc/core';
import type { CollectionFileContent } from './file-vector-store-file-format.ts';
import type { PreparedPoint, PreparedScroll } from './file-vector-store-input.ts';
import { VectorMatrix } from './file-vector-store-matrix.ts';
import type { PayloadPredicate } from '@aidoc/core';
import { ReadWriteGate } from './file-vector-store-read-write-gate.ts';
import type { ScanHits } from './file-vector-store-scan.ts';

/**
 * One collection in memory: row `r` is the point `ids[r]`, with vector `matrix.row(r)` and
 * payload `payloads[r]`; `rows` maps an id to its row. Rows are dense: a delete moves the last
 * row into the hole (swap-remove), so a scan never skips tombstones.
 *
 * The methods are synchronous and assume the caller holds `gate` (shared to read, exclusive to
 * mutate), since scans and disk writes read the matrix while it is unlocked for the event loop.
 */
export class StoredCollection {
  readonly name: string;
  readonly dimensions: number;
  readonly payloadIndexes: readonly string[];
  readonly matrix: VectorMatrix;
  readonly gate = new ReadWriteGate();
  readonly #ids: string[];
  readonly #payloads: Payload[];
  readonly #rows = new Map<string, number>();
  /** Ids in ascending order, the stable order of `scroll`; rebuilt after ids change. */
  #sortedIds: string[] | undefined;

  constructor(content: CollectionFileContent) {
    this.name = content.name;
    this.dimensions = content.dimensions;
    this.payloadIndexes = content.payloadIndexes;
    this.matrix = content.matrix;
    this.#ids = [...content.ids];
    this.#payloads = [...content.payloads];
    this.#ids.forEach((id, row) => this.#rows.set(id, row));
  }

  static empty(name: string, dimensions: number, payloadIndexes: readonly string[]): StoredCollection {
    return new StoredCollection({ name, dimensions, payloadIndexes, ids: [], payloads: [], matrix: new VectorMatrix(dimensions) });
  }

  get pointCount(): number {
    return this.#ids.length;
  }

  /** What the file writer saves. The arrays are live: hold the gate (shared) while using them. */
  content(): CollectionFileContent {
    return { name: this.name, dimensions: this.dimensions, payloadIndexes: this.payloadIndexes, ids: this.#ids, payloads: this.#payloads, matrix: this.matrix };
  }

  /** Inserts new ids at the end and overwrites existing ones in place; the last of duplicate ids wins. All or nothing. */
  upsert(points: readonly PreparedPoint[]): void {
    const added = new Set<string>();
    for (const { id } of points) if (!this.#rows.has(id)) added.add(id);
    // Grows first: the only step that can fail (a full reservation), before anything changes.
    this.matrix.resize(this.#ids.length + added.size);
    for (const { id, vector, payload } of points) {
      let row = this.#rows.get(id);
      if (row === undefined) {
        row = this.#ids.length;
        this.#ids.push(id);
        this.#rows.set(id, row);
      }
      this.matrix.row(row).set(vector);
      this.#payloads[row] = payload;
    }
    if (added.size > 0) this.#sortedIds = undefined;
  }

  /** Deletes these ids (missing ones are ignored); returns how many were deleted. */
  deleteIds(ids: Iterable<string>): number {
    let deleted = 0;
    for (const id of ids) {
      const row = this.#rows.get(id);
      if (row === undefined) continue;
      const last = this.#ids.length - 1;
      if (row !== last) {
        const movedId = this.#ids[last]!;
        this.matrix.moveRow(last, row);
        this.#ids[row] = movedId;
        this.#payloads[row] = this.#payloads[last]!;
        this.#rows.set(movedId, row);
      }
      this.#ids.pop();
      this.#payloads.pop();
      this.#rows.delete(id);
      deleted++;
    }
    if (deleted > 0) {
      this.matrix.resize(this.#ids.length);
      this.#sortedIds = undefined;
    }
    return deleted;
  }

  deleteMatching(predicate: PayloadPredicate): number {
    return this.deleteIds(this.#ids.filter((_, row) => predicate(this.#payloads[row]!)));
  }

  /** Rows the predicate allows (1) or not (0), and how many it allows. */
  mask(predicate: PayloadPredicate): { mask: Uint8Array; allowed: number } {
    const mask = new Uint8Array(this.#ids.length);
    let allowed = 0;
    for (let row = 0; row < mask.length; row++) {
      if (predicate(this.#payloads[row]!)) {
        mask[row] = 1;
        allowed++;
      }
    }
    return { mask, allowed };
  }

  /** Scan hits as points, dropping scores below `scoreThreshold`. */
  scoredPoints(hits: ScanHits, scoreThreshold: number | undefined): ScoredPoint[] {
    const points: ScoredPoint[] = [];
    for (let index = 0; index < hits.rows.length; index++) {
      const score = hits.scores[index]!;
      if (scoreThreshold !== undefined && score < scoreThreshold) break;
      const row = hits.rows[index]!;
      points.push({ id: this.#ids[row]!, score, payload: this.#payloads[row]! });
    }
    return points;
  }

  /** A page of matching points in ascending id order, from the first id at or after `offset`. */
  scroll({ limit, offset, predicate }: PreparedScroll): ScrollPage {
    this.#sortedIds ??= [...this.#ids].sort();
    const sorted = this.#sortedIds;
    let index = offset === undefined ? 0 : lowerBound(sorted, offset);
    const points: { id: string; payload: Payload }[] = [];
    for (; index < sorted.length; index++) {
      const id = sorted[index]!;
      const payload = this.#payloads[this.#rows.get(id)!]!;
      if (predicate !== undefined && !predicate(payload)) continue;
      if (points.length === limit) return { points, nextOffset: id };
      points.push({ id, payload });
    }
    return { points, nextOffset: undefined };
  }
}

/** The first index whose id is >= `id`. */
function lowerBound(sorted: readonly string[], id: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < id) low = middle + 1;
    else high = middle;
  }
  return low;
}
