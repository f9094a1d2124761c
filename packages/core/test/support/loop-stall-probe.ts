/**
 * Watches the event loop with a short interval timer; `stop()` returns the longest lateness seen
 * (how long the loop was held beyond the interval), in milliseconds.
 */
export function startStallProbe(intervalMs = 5): { stop(): number } {
  let worst = 0;
  let last = performance.now();
  const probe = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - intervalMs);
    last = now;
  }, intervalMs);
  return {
    stop() {
      clearInterval(probe);
      return worst;
    },
  };
}
