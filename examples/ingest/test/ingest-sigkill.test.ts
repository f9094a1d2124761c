// Crash safety of the real CLI: SIGKILL it mid-ingest several times, then run it to completion.
// The store must end with exactly the points of one clean run (no duplicates, nothing torn), and
// each killed writer's stale lock must be taken over by the next run.
import { createFileVectorStore } from '@aidoc/local';
import { seededRandom } from '@aidoc/core/testing';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIN, runCli, summaryValue } from './cli-process.ts';

const COLLECTION = 'guidelines';
const DOCUMENTS = 150;
const SECTIONS = 20;
const KILLS = 5;

let workspace: string;

beforeAll(async () => {
  workspace = await mkdtemp(path.join(tmpdir(), 'aidoc-ingest-sigkill-'));
  const folder = path.join(workspace, 'docs');
  await mkdir(folder);
  await Promise.all(
    Array.from({ length: DOCUMENTS }, (_, document) => {
      const sections = Array.from({ length: SECTIONS }, (_, section) => {
        const words = Array.from({ length: 80 }, (_, word) => `term${(document * 37 + section * 11 + word) % 1009}`).join(' ');
        return `## Section ${section}\n\n${words}.\n`;
      });
      return writeFile(path.join(folder, `document-${String(document).padStart(3, '0')}.md`), `# Document ${document}\n\n${sections.join('\n')}`);
    }),
  );
});

afterAll(async () => {
  await rm(workspace, { recursive: true, force: true });
});

const lockFile = (dataDirectory: string): string => path.join(dataDirectory, 'vectors', 'aidoc-vector-store.lock');

/** The CLI environment: the parent's, minus AIDOC_* and INIT_CWD (as `runCli` does), plus the data directory. */
function childEnvironment(dataDirectory: string): Record<string, string> {
  const inherited = Object.entries(process.env).filter(
    (entry): entry is [string, string] => entry[1] !== undefined && !entry[0].startsWith('AIDOC_') && entry[0] !== 'INIT_CWD',
  );
  return { ...Object.fromEntries(inherited), AIDOC_DATA_DIR: dataDirectory };
}

interface KilledRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when the kill landed while the child held the writer lock (mid-ingest). */
  readonly killedHoldingLock: boolean;
  readonly lockLeftBehind: boolean;
  /** Points the store held after the kill (read-only, so a torn file would fail here). */
  readonly pointsAfter: number;
}

/** When a kill's delay starts: at spawn, once the child holds the writer lock, or once it wrote new points. */
type KillAnchor = 'spawn' | 'lock' | 'write';

const collectionFile = (dataDirectory: string): string => path.join(dataDirectory, 'vectors', `${COLLECTION}.aidoc-vectors`);
const fileSize = (file: string): Promise<number> => stat(file).then((info) => info.size, () => 0);

/** Starts the CLI and SIGKILLs it `delayMs` after `anchor`. */
async function runAndKill(dataDirectory: string, delayMs: number, anchor: KillAnchor): Promise<Omit<KilledRun, 'pointsAfter'>> {
  const sizeBefore = await fileSize(collectionFile(dataDirectory));
  const child = spawn(process.execPath, ['--conditions=@aidoc/source', MAIN, 'docs', '--batch-size', '8'], {
    cwd: workspace,
    env: childEnvironment(dataDirectory),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  child.stderr.resume();
  let exited = false;
  void closed.then(() => (exited = true));
  const spawnedAt = performance.now();
  // The lock of a previous killed run is stale until this child takes it over: wait for ours.
  while (anchor === 'lock' && !exited && performance.now() - spawnedAt < 30_000) {
    const owner = await readFile(lockFile(dataDirectory), 'utf8').catch(() => '');
    if (owner.startsWith(`${child.pid}\n`)) break;
    await sleep(5);
  }
  // The collection file grows (it is replaced by a larger one) once this child stored new points.
  while (anchor === 'write' && !exited && performance.now() - spawnedAt < 30_000) {
    if ((await fileSize(collectionFile(dataDirectory))) > sizeBefore) break;
    await sleep(2);
  }
  await sleep(delayMs);
  let killedHoldingLock = false;
  if (!exited) {
    const owner = await readFile(lockFile(dataDirectory), 'utf8').catch(() => '');
    killedHoldingLock = owner.startsWith(`${child.pid}\n`);
    child.kill('SIGKILL');
  }
  const { code, signal } = await closed;
  return { code, signal, killedHoldingLock, lockLeftBehind: existsSync(lockFile(dataDirectory)) };
}

/** Every point of the collection, read back through a read-only store (fails on a torn file). */
async function readAllPointIds(dataDirectory: string): Promise<string[]> {
  const store = createFileVectorStore({ directory: path.join(dataDirectory, 'vectors'), readOnly: true });
  try {
    const ids: string[] = [];
    let offset: string | undefined;
    do {
      const page = await store.scroll(COLLECTION, { limit: 500, ...(offset === undefined ? {} : { offset }) });
      ids.push(...page.points.map((point) => point.id));
      offset = page.nextOffset;
    } while (offset !== undefined);
    return ids;
  } finally {
    await store.close();
  }
}

describe('ingest CLI under SIGKILL', () => {
  it('converges on exactly the points of one clean run after 5 kills at random points', async () => {
    const referenceDirectory = path.join(workspace, 'reference-data');
    const reference = await runCli(['docs', '--batch-size', '8'], { dataDirectory: referenceDirectory, cwd: workspace });
    expect(reference.code, reference.stderr).toBe(0);
    const chunks = summaryValue(reference.stdout, 'Chunks');
    expect(chunks).toBe(DOCUMENTS * SECTIONS);
    const referenceIds = await readAllPointIds(referenceDirectory);
    expect(referenceIds).toHaveLength(chunks);

    const dataDirectory = path.join(workspace, 'killed-data');
    const random = seededRandom(20_240_611);
    const kills: KilledRun[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      // Kills 1 and 3 land 0-700 ms after the child took the writer lock (mid-ingest); kills 2
      // and 4 a random 200-1500 ms after spawn (start-up, loading, or the first writes); kill 5
      // 0-100 ms after the child stored new points, so at least one kill interrupts the writes.
      const anchor: KillAnchor = kill === KILLS - 1 ? 'write' : kill % 2 === 0 ? 'lock' : 'spawn';
      const delayMs = anchor === 'spawn' ? 200 + Math.floor(random() * 1300) : Math.floor(random() * (anchor === 'lock' ? 700 : 100));
      const run = await runAndKill(dataDirectory, delayMs, anchor);
      // Whatever the kill left (a stale lock, a partial collection), the store opens and reads
      // without duplicates; a kill before the first write leaves no collection (NOT_FOUND).
      const ids = await readAllPointIds(dataDirectory).catch((error: unknown) => {
        expect(error).toMatchObject({ code: 'NOT_FOUND' });
        return [];
      });
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBeLessThanOrEqual(chunks);
      kills.push({ ...run, pointsAfter: ids.length });
    }
    const killed = kills.filter((run) => run.signal === 'SIGKILL');
    // The kills must have hit something: at least 3 runs died mid-ingest, holding the lock and
    // leaving it behind (a run that finished first exits 0 and proves less).
    expect(killed.filter((run) => run.killedHoldingLock && run.lockLeftBehind).length, JSON.stringify(kills)).toBeGreaterThanOrEqual(3);
    for (const run of kills) if (run.signal !== 'SIGKILL') expect(run.code).toBe(0);

    // At least one kill landed after some writes and before the last: the final run resumed a partial store.
    expect(kills.some((run) => run.pointsAfter > 0 && run.pointsAfter < chunks), JSON.stringify(kills)).toBe(true);

    const final = await runCli(['docs', '--batch-size', '8'], { dataDirectory, cwd: workspace });
    expect(final.code, final.stderr).toBe(0);
    expect(summaryValue(final.stdout, 'Chunks')).toBe(chunks);
    expect(summaryValue(final.stdout, 'Failed')).toBe(0);
    expect(summaryValue(final.stdout, 'Embedded') + summaryValue(final.stdout, 'Skipped unchanged')).toBe(chunks);
    expect(existsSync(lockFile(dataDirectory))).toBe(false);

    const ids = await readAllPointIds(dataDirectory);
    expect(ids).toHaveLength(chunks);
    expect(new Set(ids).size).toBe(chunks);
    expect([...ids].sort()).toEqual([...referenceIds].sort());
  }, 120_000);
});
