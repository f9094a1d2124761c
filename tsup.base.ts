// The build every published package shares: ESM + CJS + .d.ts, for Node 22+. Packages pass their
// entries and the dependencies to keep external.
import { defineConfig, type Options } from 'tsup';

export function packageBuild(options: { entry: Options['entry']; external?: string[] }) {
  return defineConfig({
    entry: options.entry,
    external: options.external,
    format: ['esm', 'cjs'],
    // One copy of shared modules (AsyncLocalStorage, pools, monitor state) across entries, in CJS too.
    splitting: true,
    dts: { compilerOptions: { composite: false, emitDeclarationOnly: false } },
    clean: true,
    sourcemap: true,
    target: 'node22',
    shims: true,
    tsconfig: 'tsconfig.json',
  });
}
