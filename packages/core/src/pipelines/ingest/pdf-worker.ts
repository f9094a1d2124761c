// Worker-thread module (run through core's `offload`): extracts the text of a PDF's pages with
// unpdf, so parsing never holds the event loop. Self-contained on purpose: it imports nothing
// relative, so it runs the same from source (Node's type stripping) and from the build (a tsup
// entry of its own, `dist/pdf-worker.{js,cjs}`, beside `dist/index.*`).

/** What the loader sends: the file's bytes (transferred, not copied). */
export interface PdfWorkerInput {
  readonly data: Uint8Array;
  /**
   * The module to load instead of `unpdf`, for tests of the missing-dependency path.
   * @internal
   */
  readonly moduleSpecifier?: string;
}

/** Either the text of every page, or why the file could not be read (never thrown: a bad PDF is a document failure). */
export type PdfWorkerOutput =
  | { readonly ok: true; readonly pages: string[]; readonly title: string | undefined }
  | { readonly ok: false; readonly reason: string };

/** The part of unpdf this worker uses (unpdf is an optional peer dependency, loaded on demand). */
interface UnpdfModule {
  getDocumentProxy(data: Uint8Array, options?: { verbosity?: number }): Promise<PdfDocument>;
  extractText(pdf: PdfDocument, options: { mergePages: false }): Promise<{ totalPages: number; text: string[] }>;
}

interface PdfDocument {
  getMetadata(): Promise<{ info: unknown }>;
  readonly loadingTask: { destroy(): Promise<void> };
}

export const MISSING_UNPDF_REASON = 'PDF support needs the optional peer dependency `unpdf`: npm install unpdf';

/** Extracts each page's text (unpdf's `extractText`, pages kept apart) and the Title metadata. */
export default async function extractPdfText(input: PdfWorkerInput): Promise<PdfWorkerOutput> {
  const specifier = input.moduleSpecifier ?? 'unpdf';
  let unpdf: UnpdfModule;
  try {
    unpdf = (await import(specifier)) as UnpdfModule;
  } catch (error) {
    if (isModuleNotFound(error, specifier)) return { ok: false, reason: MISSING_UNPDF_REASON };
    throw error;
  }
  let pdf: PdfDocument;
  try {
    pdf = await unpdf.getDocumentProxy(input.data, { verbosity: 0 });
  } catch (error) {
    return { ok: false, reason: describe(error) };
  }
  try {
    const { text } = await unpdf.extractText(pdf, { mergePages: false });
    return { ok: true, pages: text, title: await readTitle(pdf) };
  } catch (error) {
    return { ok: false, reason: describe(error) };
  } finally {
    await pdf.loadingTask.destroy();
  }
}

async function readTitle(pdf: PdfDocument): Promise<string | undefined> {
  try {
    const { info } = await pdf.getMetadata();
    const title = typeof info === 'object' && info !== null && 'Title' in info ? info.Title : undefined;
    return typeof title === 'string' && title.trim() !== '' ? title.trim() : undefined;
  } catch {
    return undefined;
  }
}

function describe(error: unknown): string {
  const name = typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : '';
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'PasswordException') return 'encrypted PDF (a password is required to read it)';
  return `not a readable PDF: ${message}`;
}

/** Only unpdf itself missing (a missing dependency of an installed unpdf is a real error). */
function isModuleNotFound(error: unknown, specifier: string): boolean {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  const message = error instanceof Error ? error.message : '';
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(`'${specifier}'`);
}
