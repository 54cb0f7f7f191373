import { axonVitest } from '@axon/config/vitest';
// One fork: the guide snippets share core's backend registry, as the modules of one program do;
// the site build (TypeDoc over every package) needs the time on a busy 2-core machine.
export default axonVitest({ test: { pool: 'forks', fileParallelism: false, testTimeout: 240_000, hookTimeout: 300_000 } });
