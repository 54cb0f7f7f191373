// Shared tsup preset: ESM + .d.ts, tree-shakeable.
/** @param {Partial<import('tsup').Options>} [extra] */
export function axonTsup(extra = {}) {
  return {
    entry: ['src/index.ts'],
    format: ['esm'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    treeshake: true,
    ...extra,
  };
}
