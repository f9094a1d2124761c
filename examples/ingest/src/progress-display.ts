import type { IngestProgress } from '@aidoc/core';
import { renderProgressBar, renderProgressLine } from './progress-bar.ts';

/** Where progress goes: stderr, as a live bar when it is a terminal, else as plain lines. */
export interface ProgressOutput {
  write(text: string): void;
  readonly isTTY: boolean;
  /** Terminal width (TTY only). */
  readonly columns: number | undefined;
}

export interface ProgressDisplayOptions {
  readonly output: ProgressOutput;
  /** @default performance.now */
  readonly now?: () => number;
}

/** Shows ingest progress; `update` on every event, `finish` once the run has settled. */
export interface ProgressDisplay {
  update(progress: IngestProgress): void;
  /** Prints a message on its own line without garbling the bar (which is redrawn on the next update). */
  message(text: string): void;
  /** Leaves the bar (if any) on screen with the cursor on a new line. Idempotent. */
  finish(): void;
}

/** A live bar is redrawn at most this often (~10 times a second). */
export const TTY_REDRAW_INTERVAL_MS = 100;
/** Plain lines (CI, pipes) are written at most this often, the first one this long after the start. */
export const LINE_INTERVAL_MS = 1000;

const DEFAULT_COLUMNS = 100;
/** Carriage return, then erase the whole line. */
const CLEAR_LINE = '\r\u001B[2K';

export function createProgressDisplay(options: ProgressDisplayOptions): ProgressDisplay {
  const { output } = options;
  const now = options.now ?? (() => performance.now());
  const interval = output.isTTY ? TTY_REDRAW_INTERVAL_MS : LINE_INTERVAL_MS;
  // Plain lines start a period in, so a short run logs no "0 of n" line (its summary says it all).
  let lastWrite = output.isTTY ? -Infinity : now();
  let latest: IngestProgress | undefined;
  let barShown = false;
  let finished = false;

  const drawBar = (progress: IngestProgress): void => {
    output.write(CLEAR_LINE + renderProgressBar(progress, output.columns ?? DEFAULT_COLUMNS));
    barShown = true;
  };

  return {
    update(progress) {
      if (finished) return;
      latest = progress;
      const time = now();
      // The final event is always drawn on a terminal, so the bar ends on the true counts.
      const due = time - lastWrite >= interval || (output.isTTY && progress.final);
      if (!due) return;
      lastWrite = time;
      if (output.isTTY) drawBar(progress);
      else output.write(renderProgressLine(progress) + '\n');
    },
    message(text) {
      if (output.isTTY && barShown) {
        output.write(`${CLEAR_LINE}${text}\n`);
        if (latest !== undefined && !finished) drawBar(latest);
      } else {
        output.write(`${text}\n`);
      }
    },
    finish() {
      if (finished) return;
      finished = true;
      if (output.isTTY && barShown) output.write('\n');
    },
  };
}
