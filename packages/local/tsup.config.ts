import { packageBuild } from '../../tsup.base.ts';

export default packageBuild({
  // The scan worker is its own entry: worker threads load it by file name.
  entry: { index: 'src/index.ts', 'file-vector-store-scan-worker': 'src/file-vector-store-scan-worker.ts' },
  external: ['@aidoc/core'],
});
