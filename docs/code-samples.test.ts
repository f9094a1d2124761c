// Every ```ts block in the README, the docs and the package READMEs is type-checked against the
// packages' sources; blocks that start with `// run` are also executed. A sample that stops
// compiling or running fails CI.
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const outDirectory = path.join(root, '.tsbuild', 'code-samples');

interface Sample {
  readonly file: string;
  readonly index: number;
  readonly code: string;
  readonly path: string;
}

async function markdownFiles(): Promise<string[]> {
  const inDocs = await readdir(path.join(root, 'docs'), { recursive: true });
  const docs = inDocs.filter((name) => name.endsWith('.md')).map((name) => path.join(root, 'docs', name));
  const packages = await readdir(path.join(root, 'packages'));
  const readmes = packages.map((name) => path.join(root, 'packages', name, 'README.md'));
  const existing = await Promise.all(
    [path.join(root, 'README.md'), ...docs, ...readmes].map(async (file) => ((await readFile(file).catch(() => undefined)) === undefined ? [] : [file])),
  );
  return existing.flat();
}

async function collectSamples(): Promise<Sample[]> {
  await rm(outDirectory, { recursive: true, force: true });
  await mkdir(outDirectory, { recursive: true });
  const samples: Sample[] = [];
  for (const file of await markdownFiles()) {
    const text = await readFile(file, 'utf8');
    const blocks = [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
    for (const [index, code] of blocks.entries()) {
      const name = `${path.relative(root, file).replace(/[^a-z0-9]+/gi, '-')}-${index}.ts`;
      const samplePath = path.join(outDirectory, name);
      // `export {}` makes each sample a module, so top-level await and names stay local.
      await writeFile(samplePath, `${code}\nexport {};\n`);
      samples.push({ file: path.relative(root, file), index, code, path: samplePath });
    }
  }
  return samples;
}

describe('code samples in the docs', async () => {
  const samples = await collectSamples();

  it('finds samples to check', () => {
    expect(samples.length).toBeGreaterThan(0);
  });

  it('type-check', () => {
    const config = ts.readConfigFile(path.join(root, 'tsconfig.base.json'), (file) => ts.sys.readFile(file));
    const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
    const program = ts.createProgram(
      samples.map((sample) => sample.path),
      { ...options, noEmit: true, composite: false, declaration: false, declarationMap: false, emitDeclarationOnly: false, incremental: false },
    );
    const diagnostics = ts
      .getPreEmitDiagnostics(program)
      .filter((diagnostic) => diagnostic.file === undefined || diagnostic.file.fileName.startsWith(outDirectory))
      .map((diagnostic) => {
        const where = diagnostic.file === undefined ? '' : `${path.basename(diagnostic.file.fileName)}:${diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line + 1} `;
        return where + ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
      });
    expect(diagnostics).toEqual([]);
  }, 60_000);

  for (const sample of samples.filter((candidate) => candidate.code.startsWith('// run'))) {
    it(`runs ${sample.file} #${sample.index}`, async () => {
      const { stderr } = await promisify(execFile)(process.execPath, ['--conditions=@aidoc/source', sample.path], { cwd: root, timeout: 30_000 });
      expect(stderr).toBe('');
    }, 40_000);
  }
});
