import { axonVitest } from '@axon/config/vitest';
// Forks: the examples run in a temporary working directory (process.chdir is not allowed in threads).
export default axonVitest({ test: { pool: 'forks', testTimeout: 60_000, sequence: { concurrent: false } } });
