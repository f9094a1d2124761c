import { readFile, stat } from 'node:fs/promises';
import { abortError } from '../../errors/to-aidoc-error.ts';
import { describeFileError, type ResolvedSource } from './ingest-sources.ts';
import { loadPdf } from './pdf-loader.ts';
import type { SourceDocument } from './source-document.ts';
import { textDocument } from './text-loader.ts';

/** A loaded document, or why this one could not be used (the run goes on without it). */
export type LoadOutcome = { readonly ok: true; readonly document: SourceDocument } | { readonly ok: false; readonly reason: string };

export interface LoadOptions {
  readonly signal: AbortSignal;
  /** Files larger than this are refused unread. */
  readonly maxFileBytes: number;
}

/**
 * Loads and parses one document: reads the file (or takes the inline text), decodes it strictly
 * and, for PDFs, extracts the text on a worker thread. Problems with the document itself come
 * back as `{ ok: false, reason }`; only an abort rejects (ABORTED).
 */
export async function loadDocument(entry: ResolvedSource, options: LoadOptions): Promise<LoadOutcome> {
  if (entry.kind === 'inline') {
    const { document } = entry;
    return textDocument(entry.source, document.text, entry.format, document.title ?? entry.source, document.title !== undefined);
  }
  const bytes = await readBytes(entry.path, options);
  if (!(bytes instanceof Uint8Array)) return bytes;
  if (entry.format === 'pdf') return loadPdf(entry.source, entry.path, bytes, options.signal);
  return textDocument(entry.source, bytes, entry.format);
}

async function readBytes(path: string, { signal, maxFileBytes }: LoadOptions): Promise<Uint8Array | LoadOutcome> {
  try {
    const { size } = await stat(path);
    if (size > maxFileBytes) return { ok: false, reason: `file too large (${size} bytes; the limit is ${maxFileBytes})` };
    return await readFile(path, { signal });
  } catch (error) {
    if (signal.aborted) throw abortError(signal);
    return { ok: false, reason: describeFileError(error) };
  }
}
