import { AidocError } from '../../errors/aidoc-error.ts';
import { abortError } from '../../errors/to-aidoc-error.ts';
import { offload } from '../../executor/offload.ts';
import type { LoadOutcome } from './document-loader.ts';
import { fileTitle } from './ingest-sources.ts';
import type { PdfWorkerInput, PdfWorkerOutput } from './pdf-worker.ts';

/**
 * The worker module beside this one, with this module's own extension: `pdf-worker.ts` when
 * running from source, `pdf-worker.js` / `.cjs` from the build (where it is an entry of its own
 * next to the bundled index).
 */
export const PDF_WORKER = new URL(`./pdf-worker${extensionOf(import.meta.url)}`, import.meta.url);

/** PDF 1.7 §7.5.2 lets the `%PDF-` header start anywhere in the first 1024 bytes. */
const HEADER_WINDOW = 1024;
const PDF_HEADER = Buffer.from('%PDF-');

/**
 * A PDF's page texts, extracted on a worker thread (core's `offload`, piscina), so parsing
 * never blocks the event loop. Files without a `%PDF-` header are refused before any thread is
 * involved; a file pdf.js cannot read, an encrypted one, one without any text layer (a scan) and
 * a missing `unpdf` are document failures with a reason.
 */
export async function loadPdf(source: string, path: string, bytes: Uint8Array, signal: AbortSignal): Promise<LoadOutcome> {
  if (bytes.length === 0) return { ok: false, reason: 'empty file' };
  if (Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, HEADER_WINDOW)).indexOf(PDF_HEADER) === -1) {
    return { ok: false, reason: 'not a PDF (no %PDF- header)' };
  }
  const data = ownBuffer(bytes);
  let output: PdfWorkerOutput;
  try {
    output = await offload<PdfWorkerInput, PdfWorkerOutput>(PDF_WORKER, { data }, { signal, transferList: [data.buffer] });
  } catch (error) {
    if (signal.aborted) throw abortError(signal);
    // The worker itself failed (a pdf.js crash on this file): the document fails, the run goes on.
    return { ok: false, reason: AidocError.isInstance(error) ? error.message : String(error) };
  }
  if (!output.ok) return output;
  if (output.pages.every((page) => page.trim() === '')) {
    return { ok: false, reason: 'no extractable text (a scanned PDF needs OCR first)' };
  }
  return { ok: true, document: { source, title: output.title ?? fileTitle(path), format: 'pdf', pages: output.pages } };
}

/** A Uint8Array that owns its whole ArrayBuffer, so transferring it moves nothing else. */
function ownBuffer(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) {
    return bytes as Uint8Array<ArrayBuffer>;
  }
  return new Uint8Array(bytes);
}

function extensionOf(url: string): string {
  const { pathname } = new URL(url);
  const dot = pathname.lastIndexOf('.');
  return dot > pathname.lastIndexOf('/') ? pathname.slice(dot) : '.js';
}
