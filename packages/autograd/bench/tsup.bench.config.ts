// Bundles bench/*.ts from the workspace sources (the `source` export condition) for plain node.
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['bench/lstm-steps.ts'],
  outDir: 'node_modules/.cache/bench', // ignored; never dist/ (the package build's)
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  noExternal: [/^@axon\//],
  dts: false,
  clean: false,
  silent: true,
  esbuildOptions(options) {
    options.conditions = ['source'];
  },
});
