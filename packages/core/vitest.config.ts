import { axonVitest } from '@axon/config/vitest';
// --expose-gc: the leak-tracking test frees an undisposed tensor's wrapper on purpose.
export default axonVitest({ test: { execArgv: ['--expose-gc'] } });
