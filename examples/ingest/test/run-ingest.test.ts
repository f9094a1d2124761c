// runIngestCli in-process with a fake terminal: the live bar, and Ctrl-C pressed twice.
import { sampleGuidelinesDirectory } from '@aidoc/local';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { ExitCode } from '../src/exit-codes.ts';
import { runIngestCli, type CliContext } from '../src/run-ingest.ts';

let dataDirectory: string;
beforeEach(async () => {
  dataDirectory = await mkdtemp(path.join(tmpdir(), 'aidoc-ingest-run-'));
});
afterEach(async () => {
  await rm(dataDirectory, { recursive: true, force: true });
});

function fakeContext(argv: string[], onStderr: (text: string, interrupt: () => void) => void = () => {}) {
  let stdout = '';
  let stderr = '';
  const exits: ExitCode[] = [];
  let listener: (() => void) | undefined;
  const context: CliContext = {
    argv,
    environment: { AIDOC_DATA_DIR: dataDirectory },
    workingDirectory: path.dirname(sampleGuidelinesDirectory),
    stdout: { write: (text) => void (stdout += text) },
    stderr: {
      isTTY: true,
      columns: 120,
      write(text) {
        stderr += text;
        onStderr(text, () => listener?.());
      },
    },
    onInterrupt(given) {
      listener = given;
      return () => (listener = undefined);
    },
    exitNow: (code) => void exits.push(code),
  };
  return { context, exits, output: () => ({ stdout, stderr }), listening: () => listener !== undefined };
}

it('draws a live bar on a terminal and ends it on a new line before the summary', async () => {
  const fake = fakeContext([sampleGuidelinesDirectory]);
  expect(await runIngestCli(fake.context)).toBe(0);
  const { stdout, stderr } = fake.output();
  const lastDraw = stderr.split('\r\u001B[2K').at(-1)!;
  expect(stderr.startsWith('\r\u001B[2K')).toBe(true);
  expect(lastDraw).toMatch(/^█+ 100% 8\/8 documents · \d+ chunks · \d+ embedded · [\d.,]+ chunks\/s · ETA [\d.]+s\n$/);
  expect(stdout).toMatch(/^Ingested into "guidelines"\n {2}Documents +8\n/);
  expect(fake.listening()).toBe(false);
});

it('Ctrl-C aborts the run and reports what was done (130); a second Ctrl-C exits at once', async () => {
  let presses = 0;
  const fake = fakeContext([sampleGuidelinesDirectory], (_text, interrupt) => {
    if (presses < 2) {
      presses++;
      interrupt();
    }
  });
  expect(await runIngestCli(fake.context)).toBe(130);
  const { stdout, stderr } = fake.output();
  expect(stderr).toContain('Cancelling');
  expect(stderr).toContain('Interrupted again: exiting at once.');
  expect(fake.exits).toEqual([130]);
  expect(stdout).toMatch(/^Interrupted: done so far in "guidelines"\n/);
  expect(stdout).toMatch(/Not finished +\d+/);

  // The adapters were closed: the store's writer lock is free for the next run.
  const next = fakeContext([sampleGuidelinesDirectory]);
  expect(await runIngestCli(next.context)).toBe(0);
});
