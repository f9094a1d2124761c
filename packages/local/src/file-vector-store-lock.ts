/**
 * One writer per store directory: the writer holds `<directory>/aidoc-vector-store.lock`, created
 * with `open(path, 'wx')` (fails when it exists), holding the owner's pid and a random token.
 * A lock whose process is gone (a crashed writer) is stale and taken over: it is first renamed
 * aside, which only one contender can do, so two processes never both take it.
 */
import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { AidocError, sleep } from '@aidoc/core';

export const LOCK_FILE_NAME = 'aidoc-vector-store.lock';

/** How long a lock file may stay empty (its owner between creating it and writing its pid) before it counts as stale. */
const CREATING_GRACE_MS = 2_000;
const MAX_ATTEMPTS = 200;

export interface StoreLock {
  readonly path: string;
  /** Deletes the lock file if this holder still owns it. Idempotent. */
  release(): Promise<void>;
}

type Owner =
  | { readonly kind: 'gone' }
  | { readonly kind: 'process'; readonly pid: number; readonly content: string }
  | { readonly kind: 'unreadable'; readonly content: string; readonly ageMs: number };

/**
 * Takes the directory's writer lock. Rejects with LOCKED when a running process (this
 * one included, through another store instance) holds it.
 */
export async function acquireStoreLock(directory: string): Promise<StoreLock> {
  const path = join(directory, LOCK_FILE_NAME);
  const content = `${process.pid}\n${randomBytes(8).toString('hex')}\n`;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (await tryCreate(path, content)) return heldLock(path, content);
    const owner = await readOwner(path);
    if (owner.kind === 'gone') continue;
    if (owner.kind === 'process' && isRunning(owner.pid)) throw lockedError(directory, path, owner.pid);
    if (owner.kind === 'unreadable' && owner.ageMs < CREATING_GRACE_MS) {
      await sleep(20);
      continue;
    }
    await takeOver(path, owner.content);
  }
  throw new AidocError('INTERNAL', `Could not take the writer lock ${path}: it kept changing hands`);
}

function heldLock(path: string, content: string): StoreLock {
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      const current = await readFile(path, 'utf8').catch(() => undefined);
      if (current === content) await unlink(path).catch(() => undefined);
    },
  };
}

async function tryCreate(path: string, content: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'wx');
  } catch (error) {
    if (hasCode(error, 'EEXIST')) return false;
    throw new AidocError('INTERNAL', `Could not create the writer lock ${path}`, { cause: error });
  }
  try {
    await handle.writeFile(content, 'utf8');
    await handle.close();
    return true;
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw new AidocError('INTERNAL', `Could not write the writer lock ${path}`, { cause: error });
  }
}

async function readOwner(path: string): Promise<Owner> {
  try {
    const content = await readFile(path, 'utf8');
    const pid = /^(\d+)\n/.exec(content)?.[1];
    if (pid !== undefined) return { kind: 'process', pid: Number(pid), content };
    const { mtimeMs } = await stat(path);
    return { kind: 'unreadable', content, ageMs: Date.now() - mtimeMs };
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return { kind: 'gone' };
    throw new AidocError('INTERNAL', `Could not read the writer lock ${path}`, { cause: error });
  }
}

/**
 * Removes a stale lock whose content was `staleContent`. Renaming is atomic, so of several
 * contenders one moves the file and the others find it gone; if what was moved turns out to be a
 * fresh lock (its owner replaced the stale one in between), it is put back.
 */
async function takeOver(path: string, staleContent: string): Promise<void> {
  const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return;
    throw new AidocError('INTERNAL', `Could not take over the stale writer lock ${path}`, { cause: error });
  }
  const moved = await readFile(aside, 'utf8').catch(() => undefined);
  if (moved !== staleContent) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

/** Signal 0 checks that a process exists without touching it; EPERM means it exists under another user. */
function isRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return !hasCode(error, 'ESRCH');
  }
}

function lockedError(directory: string, path: string, pid: number): AidocError {
  const holder = pid === process.pid ? 'another store instance in this process' : `process ${pid}`;
  const remedy =
    pid === process.pid
      ? 'close() that instance first'
      : `close the other writer (if no such writer runs, the pid was reused: delete ${path})`;
  return new AidocError(
    'LOCKED',
    `The vector store in ${directory} is locked by ${holder}; ${remedy}, or open this store with \`readOnly: true\``,
    { details: { lockPath: path, pid } },
  );
}

function hasCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}
