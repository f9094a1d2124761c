/**
 * A refusal the loopback server answers with Qdrant's error envelope
 * (`{ status: { error }, time }`) and this HTTP status.
 */
export class QdrantLoopbackHttpError extends Error {
  override readonly name = 'QdrantLoopbackHttpError';
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** 404 for a collection that does not exist, worded as Qdrant words it. */
export function collectionNotFound(collection: string): QdrantLoopbackHttpError {
  return new QdrantLoopbackHttpError(404, `Not found: Collection \`${collection}\` doesn't exist!`);
}

/** 400 for input Qdrant refuses after parsing (Qdrant prefixes these with "Wrong input"). */
export function wrongInput(message: string): QdrantLoopbackHttpError {
  return new QdrantLoopbackHttpError(400, `Wrong input: ${message}`);
}

/**
 * 501 for a valid Qdrant request this loopback server does not implement (named vectors, nested
 * filters, ...). Real Qdrant would answer it; a test that needs it must extend the server.
 */
export function notImplemented(what: string): QdrantLoopbackHttpError {
  return new QdrantLoopbackHttpError(501, `Not implemented by the Qdrant loopback server: ${what}`);
}
