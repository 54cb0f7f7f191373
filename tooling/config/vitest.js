// Shared vitest preset. Tests import workspace packages from source (the "source" export condition),
// so `pnpm test` does not need a prior build of sibling packages.
import { defineConfig } from 'vitest/config';

/** @param {import('vitest/config').UserConfig} [extra] */
export function axonVitest(extra = {}) {
  return defineConfig({
    resolve: { conditions: ['source', 'import', 'module', 'default'] },
    ssr: { resolve: { conditions: ['source', 'import', 'module', 'default'] } },
    ...extra,
    test: {
      environment: 'node',
      testTimeout: 60_000,
      include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
      // A JSON report per package lets scripts/summarize-tests.mjs print one closing line.
      reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
      ...(extra.test ?? {}),
    },
  });
}
export default axonVitest();
