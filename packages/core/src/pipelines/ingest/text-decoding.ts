/** A file's bytes as text, or why they are not usable text. */
export type DecodedText = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly reason: string };

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a text file strictly. Empty or whitespace-only files, binary files (a NUL byte) and
 * invalid UTF-8 are refused with a reason rather than decoded with replacement characters: in
 * clinical text a silently mangled byte can be a unit (`µg` read as Latin-1) or a dose, and
 * embedding `�` hides the problem instead of surfacing it. A UTF-8 byte-order mark is dropped
 * and line endings are normalised to `\n`.
 */
export function decodeTextFile(bytes: Uint8Array): DecodedText {
  if (bytes.length === 0) return { ok: false, reason: 'empty file' };
  const nul = bytes.indexOf(0);
  if (nul !== -1) return { ok: false, reason: `binary file (NUL byte at offset ${nul}), not text` };
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return { ok: false, reason: `not valid UTF-8 (first bad byte at offset ${firstInvalidUtf8(bytes)}); convert the file to UTF-8` };
  }
  if (text.trim() === '') return { ok: false, reason: 'empty file (whitespace only)' };
  return { ok: true, text: text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text };
}

/** Offset of the first byte that breaks UTF-8 (for the error message; only called on failure). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let index = 0;
  while (index < bytes.length) {
    const lead = bytes[index]!;
    const length = lead < 0x80 ? 1 : lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    if (length === 0 || index + length > bytes.length) return index;
    for (let next = 1; next < length; next++) {
      if ((bytes[index + next]! & 0xc0) !== 0x80) return index;
    }
    // Overlong forms and surrogates (the decoder refuses them too).
    const second = bytes[index + 1] ?? 0;
    if ((lead === 0xe0 && second < 0xa0) || (lead === 0xed && second > 0x9f) || (lead === 0xf0 && second < 0x90) || (lead === 0xf4 && second > 0x8f)) {
      return index;
    }
    index += length;
  }
  return index;
}
