import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join, relative, resolve, sep } from 'node:path';
import { AidocError } from '../../errors/aidoc-error.ts';
import { invalidOption } from '../../errors/validate-option.ts';
import { throwIfAborted } from '../../executor/abort.ts';
import type { DocumentFormat } from './source-document.ts';

/** A document passed as text rather than as a file. */
export interface InlineDocument {
  /** Identifies the document across runs (its points' `source`); unique within one call. */
  readonly id: string;
  readonly text: string;
  /** @default the first H1 (Markdown), else `id` */
  readonly title?: string;
  /** @default 'markdown' */
  readonly format?: 'markdown' | 'text';
}

/** A file path, a folder path (walked recursively), or an inline document. */
export type IngestSource = string | InlineDocument;

/** One document to load: a file found on disk, or an inline document. */
export type ResolvedSource =
  | { readonly kind: 'file'; readonly source: string; readonly path: string; readonly format: DocumentFormat }
  | { readonly kind: 'inline'; readonly source: string; readonly document: InlineDocument; readonly format: 'markdown' | 'text' };

/** A path that named nothing ingestible. */
export interface SourceFailure {
  readonly source: string;
  readonly reason: string;
}

/** File extensions the loaders read (lower case), and their format. */
export const SUPPORTED_EXTENSIONS: Readonly<Record<string, DocumentFormat>> = {
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.txt': 'text',
  '.pdf': 'pdf',
};

/** Folders never walked into: version control, dependencies, anything hidden. */
const SKIPPED_FOLDERS = new Set(['node_modules']);

/**
 * Checks the shape of `sources` before any I/O: a `TypeError` for a malformed entry, and
 * INVALID_INPUT for two inline documents with one id (they would overwrite each other's points).
 */
export function validateSources(sources: unknown): asserts sources is readonly IngestSource[] {
  if (!Array.isArray(sources)) throw invalidOption('sources', 'an array of paths or { id, text } documents', sources);
  const ids = new Set<string>();
  sources.forEach((entry: unknown, index) => {
    if (typeof entry === 'string') {
      if (entry === '') throw invalidOption(`sources[${index}]`, 'a non-empty path', entry);
      return;
    }
    if (typeof entry !== 'object' || entry === null) throw invalidOption(`sources[${index}]`, 'a path or an { id, text } document', entry);
    const { id, text, title, format } = entry as Partial<InlineDocument>;
    if (typeof id !== 'string' || id === '') throw invalidOption(`sources[${index}].id`, 'a non-empty string', id);
    if (typeof text !== 'string') throw invalidOption(`sources[${index}].text`, 'a string', text);
    if (title !== undefined && typeof title !== 'string') throw invalidOption(`sources[${index}].title`, 'a string', title);
    if (format !== undefined && format !== 'markdown' && format !== 'text') {
      throw invalidOption(`sources[${index}].format`, "'markdown' or 'text'", format);
    }
    if (ids.has(id)) {
      throw new AidocError('INVALID_INPUT', `Two inline documents share the id "${id}"; ids name a document's points and must be unique`, {
        details: { id },
      });
    }
    ids.add(id);
  });
}

/**
 * Expands paths into the documents to load: a file is taken when its extension is supported; a
 * folder is walked recursively (a folder's files before its subfolders, each in name order;
 * hidden entries and `node_modules` skipped) for
 * `.md`, `.markdown`, `.txt` and `.pdf` files. A file's `source` is its path relative to
 * `sourceRoot`, with `/` separators, so the same file keeps the same points whichever way it was
 * named. A file reached twice is loaded once; an inline id equal to a file's source is
 * INVALID_INPUT. Paths that name nothing readable come back as failures, not errors.
 */
export async function resolveSources(
  sources: readonly IngestSource[],
  options: { readonly sourceRoot: string; readonly signal: AbortSignal },
): Promise<{ entries: ResolvedSource[]; failures: SourceFailure[] }> {
  const { sourceRoot, signal } = options;
  const entries = new Map<string, ResolvedSource>();
  const failures: SourceFailure[] = [];
  const addFile = (path: string, format: DocumentFormat): void => {
    const source = sourceName(sourceRoot, path);
    const existing = entries.get(source);
    if (existing?.kind === 'inline') throw duplicateSource(source);
    if (existing === undefined) entries.set(source, { kind: 'file', source, path, format });
  };

  for (const entry of sources) {
    throwIfAborted(signal);
    if (typeof entry !== 'string') {
      if (entries.has(entry.id)) throw duplicateSource(entry.id);
      entries.set(entry.id, { kind: 'inline', source: entry.id, document: entry, format: entry.format ?? 'markdown' });
      continue;
    }
    const path = resolve(sourceRoot, entry);
    let isFolder: boolean;
    try {
      isFolder = (await stat(path)).isDirectory();
    } catch (error) {
      failures.push({ source: sourceName(sourceRoot, path), reason: describeFileError(error) });
      continue;
    }
    if (!isFolder) {
      const format = SUPPORTED_EXTENSIONS[extname(path).toLowerCase()];
      if (format === undefined) failures.push({ source: sourceName(sourceRoot, path), reason: unsupported(path) });
      else addFile(path, format);
      continue;
    }
    for (const file of await walk(path, signal)) {
      const format = SUPPORTED_EXTENSIONS[extname(file).toLowerCase()];
      if (format !== undefined) addFile(file, format);
    }
  }
  return { entries: [...entries.values()], failures };
}

/** Every file under `folder`: a folder's files first, then its subfolders', each in name order. */
async function walk(folder: string, signal: AbortSignal): Promise<string[]> {
  const files: string[] = [];
  const pending = [folder];
  while (pending.length > 0) {
    throwIfAborted(signal);
    const current = pending.pop()!;
    let children: Dirent[];
    try {
      children = await readdir(current, { withFileTypes: true });
    } catch {
      continue; // An unreadable subfolder holds nothing we can ingest; its siblings still count.
    }
    children.sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0));
    const folders: string[] = [];
    for (const child of children) {
      if (child.name.startsWith('.')) continue;
      const path = join(current, child.name);
      if (child.isDirectory()) {
        if (!SKIPPED_FOLDERS.has(child.name)) folders.push(path);
      } else if (child.isFile()) {
        files.push(path);
      }
    }
    // Reversed onto the stack, so folders are visited in name order.
    for (let index = folders.length - 1; index >= 0; index--) pending.push(folders[index]!);
  }
  return files;
}

/** A file's `source`: relative to the root, `/`-separated. */
export function sourceName(sourceRoot: string, path: string): string {
  const name = relative(sourceRoot, path);
  return (name === '' ? basename(path) : name).split(sep).join('/');
}

/** The file name without its extension: the title of a document without a better one. */
export function fileTitle(path: string): string {
  return basename(path, extname(path));
}

export function describeFileError(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  if (code === 'ENOENT') return 'no such file or folder';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a folder, not a file';
  return `cannot read: ${error instanceof Error ? error.message : String(error)}`;
}

function unsupported(path: string): string {
  const extension = extname(path) === '' ? 'no extension' : `"${extname(path)}"`;
  return `unsupported file type (${extension}); supported: ${Object.keys(SUPPORTED_EXTENSIONS).join(', ')}`;
}

function duplicateSource(source: string): AidocError {
  return new AidocError('INVALID_INPUT', `The inline document id "${source}" is also the source of a file in this run`, {
    details: { source },
  });
}
