// The test projects, one per package. vitest.config.ts passes this list as `test.projects`
// (vitest 4+ no longer reads workspace files by itself).
import { defineProject } from 'vitest/config';

const sourceConditions = { resolve: { conditions: ['@aidoc/source'] }, ssr: { resolve: { conditions: ['@aidoc/source'] } } };

export default [
  defineProject({
    ...sourceConditions,
    test: { name: 'docs', root: 'docs', include: ['*.test.ts'] },
  }),
  defineProject({
    ...sourceConditions,
    test: { name: 'core', root: 'packages/core', include: ['test/**/*.test.ts'] },
  }),
  defineProject({
    ...sourceConditions,
    test: { name: 'local', root: 'packages/local', include: ['test/**/*.test.ts'] },
  }),
  defineProject({
    ...sourceConditions,
    test: { name: 'embedder-vertex', root: 'packages/embedder-vertex', include: ['test/**/*.test.ts'] },
  }),
  defineProject({
    ...sourceConditions,
    test: { name: 'vector-store-qdrant', root: 'packages/vector-store-qdrant', include: ['test/**/*.test.ts'] },
  }),
  defineProject({
    ...sourceConditions,
    test: { name: 'patient-repo-postgres', root: 'packages/patient-repo-postgres', include: ['test/**/*.test.ts'] },
  }),
  defineProject({
    ...sourceConditions,
    test: { name: 'llm-anthropic', root: 'packages/llm-anthropic', include: ['test/**/*.test.ts'] },
  }),
];
