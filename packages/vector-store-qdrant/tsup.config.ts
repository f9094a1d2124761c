import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: { compilerOptions: { composite: false, emitDeclarationOnly: false } },
  clean: true,
  sourcemap: true,
  target: 'node22',
  shims: true,
  tsconfig: 'tsconfig.json',
  external: ['@aidoc/core', '@qdrant/js-client-rest'],
});
