import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts' },
  external: ['vitest'],
  format: ['esm', 'cjs'],
  // One copy of shared modules (AsyncLocalStorage, pools, monitor state) for both entries, in CJS too.
  splitting: true,
  dts: { compilerOptions: { composite: false, emitDeclarationOnly: false } },
  clean: true,
  sourcemap: true,
  target: 'node22',
  shims: true,
  tsconfig: 'tsconfig.json',
});
