// The test projects, one per package (plus the docs' code samples). vitest.config.ts passes this
// list as `test.projects` (vitest 4+ no longer reads workspace files by itself). Every project
// resolves workspace packages to their sources through the `@aidoc/source` condition.
import { defineProject } from 'vitest/config';

const project = (name: string, root: string, include = ['test/**/*.test.ts']) =>
  defineProject({
    resolve: { conditions: ['@aidoc/source'] },
    ssr: { resolve: { conditions: ['@aidoc/source'] } },
    test: { name, root, include },
  });

const packages = ['core', 'local', 'embedder-vertex', 'vector-store-qdrant', 'patient-repo-postgres', 'llm-anthropic'];

export default [
  project('docs', 'docs', ['*.test.ts']),
  project('examples', 'examples', ['*/test/**/*.test.ts']),
  ...packages.map((name) => project(name, `packages/${name}`)),
];
