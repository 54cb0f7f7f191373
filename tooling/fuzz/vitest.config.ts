import { axonVitest } from '@axon/config/vitest';
// Each fuzz file is one long test over many generated cases.
export default axonVitest({ test: { testTimeout: 600_000 } });
