// Runs the real CLI as a child process, as `npm run ingest` would (minus npm).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const MAIN = path.resolve(import.meta.dirname, '..', 'src', 'main.ts');

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** AIDOC_DATA_DIR: where the file store lives. */
  readonly dataDirectory: string;
  readonly cwd?: string;
  readonly environment?: Record<string, string>;
  /** Called with the child and each chunk of stderr as it arrives (to send signals mid-run). */
  readonly onStderr?: (child: ChildProcess, stderrSoFar: string) => void;
  readonly timeoutMs?: number;
}

/** The environment without the developer's AIDOC_* settings or npm's INIT_CWD, so runs are reproducible. */
function cleanEnvironment(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && !entry[0].startsWith('AIDOC_') && entry[0] !== 'INIT_CWD',
    ),
  );
}

export function runCli(argv: readonly string[], options: CliOptions): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@aidoc/source', MAIN, ...argv], {
      cwd: options.cwd ?? process.cwd(),
      env: { ...cleanEnvironment(), AIDOC_DATA_DIR: options.dataDirectory, ...options.environment },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      options.onStderr?.(child, stderr);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A summary table row's number: `  Embedded   1,234` → 1234. */
export function summaryValue(stdout: string, label: string): number {
  const match = new RegExp(`^ {2}${label} +([\\d,]+)$`, 'm').exec(stdout);
  if (match === null) throw new Error(`No "${label}" row in:\n${stdout}`);
  return Number(match[1]!.replaceAll(',', ''));
}
