import { packageBuild } from '../../tsup.base.ts';

export default packageBuild({
  // The PDF worker is its own entry, next to the bundled index: worker threads load it by file name.
  entry: { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts', 'pdf-worker': 'src/pipelines/ingest/pdf-worker.ts' },
  external: ['vitest', 'unpdf', '@opentelemetry/api'],
});
