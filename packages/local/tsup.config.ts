import { defineConfig } from 'tsup';

export default defineConfig({
  // The scan worker is its own entry: worker threads load it by file name.
  entry: { index: 'src/index.ts', 'file-vector-store-scan-worker': 'src/file-vector-store-scan-worker.ts' },
  format: ['esm', 'cjs'],
  dts: { compilerOptions: { composite: false, emitDeclarationOnly: false } },
  clean: true,
  sourcemap: true,
  target: 'node22',
  shims: true,
  tsconfig: 'tsconfig.json',
  external: ['@aidoc/core'],
});
