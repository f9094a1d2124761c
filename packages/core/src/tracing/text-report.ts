
/**
 * Small helpers shared by the plain-text trace reports.
 *
 * @internal
 */

/** Shortens in the middle: both the namespace and the last word of a span name matter. */
export function shortenMiddle(text: string, width: number): string {
  if (text.length <= width) return text;
  if (width <= 1) return '…'.slice(0, width);
  const head = Math.ceil((width - 1) / 2);
  const tail = width - 1 - head;
  return text.slice(0, head) + '…' + (tail > 0 ? text.slice(text.length - tail) : '');
}

export function formatMs(ms: number): string {
  return ms.toFixed(1);
}
