import { axonVitest } from '@axon/config/vitest';

// One run, one report (test-results/vitest.json): the unit tests (test/, in Node) and the
// end-to-end tests (e2e/, Debian's headless Chromium driven by playwright-core).
export default axonVitest({
  test: {
    include: ['test/**/*.test.ts', 'e2e/**/*.e2e.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 240_000,
  },
});
