/**
 * The on-disk format of one collection, `<directory>/<collection>.aidoc-vectors`:
 *
 * ```
 * offset  bytes  field (little-endian)
 *      0      8  magic "AIDOCVEC"
 *      8      4  format version (1)
 *     12      4  header length (64)
 *     16      4  dimensions
 *     20      4  point count
 *     24      8  vector block length in bytes (= point count x dimensions x 4)
 *     32      8  metadata block length in bytes
 *     40      4  CRC-32 of the vector block, then the metadata block, then header bytes 0-39
 *     44     20  reserved (zero)
 *     64      …  vector block: the unit vectors as raw float32, row after row, in row order
 *      …      …  metadata block: UTF-8 JSON lines; the first is the collection's settings
 *                {"name","distance","dimensions","payloadIndexes"}, then one line per point
 *                in row order: ["<id>",{payload}]
 * ```
 *
 * A file is never modified in place: a write goes to a temporary file in the same directory
 * (`<file>.<pid>-<random>.tmp`), which is fsynced, renamed over the old file, and the directory
 * fsynced. A crash at any moment leaves either the old file or the new one, plus perhaps a
 * temporary file that the next writer deletes. Loading checks the magic, version, lengths
 * against the file size, and the checksum; a file that fails is reported, never half-loaded.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { TextDecoder } from 'node:util';
import { crc32 } from 'node:zlib';
import { AidocError, type Payload } from '@aidoc/core';
import { canonicalId, freezePayload } from './file-vector-store-input.ts';
import { VectorMatrix } from './file-vector-store-matrix.ts';

export const COLLECTION_FILE_EXTENSION = '.aidoc-vectors';

const MAGIC = 'AIDOCVEC';
const FORMAT_VERSION = 1;
const HEADER_BYTES = 64;
const CHECKSUMMED_HEADER_BYTES = 40;
/** Disk I/O is done in chunks of this size, so no single read or write holds the event loop. */
const CHUNK_BYTES = 8 * 2 ** 20;
/** Metadata is parsed as it is read, a chunk at a time; JSON parsing is slower than checksumming. */
const METADATA_CHUNK_BYTES = 2 ** 20;
/** Points encoded per metadata chunk. */
const POINTS_PER_CHUNK = 1024;
const TEMPORARY_FILE = /\.aidoc-vectors\.\d+-[0-9a-f]+\.tmp$/;

/** What a collection file holds. */
export interface CollectionFileContent {
  readonly name: string;
  readonly dimensions: number;
  readonly payloadIndexes: readonly string[];
  /** Row order: `ids[row]`, `payloads[row]` and `matrix.row(row)` describe one point. */
  readonly ids: readonly string[];
  readonly payloads: readonly Payload[];
  readonly matrix: VectorMatrix;
}

export function collectionFilePath(directory: string, name: string): string {
  return join(directory, `${name}${COLLECTION_FILE_EXTENSION}`);
}

/** True for a temporary file a write left behind (crashed before its rename). */
export function isTemporaryFileName(fileName: string): boolean {
  return TEMPORARY_FILE.test(fileName);
}

/**
 * Identifies one version of a file: a write replaces the file, so the inode, size, or change
 * time differ. Undefined when the file does not exist.
 */
export async function fileVersion(path: string): Promise<string | undefined> {
  try {
    return versionOf(await stat(path, { bigint: true }));
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw new AidocError('INTERNAL', `Could not read the vector store file ${path}`, { cause: error });
  }
}

/** Writes the collection durably and atomically (see the format above). The caller keeps `content` unchanged meanwhile. */
export async function writeCollectionFile(path: string, content: CollectionFileContent): Promise<void> {
  assertLittleEndian();
  const temporaryPath = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  let handle: FileHandle | undefined;
  try {
    handle = await open(temporaryPath, 'wx');
    const vectorBytes = content.matrix.bytes(0, content.ids.length);
    let position = HEADER_BYTES;
    let checksum = 0;
    for (let offset = 0; offset < vectorBytes.byteLength; offset += CHUNK_BYTES) {
      const chunk = vectorBytes.subarray(offset, offset + CHUNK_BYTES);
      checksum = crc32(chunk, checksum);
      position += await writeFully(handle, chunk, position);
    }
    let metadataBytes = 0;
    for (const chunk of metadataChunks(content)) {
      checksum = crc32(chunk, checksum);
      const written = await writeFully(handle, chunk, position);
      position += written;
      metadataBytes += written;
    }
    const header = Buffer.alloc(HEADER_BYTES);
    header.write(MAGIC, 0, 'latin1');
    header.writeUInt32LE(FORMAT_VERSION, 8);
    header.writeUInt32LE(HEADER_BYTES, 12);
    header.writeUInt32LE(content.dimensions, 16);
    header.writeUInt32LE(content.ids.length, 20);
    header.writeBigUInt64LE(BigInt(vectorBytes.byteLength), 24);
    header.writeBigUInt64LE(BigInt(metadataBytes), 32);
    header.writeUInt32LE(crc32(header.subarray(0, CHECKSUMMED_HEADER_BYTES), checksum), 40);
    await writeFully(handle, header, 0);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temporaryPath, path);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await unlink(temporaryPath).catch(() => undefined);
    throw new AidocError('INTERNAL', `Could not write the vector store file ${path}: ${describe(error)}`, { cause: error });
  }
  await syncDirectory(path);
}

/**
 * Loads a collection file, or returns undefined when it does not exist. A file that is not a
 * complete, intact collection file rejects with an INTERNAL AidocError naming the file and the
 * fault (`details.reason`); nothing of it is used.
 */
export async function readCollectionFile(path: string): Promise<{ content: CollectionFileContent; version: string } | undefined> {
  assertLittleEndian();
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw new AidocError('INTERNAL', `Could not open the vector store file ${path}: ${describe(error)}`, { cause: error });
  }
  try {
    // The version comes from the open file: a writer may replace the path meanwhile.
    const stats = await handle.stat({ bigint: true });
    const size = Number(stats.size);
    if (size < HEADER_BYTES) throw corrupt(path, `it is ${size} bytes long, shorter than its ${HEADER_BYTES}-byte header (a torn or foreign file)`);
    const header = Buffer.alloc(HEADER_BYTES);
    await readFully(handle, header, 0);
    const { dimensions, pointCount, vectorBytes, metadataBytes, checksum } = parseHeader(path, header);
    const expectedSize = HEADER_BYTES + vectorBytes + metadataBytes;
    if (size !== expectedSize) {
      throw corrupt(path, `its header announces ${expectedSize} bytes but the file has ${size} (truncated or torn)`);
    }
    const matrix = new VectorMatrix(dimensions, pointCount);
    const vectors = matrix.bytes();
    let computed = 0;
    for (let offset = 0; offset < vectorBytes; offset += CHUNK_BYTES) {
      const chunk = vectors.subarray(offset, offset + CHUNK_BYTES);
      await readFully(handle, chunk, HEADER_BYTES + offset);
      computed = crc32(chunk, computed);
    }
    const metadata = new MetadataParser(path, dimensions, pointCount);
    const decoder = new TextDecoder('utf-8', { fatal: true });
    let partial = '';
    const buffer = Buffer.alloc(Math.min(METADATA_CHUNK_BYTES, metadataBytes));
    for (let offset = 0; offset < metadataBytes; offset += METADATA_CHUNK_BYTES) {
      const chunk = buffer.subarray(0, Math.min(METADATA_CHUNK_BYTES, metadataBytes - offset));
      await readFully(handle, chunk, HEADER_BYTES + vectorBytes + offset);
      computed = crc32(chunk, computed);
      const lines = (partial + decodeOrThrow(path, decoder, chunk, offset + chunk.byteLength < metadataBytes)).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) metadata.parseLine(line);
    }
    computed = crc32(header.subarray(0, CHECKSUMMED_HEADER_BYTES), computed);
    if (computed !== checksum) throw corrupt(path, 'its checksum does not match its content');
    if (partial !== '') throw corrupt(path, 'its metadata does not end with a newline');
    return { content: metadata.finish(matrix), version: versionOf(stats) };
  } catch (error) {
    if (AidocError.isInstance(error)) throw error;
    throw new AidocError('INTERNAL', `Could not read the vector store file ${path}: ${describe(error)}`, { cause: error });
  } finally {
    await handle.close();
  }
}

/** The metadata block, encoded a chunk of points at a time (one huge JSON string could exceed V8's string limit). */
function* metadataChunks(content: CollectionFileContent): Generator<Buffer> {
  const settings = { name: content.name, distance: 'cosine', dimensions: content.dimensions, payloadIndexes: content.payloadIndexes };
  yield Buffer.from(`${JSON.stringify(settings)}\n`, 'utf8');
  for (let start = 0; start < content.ids.length; start += POINTS_PER_CHUNK) {
    let text = '';
    const end = Math.min(content.ids.length, start + POINTS_PER_CHUNK);
    for (let row = start; row < end; row++) text += `${JSON.stringify([content.ids[row], content.payloads[row]])}\n`;
    yield Buffer.from(text, 'utf8');
  }
}

function parseHeader(path: string, header: Buffer): { dimensions: number; pointCount: number; vectorBytes: number; metadataBytes: number; checksum: number } {
  if (header.toString('latin1', 0, 8) !== MAGIC) throw corrupt(path, 'it does not start with the AIDOCVEC magic (not a vector store file)');
  const version = header.readUInt32LE(8);
  if (version !== FORMAT_VERSION) {
    throw new AidocError(
      'INTERNAL',
      `The vector store file ${path} has format version ${version}; this version of @aidoc/local reads version ${FORMAT_VERSION}. Upgrade @aidoc/local, or ingest again.`,
      { details: { path, reason: 'version', version } },
    );
  }
  const dimensions = header.readUInt32LE(16);
  const pointCount = header.readUInt32LE(20);
  const vectorBytes = Number(header.readBigUInt64LE(24));
  const metadataBytes = Number(header.readBigUInt64LE(32));
  if (header.readUInt32LE(12) !== HEADER_BYTES || dimensions === 0 || vectorBytes !== pointCount * dimensions * 4) {
    throw corrupt(path, 'its header is inconsistent');
  }
  return { dimensions, pointCount, vectorBytes, metadataBytes, checksum: header.readUInt32LE(40) };
}

/** Parses the metadata block line by line as it is read: the settings line, then one line per point. */
class MetadataParser {
  readonly #path: string;
  readonly #dimensions: number;
  readonly #pointCount: number;
  #settings: { readonly name: string; readonly payloadIndexes: readonly string[] } | undefined;
  readonly #ids: string[] = [];
  readonly #payloads: Payload[] = [];
  readonly #seen = new Set<string>();

  constructor(path: string, dimensions: number, pointCount: number) {
    this.#path = path;
    this.#dimensions = dimensions;
    this.#pointCount = pointCount;
  }

  parseLine(line: string): void {
    try {
      if (this.#settings === undefined) {
        const { name, dimensions, payloadIndexes } = JSON.parse(line) as { name?: unknown; dimensions?: unknown; payloadIndexes?: unknown };
        if (typeof name !== 'string' || dimensions !== this.#dimensions || !Array.isArray(payloadIndexes)) throw new Error('bad settings line');
        this.#settings = { name, payloadIndexes: payloadIndexes.map(String) };
        return;
      }
      if (this.#ids.length === this.#pointCount) throw new Error(`more than ${this.#pointCount} point lines`);
      const entry: unknown = JSON.parse(line);
      if (!Array.isArray(entry) || entry.length !== 2) throw new Error(`bad line for point ${this.#ids.length}`);
      const id = canonicalId(entry[0]);
      if (this.#seen.has(id)) throw new Error(`duplicate id ${id}`);
      this.#seen.add(id);
      this.#ids.push(id);
      this.#payloads.push(freezePayload(entry[1], 'payload'));
    } catch (error) {
      throw corrupt(this.#path, `its metadata is malformed (${describe(error)})`, error);
    }
  }

  finish(matrix: VectorMatrix): CollectionFileContent {
    if (this.#settings === undefined || this.#ids.length !== this.#pointCount) {
      throw corrupt(this.#path, `it lists ${this.#ids.length} points' metadata for ${this.#pointCount} vectors`);
    }
    return { ...this.#settings, dimensions: this.#dimensions, ids: this.#ids, payloads: this.#payloads, matrix };
  }
}

function decodeOrThrow(path: string, decoder: TextDecoder, chunk: Uint8Array, more: boolean): string {
  try {
    return decoder.decode(chunk, { stream: more });
  } catch (error) {
    throw corrupt(path, 'its metadata is not valid UTF-8', error);
  }
}

async function writeFully(handle: FileHandle, bytes: Uint8Array, position: number): Promise<number> {
  for (let done = 0; done < bytes.byteLength; ) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done, position + done);
    done += bytesWritten;
  }
  return bytes.byteLength;
}

async function readFully(handle: FileHandle, into: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < into.byteLength; ) {
    const { bytesRead } = await handle.read(into, done, into.byteLength - done, position + done);
    if (bytesRead === 0) throw new Error(`unexpected end of file at byte ${position + done}`);
    done += bytesRead;
  }
}

/** Makes the rename durable. Windows cannot open a directory; its rename is durable on its own terms. */
async function syncDirectory(filePath: string): Promise<void> {
  if (process.platform === 'win32') return;
  const directory = join(filePath, '..');
  let handle: FileHandle | undefined;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch (error) {
    throw new AidocError('INTERNAL', `Could not sync the directory ${directory}: ${describe(error)}`, { cause: error });
  } finally {
    await handle?.close();
  }
}

function versionOf(stats: { dev: bigint; ino: bigint; size: bigint; mtimeNs: bigint; ctimeNs: bigint }): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`;
}

function assertLittleEndian(): void {
  if (endianness() !== 'LE') throw new AidocError('INTERNAL', 'The file vector store stores little-endian float32 and runs on little-endian hosts only');
}

function corrupt(path: string, reason: string, cause?: unknown): AidocError {
  return new AidocError(
    'DATA_CORRUPTED',
    `The vector store file ${path} is damaged: ${reason}. It was not loaded; restore it from a backup, or delete it and ingest again.`,
    { cause, details: { path, reason } },
  );
}

function isMissing(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT';
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
