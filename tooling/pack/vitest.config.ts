import { axonVitest } from '@axon/config/vitest';
export default axonVitest({ test: { testTimeout: 300_000, hookTimeout: 600_000 } });
