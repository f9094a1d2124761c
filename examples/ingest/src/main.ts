#!/usr/bin/env node
// The ingest CLI: `npm run ingest -- <files or folders> [options]`. See ../README.md.
import { runIngestCli } from './run-ingest.ts';

process.exitCode = await runIngestCli({
  argv: process.argv.slice(2),
  environment: process.env,
  // `npm run ingest` runs this in the workspace folder; INIT_CWD is where the user typed it.
  workingDirectory: process.env['INIT_CWD'] ?? process.cwd(),
  stdout: process.stdout,
  stderr: {
    write: (text) => process.stderr.write(text),
    isTTY: process.stderr.isTTY === true,
    get columns() {
      return process.stderr.columns;
    },
  },
  onInterrupt(listener) {
    process.on('SIGINT', listener);
    return () => process.off('SIGINT', listener);
  },
  exitNow: (code) => process.exit(code),
});
