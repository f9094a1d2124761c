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
  // Branch-free (a word starts where a space is followed by a non-space): about a third faster
  // on prose, whose word lengths the branch predictor cannot learn.
  let words = 0;
  let previousIsSpace = 1;
  for (let index = 0; index < written; index++) {
    const isSpace = isSpaceBit(scratch[index]!);
    words += previousIsSpace & (isSpace ^ 1);
    previousIsSpace = isSpace;
  }
  return words;
}

function countWordsByCharacter(text: string): number {
  let words = 0;
  let previousIsSpace = 1;
  for (let index = 0; index < text.length; index++) {
    const isSpace = isSpaceBit(text.charCodeAt(index));
    words += previousIsSpace & (isSpace ^ 1);
    previousIsSpace = isSpace;
  }
  return words;
}

/** 1 for a code up to 32 (space and control characters), else 0, without a branch. */
function isSpaceBit(code: number): number {
  return ((32 - code) >>> 31) ^ 1;
}
