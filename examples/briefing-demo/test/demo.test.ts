// The Quick start's first command must work on a fresh clone: run the demo as a user would and
// check it ingested, briefed with cited sources, drew the trace, and served the page.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const main = path.resolve(import.meta.dirname, '..', 'src', 'main.ts');
let dataDirectory: string;

beforeAll(async () => {
  dataDirectory = await mkdtemp(path.join(tmpdir(), 'aidoc-demo-'));
});
afterAll(async () => {
  await rm(dataDirectory, { recursive: true, force: true });
});

describe('npm run demo', () => {
  it('ingests the sample guidelines and prints a cited briefing with its waterfall; a re-run skips unchanged chunks', async () => {
    const run = () =>
      promisify(execFile)(process.execPath, ['--conditions=@aidoc/source', main, '2', '--no-serve'], {
        timeout: 60_000,
        env: { ...process.env, AIDOC_DATA_DIR: dataDirectory },
      });
    const first = await run();
    expect(first.stderr).toBe('');
    expect(first.stdout).toMatch(/8 documents, \d+ chunks/);
    expect(first.stdout).toContain('Briefing for patient 2');
    expect(first.stdout).toMatch(/Recommendations\n {2}- .+\[S\d+/);
    expect(first.stdout).toContain('← the bottleneck');
    const second = await run();
    expect(second.stdout).toMatch(/0 embedded, \d+ unchanged/);
  }, 90_000);

  it('then serves the briefing page until Ctrl-C, and exits cleanly', async () => {
    const child = spawn(process.execPath, ['--conditions=@aidoc/source', main, '1'], {
      env: { ...process.env, AIDOC_DATA_DIR: dataDirectory, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed:\n${output}`)), 60_000);
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /The briefing page: (http:\/\/\S+)/.exec(output);
        if (match !== null) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
    });
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  }, 90_000);
});
