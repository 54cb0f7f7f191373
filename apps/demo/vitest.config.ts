import { axonVitest } from '@axon/config/vitest';

// Unit tests (pure helpers, in Node). The browser end-to-end run is vitest.e2e.config.ts.
export default axonVitest({ test: { include: ['test/**/*.test.ts'] } });
