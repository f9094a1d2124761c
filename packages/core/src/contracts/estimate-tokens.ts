const encoder = new TextEncoder();
/** Scratch space for the UTF-8 bytes of one text; longer texts take the character loop. */
const scratch = new Uint8Array(3 * 65_536);

/**
 * A conservative token estimate for batch budgets: about 4 characters per token for English
 * prose, rounded up, plus one per whitespace-separated word beyond that pace (numbers, codes and
 * units tokenise densely). Errs high, so a batch sized by it never exceeds the real budget.
 */
export function estimateTokens(text: string): number {
  return Math.max(Math.ceil(text.length / 3), countWords(text)) + 1;
}

/**
 * Runs of characters above U+0020. Counted over UTF-8 bytes when the text fits the scratch
 * space: about twice as fast as `charCodeAt`, and the same count, because a character up to
 * U+0020 is one byte up to 0x20 and every other character encodes to bytes above it.
 */
function countWords(text: string): number {
  if (text.length * 3 > scratch.length) return countWordsByCharacter(text);
  const { written } = encoder.encodeInto(text, scratch);
  let words = 0;
  let inWord = false;
  for (let index = 0; index < written; index++) {
    const isSpace = scratch[index]! <= 32;
    if (!isSpace && !inWord) words++;
    inWord = !isSpace;
  }
  return words;
}

function countWordsByCharacter(text: string): number {
  let words = 0;
  let inWord = false;
  for (let index = 0; index < text.length; index++) {
    const isSpace = text.charCodeAt(index) <= 32;
    if (!isSpace && !inWord) words++;
    inWord = !isSpace;
  }
  return words;
}
