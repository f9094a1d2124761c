/** The `--help` text, also printed (on stderr) after a usage error. */
export const USAGE = `Usage: npm run ingest -- <files or folders...> [options]

Loads, chunks, embeds and stores guideline documents (.md, .markdown, .txt, .pdf;
folders are walked recursively). Re-runs embed only what changed.

Options:
  --collection <name>    Collection to write to (default: AIDOC_COLLECTION, else "guidelines")
  --batch-size <n>       Most chunks per embedding call (default: the embedder's maximum)
  --concurrency <n>      Embedding batches in flight at once (default: 4)
  --source-root <dir>    Folder documents are named relative to in the store
                         (default: the directory the command was run from)
  --dry-run              Load, chunk and compare with the store; write nothing
  -h, --help             Show this help

Configuration comes from the same environment variables as the server (AIDOC_EMBEDDER,
AIDOC_VECTOR_STORE, AIDOC_DATA_DIR, AIDOC_POOL_*, ...). See examples/ingest/README.md.

Exit codes: 0 all ingested, 1 some file (or the run) failed, 2 usage or configuration error,
130 interrupted (Ctrl-C).
`;
