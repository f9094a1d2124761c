// The CLI as a user runs it: a child process against a file store in a temporary AIDOC_DATA_DIR.
import { sampleGuidelinesDirectory } from '@aidoc/local';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, summaryValue } from './cli-process.ts';

let workspace: string;
let dataDirectory: string;

beforeEach(async () => {
  workspace = await mkdtemp(path.join(tmpdir(), 'aidoc-ingest-cli-'));
  dataDirectory = path.join(workspace, 'data');
});

afterEach(async () => {
  await rm(workspace, { recursive: true, force: true });
});

/** 200 Markdown files of 60 sections each: 12,000 chunks, several seconds to embed one at a time. */
async function writeManyDocuments(): Promise<string> {
  const folder = path.join(workspace, 'many');
  await mkdir(folder);
  await Promise.all(
    Array.from({ length: 200 }, (_, document) => {
      const sections = Array.from({ length: 60 }, (_, section) => {
        const words = Array.from({ length: 60 }, (_, word) => `term${(document * 31 + section * 7 + word) % 997}`).join(' ');
        return `## Section ${section}\n\n${words}.\n`;
      });
      return writeFile(path.join(folder, `document-${String(document).padStart(3, '0')}.md`), `# Document ${document}\n\n${sections.join('\n')}`);
    }),
  );
  return folder;
}

const lockFile = (): string => path.join(dataDirectory, 'vectors', 'aidoc-vector-store.lock');

describe('ingest CLI', () => {
  it('ingests the sample guidelines, then a re-run embeds nothing and skips every chunk as unchanged', async () => {
    const first = await runCli([sampleGuidelinesDirectory], { dataDirectory });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('Ingested into "guidelines"');
    expect(summaryValue(first.stdout, 'Documents')).toBe(8);
    const chunks = summaryValue(first.stdout, 'Chunks');
    expect(summaryValue(first.stdout, 'Embedded')).toBe(chunks);
    expect(chunks).toBeGreaterThan(0);
    expect(summaryValue(first.stdout, 'Failed')).toBe(0);
    expect(existsSync(lockFile())).toBe(false);

    const second = await runCli([sampleGuidelinesDirectory], { dataDirectory });
    expect(second.code, second.stderr).toBe(0);
    expect(summaryValue(second.stdout, 'Embedded')).toBe(0);
    expect(summaryValue(second.stdout, 'Skipped unchanged')).toBe(chunks);
    expect(summaryValue(second.stdout, 'Replaced')).toBe(0);
  }, 60_000);

  it('exits 1 and lists a file that cannot be read, while the good one is ingested', async () => {
    const folder = path.join(workspace, 'mixed');
    await mkdir(folder);
    await writeFile(path.join(folder, 'good.md'), '# Good\n\nMetformin is first-line therapy for type 2 diabetes.\n');
    await writeFile(path.join(folder, 'bad.md'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x01]));
    const result = await runCli([folder, '--collection', 'mixed'], { dataDirectory, cwd: workspace });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain('Ingested into "mixed"');
    expect(summaryValue(result.stdout, 'Documents')).toBe(2);
    expect(summaryValue(result.stdout, 'Failed')).toBe(1);
    expect(summaryValue(result.stdout, 'Embedded')).toBeGreaterThan(0);
    expect(result.stdout).toMatch(/Failed files \(1\):\n {2}mixed\/bad\.md: .+/);
    expect(result.stdout).not.toContain('good.md');
  }, 60_000);

  it.each([
    [['--bogus', 'docs'], /Unknown option '--bogus'/],
    [['--batch-size', 'ten', 'docs'], /--batch-size must be a positive whole number \(got "ten"\)/],
    [['--concurrency', '0', 'docs'], /--concurrency must be a positive whole number/],
    [['--collection', 'no spaces', 'docs'], /--collection must be/],
    [[], /No files or folders to ingest/],
  ])('exits 2 with the usage for %j', async (argv, message) => {
    const result = await runCli(argv, { dataDirectory });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('Usage: npm run ingest --');
    expect(result.stdout).toBe('');
    expect(existsSync(dataDirectory)).toBe(false);
  });

  it('prints the usage on stdout for --help and exits 0', async () => {
    const result = await runCli(['--help'], { dataDirectory });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--dry-run');
  });

  it('exits 2 with the configuration problem when the environment is invalid', async () => {
    const result = await runCli([sampleGuidelinesDirectory], { dataDirectory, environment: { AIDOC_EMBEDDER: 'nonsense', AIDOC_POOL_EMBEDDER: '-1' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Invalid configuration:');
    expect(result.stderr).toContain('AIDOC_EMBEDDER');
    expect(result.stderr).toContain('AIDOC_POOL_EMBEDDER');
  });

  it('--dry-run writes nothing: a later real run still embeds every chunk', async () => {
    const dry = await runCli([sampleGuidelinesDirectory, '--dry-run'], { dataDirectory });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('dry run: nothing was written');
    const chunks = summaryValue(dry.stdout, 'Chunks');
    expect(summaryValue(dry.stdout, 'Would embed')).toBe(chunks);
    const stored = existsSync(path.join(dataDirectory, 'vectors')) ? await readdir(path.join(dataDirectory, 'vectors')) : [];
    expect(stored.filter((name) => name.endsWith('.aidoc-vectors'))).toEqual([]);

    const real = await runCli([sampleGuidelinesDirectory], { dataDirectory });
    expect(real.code, real.stderr).toBe(0);
    expect(summaryValue(real.stdout, 'Embedded')).toBe(chunks);
  }, 60_000);

  it('on SIGINT mid-run: prints plain progress lines, then what was done, releases the lock and exits 130', async () => {
    const folder = await writeManyDocuments();
    let signalled = false;
    const interrupted = await runCli([folder, '--batch-size', '1'], {
      dataDirectory,
      onStderr(child, stderr) {
        if (!signalled && /^ingest: \d+\/200 documents/m.test(stderr)) {
          signalled = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(signalled).toBe(true);
    expect(interrupted.code, interrupted.stderr).toBe(130);
    // Not a TTY: plain lines, no carriage returns or bar.
    expect(interrupted.stderr).toMatch(/^ingest: \d+\/200 documents · [\d,]+ chunks · [\d,]+ embedded · [\d.,]+ chunks\/s · ETA /m);
    expect(interrupted.stderr).not.toContain('\r');
    expect(interrupted.stderr).toContain('Cancelling');
    expect(interrupted.stdout).toContain('Interrupted: done so far in "guidelines"');
    expect(summaryValue(interrupted.stdout, 'Documents')).toBe(200);
    const embeddedBefore = summaryValue(interrupted.stdout, 'Embedded');
    expect(summaryValue(interrupted.stdout, 'Not finished')).toBeGreaterThan(0);
    expect(existsSync(lockFile())).toBe(false);

    const resumed = await runCli([folder], { dataDirectory });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(summaryValue(resumed.stdout, 'Skipped unchanged')).toBeGreaterThanOrEqual(embeddedBefore);
    expect(summaryValue(resumed.stdout, 'Chunks')).toBe(summaryValue(resumed.stdout, 'Embedded') + summaryValue(resumed.stdout, 'Skipped unchanged'));
  }, 120_000);

});
