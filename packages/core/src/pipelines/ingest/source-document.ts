/** The formats the ingest pipeline reads. */
export type DocumentFormat = 'markdown' | 'text' | 'pdf';

/** A document once loaded and parsed, before chunking. */
export type SourceDocument =
  | {
      /** File path relative to the source root, or the inline document's id. */
      readonly source: string;
      /** First H1 (Markdown), the given title (inline), else the file name without extension. */
      readonly title: string;
      readonly format: 'markdown' | 'text';
      readonly text: string;
    }
  | {
      readonly source: string;
      /** The PDF's Title metadata, else the file name without extension. */
      readonly title: string;
      readonly format: 'pdf';
      /** Text of each page, in order (page 1 first); a page without text is an empty string. */
      readonly pages: readonly string[];
    };
