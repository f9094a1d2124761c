// `npm run server` as an operator runs it: bad configuration exits 1 with the message; a good one
// listens, prints the URL, and exits 0 on SIGTERM.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const main = path.resolve(import.meta.dirname, '..', 'src', 'main.ts');
const node = (environment: Record<string, string>) => ({ env: { PATH: process.env.PATH ?? '', ...environment } });

describe('src/main.ts', () => {
  it('prints the configuration error and exits 1 on bad configuration', async () => {
    const run = promisify(execFile)(process.execPath, ['--conditions=@aidoc/source', main], node({ AIDOC_MAX_TURNS: '99', PORT: 'x' }));
    await expect(run).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/Invalid configuration[\s\S]*AIDOC_MAX_TURNS[\s\S]*PORT/) as string });
  });

  it('listens, prints the URL, serves /healthz and exits 0 on SIGTERM', async () => {
    const dataDirectory = await mkdtemp(path.join(os.tmpdir(), 'aidoc-main-'));
    try {
      const child = spawn(process.execPath, ['--conditions=@aidoc/source', main], { ...node({ AIDOC_DATA_DIR: dataDirectory, PORT: '0' }), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      const deadline = Date.now() + 15_000;
      while (!/http:\/\/127\.0\.0\.1:\d+\//.test(stdout)) {
        if (Date.now() > deadline) throw new Error(`no URL printed: ${stdout}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(stdout)![0];
      expect(await (await fetch(`${url}healthz`)).json()).toEqual({ status: 'ok' });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      await rm(dataDirectory, { recursive: true, force: true });
    }
  }, 30_000);
});
