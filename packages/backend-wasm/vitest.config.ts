import { axonVitest } from '@axon/config/vitest';

// The global setup compiles the kernels when src/generated/kernels.ts is missing or older than
// the AssemblyScript sources, so `vitest` works straight after a checkout.
export default axonVitest({ test: { globalSetup: ['./test/global-setup.ts'] } });
