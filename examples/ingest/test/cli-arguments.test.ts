import { describe, expect, it } from 'vitest';
import { UsageError, parseCliArguments } from '../src/cli-arguments.ts';

describe('parseCliArguments', () => {
  it('reads paths and every flag', () => {
    expect(
      parseCliArguments(['docs', '--collection', 'ward_7', '--batch-size', '32', '--concurrency=2', 'more.md', '--dry-run', '--source-root', '.']),
    ).toEqual({ help: false, paths: ['docs', 'more.md'], collection: 'ward_7', batchSize: 32, concurrency: 2, sourceRoot: '.', dryRun: true });
  });

  it('leaves unset flags to the configuration and core defaults', () => {
    expect(parseCliArguments(['docs'])).toEqual({
      help: false,
      paths: ['docs'],
      collection: undefined,
      batchSize: undefined,
      concurrency: undefined,
      sourceRoot: undefined,
      dryRun: false,
    });
  });

  it('answers --help and -h even without paths', () => {
    expect(parseCliArguments(['--help'])).toEqual({ help: true });
    expect(parseCliArguments(['-h', 'docs'])).toEqual({ help: true });
  });

  it.each([
    [['--verbose', 'docs'], "Unknown option '--verbose'"],
    [['docs', '--batch-size'], "Option '--batch-size <value>' argument missing"],
    [['docs', '--batch-size', '1.5'], '--batch-size must be a positive whole number (got "1.5")'],
    [['docs', '--concurrency', '-3'], "Option '--concurrency' argument is ambiguous"],
    [['docs', '--concurrency', '0'], '--concurrency must be a positive whole number (got "0")'],
    [['docs', '--batch-size', '1e3'], '--batch-size must be a positive whole number (got "1e3")'],
    [['docs', '--collection', 'a/b'], '--collection must be letters, digits, "_" or "-", up to 64 (got "a/b")'],
    [['--dry-run'], 'No files or folders to ingest'],
  ])('rejects %j', (argv, message) => {
    expect(() => parseCliArguments(argv)).toThrow(UsageError);
    expect(() => parseCliArguments(argv)).toThrow(message);
  });
});
