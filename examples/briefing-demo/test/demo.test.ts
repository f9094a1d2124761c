// The Quick start's first command must work on a fresh clone: run the demo as a user would and
// check it ingested, briefed with cited sources, and drew the trace.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const main = path.resolve(import.meta.dirname, '..', 'src', 'main.ts');

describe('npm run demo', () => {
  it('ingests the sample guidelines and prints a cited briefing with its waterfall, twice (the re-run skips unchanged chunks)', async () => {
    const run = () => promisify(execFile)(process.execPath, ['--conditions=@aidoc/source', main, '2'], { timeout: 60_000 });
    const first = await run();
    expect(first.stderr).toBe('');
    expect(first.stdout).toMatch(/8 documents, \d+ chunks/);
    expect(first.stdout).toContain('Briefing for patient 2');
    expect(first.stdout).toMatch(/Recommendations\n {2}- .+\[S\d+/);
    expect(first.stdout).toContain('← the bottleneck');
    const second = await run();
    expect(second.stdout).toMatch(/0 embedded, \d+ unchanged/);
  }, 90_000);
});
