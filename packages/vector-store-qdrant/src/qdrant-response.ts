import { AidocError, type Payload, type ScoredPoint, type ScrollPage } from '@aidoc/core';

/**
 * Reads Qdrant's answers tolerantly (unknown fields are ignored) but checks what the adapter
 * relies on; anything else is INVALID_OUTPUT, not a crash further down.
 */

/** What `GET /collections/{name}` tells the adapter. */
export interface QdrantCollectionDescription {
  readonly pointCount: number;
  /** Undefined when the collection holds named vectors only (the adapter uses the unnamed one). */
  readonly dimensions: number | undefined;
  /** `Cosine`, `Dot`, ... of the unnamed vector. */
  readonly distance: string | undefined;
  /** Fields with a payload index. */
  readonly indexedFields: ReadonlySet<string>;
}

/** The `result` of the `{ result, status, time }` envelope. */
export function readResult(response: { readonly data: unknown }, operation: string): unknown {
  const { data } = response;
  if (!isRecord(data) || data.result === undefined || data.result === null) {
    throw invalidOutput(operation, 'the answer has no `result`', data);
  }
  return data.result;
}

export function readScoredPoints(result: unknown, operation: string): ScoredPoint[] {
  if (!isRecord(result) || !Array.isArray(result.points)) throw invalidOutput(operation, '`result.points` is not a list', result);
  return result.points.map((point: unknown, index) => {
    if (!isRecord(point)) throw invalidOutput(operation, `point ${index} is not an object`, point);
    const score = point.score;
    if (typeof score !== 'number' || !Number.isFinite(score)) throw invalidOutput(operation, `point ${index} has no finite \`score\``, point);
    return { id: readId(point.id, operation, index), score, payload: readPayload(point.payload, operation, index) };
  });
}

export function readQueryBatch(result: unknown, expected: number, operation: string): ScoredPoint[][] {
  if (!Array.isArray(result)) throw invalidOutput(operation, '`result` is not a list', result);
  if (result.length !== expected) throw invalidOutput(operation, `${result.length} result lists for ${expected} queries`, result.length);
  return result.map((entry: unknown) => readScoredPoints(entry, operation));
}

export function readScrollPage(result: unknown, operation: string): ScrollPage {
  if (!isRecord(result) || !Array.isArray(result.points)) throw invalidOutput(operation, '`result.points` is not a list', result);
  const points = result.points.map((point: unknown, index) => {
    if (!isRecord(point)) throw invalidOutput(operation, `point ${index} is not an object`, point);
    return { id: readId(point.id, operation, index), payload: readPayload(point.payload, operation, index) };
  });
  const next = result.next_page_offset;
  const nextOffset = next === undefined || next === null ? undefined : readId(next, operation, -1);
  return { points, nextOffset };
}

export function readCollectionDescription(result: unknown, operation: string): QdrantCollectionDescription {
  if (!isRecord(result) || !isRecord(result.config) || !isRecord(result.config.params)) {
    throw invalidOutput(operation, 'the collection info has no `config.params`', result);
  }
  const pointsCount = result.points_count;
  if (pointsCount !== undefined && pointsCount !== null && (typeof pointsCount !== 'number' || !Number.isInteger(pointsCount) || pointsCount < 0)) {
    throw invalidOutput(operation, '`points_count` is not a count', pointsCount);
  }
  const vectors = result.config.params.vectors;
  const unnamed = isRecord(vectors) && typeof vectors.size === 'number' ? vectors : undefined;
  const schema = isRecord(result.payload_schema) ? result.payload_schema : {};
  return {
    pointCount: pointsCount ?? 0,
    dimensions: unnamed === undefined ? undefined : (unnamed.size as number),
    distance: typeof unnamed?.distance === 'string' ? unnamed.distance : undefined,
    indexedFields: new Set(Object.keys(schema)),
  };
}

/** Ids come back as UUID strings (or unsigned integers, for points written by other tools). */
function readId(id: unknown, operation: string, index: number): string {
  if (typeof id === 'string' && id !== '') return id;
  if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) return String(id);
  throw invalidOutput(operation, index < 0 ? '`next_page_offset` is not a point id' : `point ${index} has no valid \`id\``, id);
}

function readPayload(payload: unknown, operation: string, index: number): Payload {
  if (payload === undefined || payload === null) return {};
  if (!isRecord(payload)) throw invalidOutput(operation, `point ${index} has a payload that is not an object`, payload);
  return payload as Payload;
}

function invalidOutput(operation: string, problem: string, value: unknown): AidocError {
  let shown: string;
  try {
    shown = (JSON.stringify(value) ?? String(value)).slice(0, 200);
  } catch {
    shown = String(value);
  }
  return new AidocError('INVALID_OUTPUT', `Qdrant ${operation} answered something unexpected: ${problem} (got ${shown})`, { details: { operation } });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
