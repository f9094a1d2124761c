// Checks what callers pass to the file vector store, once, where it enters; everything past this
// point trusts its input. Failures are INVALID_INPUT naming the faulty field.
import { AidocError, type CollectionSettings, type Payload, type PayloadValue, type ScrollRequest, type VectorPoint, type VectorQuery } from '@aidoc/core';
import { compileFilter, isEmptyFilter, type PayloadPredicate } from '@aidoc/core';

/** A point ready to store: canonical id, unit vector, frozen copy of the payload. */
export interface PreparedPoint {
  readonly id: string;
  readonly vector: Float32Array;
  readonly payload: Payload;
}

/** A search ready to scan: unit query vector and compiled filter. */
export interface PreparedQuery {
  readonly vector: Float64Array;
  readonly limit: number;
  /** Undefined when the query has no filter conditions. */
  readonly predicate: PayloadPredicate | undefined;
  readonly scoreThreshold: number | undefined;
}

export interface PreparedScroll {
  readonly limit: number;
  readonly offset: string | undefined;
  readonly predicate: PayloadPredicate | undefined;
}

/** Collection names become file names, so they are restricted to a portable set. */
const COLLECTION_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function validateCollectionName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !COLLECTION_NAME.test(name)) {
    throw invalid(`Expected the collection name to be 1 to 128 letters, digits, \`_\` or \`-\` (not starting with \`_\` or \`-\`), got ${show(name)}`);
  }
}

export function validateCollectionSettings(settings: CollectionSettings): void {
  const { dimensions, distance } = settings;
  if (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 1 || dimensions > 65_536) {
    throw invalid(`Expected \`dimensions\` to be an integer from 1 to 65536, got ${show(dimensions)}`);
  }
  if (distance !== 'cosine') throw invalid(`Expected \`distance\` to be 'cosine', got ${show(distance)}`);
  const { payloadIndexes } = settings;
  if (payloadIndexes !== undefined && (!Array.isArray(payloadIndexes) || !payloadIndexes.every((key) => typeof key === 'string'))) {
    throw invalid(`Expected \`payloadIndexes\` to be an array of field names, got ${show(payloadIndexes)}`);
  }
}

/** The id in canonical (lower-case) form; throws unless it is a UUID, as Qdrant requires. */
export function canonicalId(id: unknown, where = 'id'): string {
  if (typeof id !== 'string' || !UUID.test(id)) throw invalid(`Expected \`${where}\` to be a UUID string, got ${show(id)}`);
  return id.toLowerCase();
}

export function preparePoints(points: readonly VectorPoint[], dimensions: number): PreparedPoint[] {
  if (!Array.isArray(points)) throw invalid(`Expected \`points\` to be an array, got ${show(points)}`);
  return points.map((point: VectorPoint, index) => {
    if (typeof point !== 'object' || point === null) throw invalid(`Expected \`points[${index}]\` to be an object, got ${show(point)}`);
    const where = `points[${index}]`;
    return {
      id: canonicalId(point.id, `${where}.id`),
      vector: unitComponents(point.vector, dimensions, `${where}.vector`, new Float32Array(dimensions)),
      payload: freezePayload(point.payload, `${where}.payload`),
    };
  });
}

export function prepareQuery(query: VectorQuery, dimensions: number, where = 'query'): PreparedQuery {
  if (typeof query !== 'object' || query === null) throw invalid(`Expected \`${where}\` to be an object, got ${show(query)}`);
  const { limit, scoreThreshold, filter } = query;
  validateLimit(limit, `${where}.limit`);
  if (scoreThreshold !== undefined && (typeof scoreThreshold !== 'number' || Number.isNaN(scoreThreshold))) {
    throw invalid(`Expected \`${where}.scoreThreshold\` to be a number, got ${show(scoreThreshold)}`);
  }
  return {
    vector: unitComponents(query.vector, dimensions, `${where}.vector`, new Float64Array(dimensions)),
    limit,
    predicate: isEmptyFilter(filter) ? undefined : compileFilter(filter),
    scoreThreshold,
  };
}

export function prepareScroll(request: ScrollRequest): PreparedScroll {
  if (typeof request !== 'object' || request === null) throw invalid(`Expected the scroll request to be an object, got ${show(request)}`);
  validateLimit(request.limit, 'limit');
  return {
    limit: request.limit,
    offset: request.offset === undefined ? undefined : canonicalId(request.offset, 'offset'),
    predicate: isEmptyFilter(request.filter) ? undefined : compileFilter(request.filter),
  };
}

function validateLimit(limit: unknown, where: string): asserts limit is number {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
    throw invalid(`Expected \`${where}\` to be a positive integer, got ${show(limit)}`);
  }
}

/**
 * The vector scaled to unit length, written into `unit` (float32 for storage, float64 for a
 * query). A zero vector stays zero (it scores 0 against everything, as in Qdrant) rather than
 * failing: a hashing embedder can produce one for empty text.
 */
function unitComponents<T extends Float32Array | Float64Array>(vector: unknown, dimensions: number, where: string, unit: T): T {
  if (!(vector instanceof Float32Array) && !Array.isArray(vector)) {
    throw invalid(`Expected \`${where}\` to be a Float32Array or an array of numbers, got ${show(vector)}`);
  }
  const components = vector as ArrayLike<unknown>;
  if (components.length !== dimensions) {
    throw invalid(`Expected \`${where}\` to have ${dimensions} dimensions (the collection's), got ${components.length}`);
  }
  let squares = 0;
  for (let index = 0; index < dimensions; index++) {
    const component = components[index];
    if (typeof component !== 'number' || !Number.isFinite(component)) {
      throw invalid(`Expected \`${where}[${index}]\` to be a finite number, got ${show(component)}`);
    }
    squares += component * component;
  }
  let scale = squares > 0 ? 1 / Math.sqrt(squares) : 0;
  if (squares === Infinity) {
    // Components near the float64 limit: scale by the largest first, so the squares stay finite.
    let largest = 0;
    for (let index = 0; index < dimensions; index++) largest = Math.max(largest, Math.abs(components[index] as number));
    let scaledSquares = 0;
    for (let index = 0; index < dimensions; index++) scaledSquares += ((components[index] as number) / largest) ** 2;
    scale = 1 / largest / Math.sqrt(scaledSquares);
  }
  for (let index = 0; index < dimensions; index++) unit[index] = (components[index] as number) * scale;
  return unit;
}

/** A frozen copy (the store hands its payloads out), checked to hold only JSON-safe payload values. */
export function freezePayload(payload: unknown, where: string): Payload {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw invalid(`Expected \`${where}\` to be an object, got ${show(payload)}`);
  }
  const entries = Object.entries(payload).map(([key, value]: [string, unknown]): [string, PayloadValue] => {
    if (value === null || typeof value === 'string' || typeof value === 'boolean') return [key, value];
    if (typeof value === 'number' && Number.isFinite(value)) return [key, value];
    if (Array.isArray(value)) {
      if (value.every((item) => typeof item === 'string')) return [key, Object.freeze([...value])];
      if (value.every((item) => typeof item === 'number' && Number.isFinite(item))) return [key, Object.freeze([...(value as number[])])];
    }
    throw invalid(
      `Expected \`${where}.${key}\` to be a string, a finite number, a boolean, null, or an array of strings or of finite numbers, got ${show(value)}`,
    );
  });
  // fromEntries defines own properties, so a `__proto__` key stays data.
  return Object.freeze(Object.fromEntries(entries));
}

function invalid(message: string): AidocError {
  return new AidocError('INVALID_INPUT', message);
}

function show(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 60 ? `${value.slice(0, 60)}…` : value}'`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value !== null && typeof value === 'object') return value.constructor?.name ?? 'an object';
  return `${String(value)} (${typeof value})`;
}
