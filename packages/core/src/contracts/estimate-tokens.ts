/**
 * A conservative token estimate for batch budgets: about 4 characters per token for English
 * prose, rounded up, plus one per whitespace-separated word beyond that pace (numbers, codes and
 * units tokenise densely). Errs high, so a batch sized by it never exceeds the real budget.
 */
export function estimateTokens(text: string): number {
  let words = 0;
  let inWord = false;
  for (let index = 0; index < text.length; index++) {
    const isSpace = text.charCodeAt(index) <= 32;
    if (!isSpace && !inWord) words++;
    inWord = !isSpace;
  }
  return Math.max(Math.ceil(text.length / 3), words) + 1;
}
