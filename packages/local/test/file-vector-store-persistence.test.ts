import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, open, readdir, readFile, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VectorPoint } from '@aidoc/core';
import { seededRandom } from '@aidoc/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { readCollectionFile } from '../src/file-vector-store-file-format.ts';
import { LOCK_FILE_NAME } from '../src/file-vector-store-lock.ts';
import { createFileVectorStore, type FileVectorStore } from '../src/file-vector-store.ts';
import { expectAidocError } from './support/expect-aidoc-error.ts';

const STORE_MODULE = new URL('../src/file-vector-store.ts', import.meta.url).href;
const directories: string[] = [];
const stores: FileVectorStore[] = [];
const children: ChildProcess[] = [];

async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'aidoc-file-vector-store-'));
  directories.push(directory);
  return directory;
}

function openStore(directory: string, readOnly = false): FileVectorStore {
  const store = createFileVectorStore({ directory, readOnly });
  stores.push(store);
  return store;
}

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(stores.splice(0).map((store) => store.close()));
  await Promise.all(directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
});

function uuid(index: number): string {
  return `00000000-0000-4000-8000-${index.toString(16).padStart(12, '0')}`;
}

function randomPoints(count: number, dimensions: number, seed: number, first = 0): VectorPoint[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, offset) => ({
    id: uuid(first + offset),
    vector: Array.from({ length: dimensions }, () => random() * 2 - 1),
    payload: { index: first + offset, text: `chunk ${first + offset} — ünïcödé`, tags: ['a', `b${offset % 3}`], score: offset / 7, flag: offset % 2 === 0, none: null },
  }));
}

/** A store with one collection of `count` points, closed: its file is final. */
async function writtenStore(count = 300, dimensions = 12): Promise<{ directory: string; file: string; points: VectorPoint[] }> {
  const directory = await temporaryDirectory();
  const points = randomPoints(count, dimensions, 7);
  const store = createFileVectorStore({ directory });
  await store.ensureCollection('docs', { dimensions, distance: 'cosine', payloadIndexes: ['tags'] });
  await store.upsert('docs', points);
  await store.close();
  return { directory, file: join(directory, 'docs.aidoc-vectors'), points };
}

/** Runs `code` in a child Node process that has `createFileVectorStore` and `directory` in scope. */
function spawnWithStore(directory: string, code: string): ChildProcess {
  const script = `import { createFileVectorStore } from ${JSON.stringify(STORE_MODULE)};\nconst directory = ${JSON.stringify(directory)};\n${code}`;
  const child = spawn(process.execPath, ['--conditions=@aidoc/source', '--input-type=module', '--eval', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return child;
}

/** Resolves with the first stdout line matching `pattern`, rejecting if the child exits first. */
function waitForLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    let errors = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const line = output.split('\n').find((candidate) => pattern.test(candidate));
      if (line !== undefined) {
        child.stdout!.off('data', onData);
        resolve(line);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before printing ${pattern}: ${errors}`)));
  });
}

describe('file vector store: persistence', () => {
  it('round-trips: a new writer and a reader load the same points, payloads and results', async () => {
    const { directory, points } = await writtenStore();
    for (const store of [openStore(directory), openStore(directory, true)]) {
      expect(await store.info('docs')).toEqual({ name: 'docs', exists: true, pointCount: points.length, dimensions: 12 });
      for (const point of points.slice(0, 40)) {
        const [hit] = await store.query('docs', { vector: point.vector, limit: 1 });
        expect(hit).toEqual({ id: point.id, score: expect.closeTo(1, 5) as number, payload: point.payload });
      }
      const page = await store.scroll('docs', { limit: 1000 });
      expect(page.points.map((point) => point.id)).toEqual(points.map((point) => point.id).sort());
    }
  });

  it('writes the documented format: header, raw little-endian unit vectors, JSON lines', async () => {
    const { file, points } = await writtenStore(5, 3);
    const bytes = await readFile(file);
    expect(bytes.toString('latin1', 0, 8)).toBe('AIDOCVEC');
    expect([bytes.readUInt32LE(8), bytes.readUInt32LE(12), bytes.readUInt32LE(16), bytes.readUInt32LE(20)]).toEqual([1, 64, 3, 5]);
    const vectorBytes = Number(bytes.readBigUInt64LE(24));
    expect(vectorBytes).toBe(5 * 3 * 4);
    expect(64 + vectorBytes + Number(bytes.readBigUInt64LE(32))).toBe(bytes.byteLength);
    const first = [0, 1, 2].map((index) => bytes.readFloatLE(64 + index * 4));
    const norm = Math.hypot(...(points[0]!.vector as number[]));
    first.forEach((component, index) => expect(component).toBeCloseTo((points[0]!.vector[index] as number) / norm, 6));
    const lines = bytes.toString('utf8', 64 + vectorBytes).split('\n');
    expect(JSON.parse(lines[0]!)).toEqual({ name: 'docs', distance: 'cosine', dimensions: 3, payloadIndexes: ['tags'] });
    expect(JSON.parse(lines[1]!)).toEqual([points[0]!.id, points[0]!.payload]);
    expect(lines).toHaveLength(7); // settings, 5 points, and the empty string after the last newline
  });

  it('reports a truncated file as damaged (DATA_CORRUPTED), at any length, and never loads part of it', async () => {
    const { directory, file } = await writtenStore();
    const size = (await stat(file)).size;
    for (const length of [0, 10, 64, 64 + 1000, size - 200, size - 1]) {
      await truncate(file, length);
      const error = await expectAidocError(openStore(directory, true).info('docs'), 'DATA_CORRUPTED', /damaged/);
      expect(error.details).toMatchObject({ path: file });
      await expectAidocError(openStore(directory).query('docs', { vector: new Array<number>(12).fill(1), limit: 1 }), 'DATA_CORRUPTED', /damaged/);
      await Promise.all(stores.splice(0).map((store) => store.close()));
    }
  });

  it('reports a flipped byte anywhere as a checksum mismatch', async () => {
    const { directory, file } = await writtenStore();
    const pristine = await readFile(file);
    for (const offset of [30, 64 + 17, pristine.byteLength - 20]) {
      const damaged = Buffer.from(pristine);
      damaged[offset] = damaged[offset]! ^ 0x10;
      await writeFile(file, damaged);
      const error = await expectAidocError(openStore(directory, true).info('docs'), 'DATA_CORRUPTED', /damaged/);
      expect(String(error.details?.reason)).toMatch(/checksum|header|metadata/);
    }
  });

  it('ignores a temporary file left by a crashed write; the next writer deletes it', async () => {
    const { directory, file, points } = await writtenStore();
    const leftover = `${file}.4242-deadbeef.tmp`;
    await writeFile(leftover, Buffer.from((await readFile(file)).subarray(0, 500)));
    expect((await openStore(directory, true).info('docs')).pointCount).toBe(points.length);
    const writer = openStore(directory);
    await writer.open();
    expect(await readdir(directory)).toEqual(['aidoc-vector-store.lock', 'docs.aidoc-vectors']);
    expect((await writer.info('docs')).pointCount).toBe(points.length);
  });

  it('loads a large collection through the chunked reader and writer (beyond one 8 MiB chunk)', async () => {
    const directory = await temporaryDirectory();
    const dimensions = 768;
    const store = openStore(directory);
    await store.ensureCollection('big', { dimensions, distance: 'cosine' });
    const points = randomPoints(3500, dimensions, 3);
    await store.upsert('big', points);
    const loaded = await readCollectionFile(join(directory, 'big.aidoc-vectors'));
    expect(loaded!.content.ids).toHaveLength(3500);
    const row = loaded!.content.matrix.row(3499);
    const last = points[3499]!.vector as number[];
    const norm = Math.hypot(...last);
    expect(row[767]).toBeCloseTo(last[767]! / norm, 6);
  });
});

describe('file vector store: one writer, many readers', () => {
  it('refuses a second writer in this process with LOCKED, until the first closes', async () => {
    const directory = await temporaryDirectory();
    const first = openStore(directory);
    await first.ensureCollection('docs', { dimensions: 2, distance: 'cosine' });
    const second = openStore(directory);
    await expectAidocError(second.info('docs'), 'LOCKED', /locked by another store instance in this process/);
    await first.close();
    expect((await second.info('docs')).exists).toBe(true);
  });

  it('refuses a writer while another process holds the lock, naming its pid', async () => {
    const directory = await temporaryDirectory();
    const child = spawnWithStore(directory, `const store = createFileVectorStore({ directory }); await store.open(); console.log('locked'); setInterval(() => {}, 1000);`);
    await waitForLine(child, /^locked$/);
    const error = await expectAidocError(openStore(directory).open(), 'LOCKED', new RegExp(`locked by process ${child.pid}; close the other writer`));
    expect(error.details).toMatchObject({ pid: child.pid, lockPath: join(directory, LOCK_FILE_NAME) });
    // Readers take no lock.
    expect((await openStore(directory, true).info('docs')).exists).toBe(false);
  });

  it('takes over a stale lock: a dead pid, or a lock left empty', async () => {
    const directory = await temporaryDirectory();
    const exited = spawn(process.execPath, ['--eval', '']);
    await once(exited, 'exit');
    await writeFile(join(directory, LOCK_FILE_NAME), `${exited.pid}\nabcdef\n`);
    const writer = openStore(directory);
    await writer.ensureCollection('docs', { dimensions: 2, distance: 'cosine' });
    expect(await readFile(join(directory, LOCK_FILE_NAME), 'utf8')).toMatch(new RegExp(`^${process.pid}\\n`));
    await writer.close();

    await writeFile(join(directory, LOCK_FILE_NAME), '');
    const old = new Date(Date.now() - 60_000);
    await utimes(join(directory, LOCK_FILE_NAME), old, old);
    const next = openStore(directory);
    expect((await next.info('docs')).exists).toBe(true);
    await next.close();
    expect(await readdir(directory)).toEqual(['docs.aidoc-vectors']);
  });

  it('readers reload when the writer replaces the file, and refuse mutations', async () => {
    const directory = await temporaryDirectory();
    const writer = openStore(directory);
    const reader = openStore(directory, true);
    expect((await reader.info('docs')).exists).toBe(false);
    await expectAidocError(reader.query('docs', { vector: [1, 0], limit: 1 }), 'NOT_FOUND');
    await writer.ensureCollection('docs', { dimensions: 2, distance: 'cosine' });
    expect(await reader.info('docs')).toEqual({ name: 'docs', exists: true, pointCount: 0, dimensions: 2 });
    for (let index = 1; index <= 5; index++) {
      await writer.upsert('docs', [{ id: uuid(index), vector: [1, index], payload: { index } }]);
      expect((await reader.info('docs')).pointCount).toBe(index);
      const [hit] = await reader.query('docs', { vector: [1, index], limit: 1 });
      expect(hit?.id).toBe(uuid(index));
    }
    await writer.delete('docs', { ids: [uuid(5)] });
    expect((await reader.scroll('docs', { limit: 10 })).points).toHaveLength(4);
    await reader.ensureCollection('docs', { dimensions: 2, distance: 'cosine' });
    await expectAidocError(reader.ensureCollection('other', { dimensions: 2, distance: 'cosine' }), 'INVALID_INPUT', /readOnly/);
    await expectAidocError(reader.upsert('docs', [{ id: uuid(9), vector: [1, 0], payload: {} }]), 'INVALID_INPUT', /readOnly/);
    await expectAidocError(reader.delete('docs', { ids: [uuid(1)] }), 'INVALID_INPUT', /readOnly/);
  });

  it('survives SIGKILL at random moments: the file always loads with a prefix of the upserts, all acknowledged ones included', async () => {
    const directory = await temporaryDirectory();
    const dimensions = 96;
    const batch = 150;
    // The child upserts batches of deterministic points (vector and payload derive from the
    // index), several in flight, printing each acknowledged count, until it is killed.
    const writerCode = `
      const dimensions = ${dimensions};
      const batch = ${batch};
      const vectorOf = (index) => Array.from({ length: dimensions }, (_, component) => Math.sin(index * 1.7 + component * 0.31));
      const uuid = (index) => '00000000-0000-4000-8000-' + index.toString(16).padStart(12, '0');
      const store = createFileVectorStore({ directory, scanThreads: 0 });
      await store.ensureCollection('crash', { dimensions, distance: 'cosine' });
      let next = (await store.info('crash')).pointCount;
      console.log('ready ' + next);
      const worker = async () => {
        for (;;) {
          const start = next;
          next += batch;
          const points = Array.from({ length: batch }, (_, offset) => ({ id: uuid(start + offset), vector: vectorOf(start + offset), payload: { index: start + offset, text: 'x'.repeat(40) } }));
          await store.upsert('crash', points);
          console.log('acknowledged ' + (start + batch));
        }
      };
      await Promise.all([worker(), worker(), worker()]);
    `;
    const random = seededRandom(2024);
    let acknowledged = 0;
    for (let round = 0; round < 5; round++) {
      const child = spawnWithStore(directory, writerCode);
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      await waitForLine(child, /^ready /);
      await new Promise((resolve) => setTimeout(resolve, 30 + random() * 250));
      child.kill('SIGKILL');
      await once(child, 'exit');
      for (const match of output.matchAll(/^acknowledged (\d+)$/gm)) acknowledged = Math.max(acknowledged, Number(match[1]));

      const loaded = await readCollectionFile(join(directory, 'crash.aidoc-vectors'));
      const { ids, payloads, matrix } = loaded!.content;
      expect(ids.length).toBeGreaterThanOrEqual(acknowledged);
      expect(ids.length % batch).toBe(0);
      // Rows are the points 0..n-1 in order, each vector that of its index: no torn or mixed state.
      ids.forEach((id, row) => {
        expect(id).toBe(uuid(row));
        expect(payloads[row]!.index).toBe(row);
      });
      for (const row of [0, ids.length - 1]) {
        if (row < 0) continue;
        const expected = Array.from({ length: dimensions }, (_, component) => Math.sin(row * 1.7 + component * 0.31));
        const norm = Math.hypot(...expected);
        const stored = matrix.row(row);
        expected.forEach((value, component) => expect(stored[component]).toBeCloseTo(value / norm, 5));
      }
      acknowledged = ids.length;
    }
    // The next writer takes the dead child's lock over, cleans up and works.
    const writer = openStore(directory);
    expect((await writer.info('crash')).pointCount).toBe(acknowledged);
    expect((await readdir(directory)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    const handle = await open(join(directory, LOCK_FILE_NAME), 'r');
    expect(await handle.readFile('utf8')).toMatch(new RegExp(`^${process.pid}\\n`));
    await handle.close();
  }, 60_000);
});

