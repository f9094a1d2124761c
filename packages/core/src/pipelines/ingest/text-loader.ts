import type { LoadOutcome } from './document-loader.ts';
import { fileTitle } from './ingest-sources.ts';
import { firstTopHeading } from './markdown-blocks.ts';
import { decodeTextFile } from './text-decoding.ts';

/**
 * A Markdown or plain-text document from a file's bytes (decoded strictly, see
 * `decodeTextFile`) or from inline text. The title is `fixedTitle` when the caller gave one,
 * else the first H1 (Markdown), else the file name (or inline id).
 */
export function textDocument(
  source: string,
  content: Uint8Array | string,
  format: 'markdown' | 'text',
  fallbackTitle = fileTitle(source),
  fixedTitle = false,
): LoadOutcome {
  let text: string;
  if (typeof content === 'string') {
    if (content.trim() === '') return { ok: false, reason: 'empty text' };
    text = content.includes('\r') ? content.replace(/\r\n?/g, '\n') : content;
  } else {
    const decoded = decodeTextFile(content);
    if (!decoded.ok) return decoded;
    text = decoded.text;
  }
  const title = fixedTitle || format !== 'markdown' ? fallbackTitle : (firstTopHeading(text) ?? fallbackTitle);
  return { ok: true, document: { source, title, format, text } };
}
