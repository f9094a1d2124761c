import { createHash } from 'node:crypto';

/**
 * The namespace of every point id the ingest pipeline writes (a fixed random UUID), so ids are
 * stable across runs, machines and versions of this package.
 */
export const INGEST_NAMESPACE = '6b1f3a52-0c1e-4d7a-9f53-7d2b8e4c1a90';

/**
 * A name-based UUID, version 5 (RFC 9562: SHA-1 of the namespace's bytes followed by the
 * name's UTF-8 bytes, with the version and variant bits set).
 */
export function uuidV5(name: string, namespace: string): string {
  const namespaceHex = namespace.replaceAll('-', '');
  if (!/^[0-9a-f]{32}$/i.test(namespaceHex)) throw new TypeError(`Expected \`namespace\` to be a UUID, got \`${namespace}\` (string)`);
  const hash = createHash('sha1').update(Buffer.from(namespaceHex, 'hex')).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** SHA-256 of a chunk's text (hex): what the point id is addressed by and what the payload records. */
export function contentHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** What makes a chunk's point unique within its source. */
export interface PointIdentity {
  /** The document's source (file path relative to the source root, or the inline id). */
  readonly source: string;
  readonly contentHash: string;
  /** PDF page; the same text on two pages is two points. */
  readonly page: number | undefined;
  /**
   * How many earlier chunks of the same document have the same text on the same page (0 for
   * the first), so a repeated passage is stored once per occurrence instead of colliding.
   */
  readonly occurrence: number;
}

/**
 * The deterministic id of a chunk's point: UUIDv5 of its source and content hash (plus page and
 * occurrence, which only matter for repeated text). Unchanged content keeps its id across runs,
 * so a re-run skips it and an interrupted run leaves no duplicates.
 */
export function pointId(identity: PointIdentity): string {
  const { source, page, occurrence } = identity;
  return uuidV5(`${source}\u0000${identity.contentHash}\u0000${page ?? ''}\u0000${occurrence}`, INGEST_NAMESPACE);
}
