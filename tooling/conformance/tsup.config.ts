import { defineConfig } from 'tsup';
import { axonTsup } from '@axon/config/tsup';
// vitest is provided by the test runner of the package that calls the suite: never bundle it.
export default defineConfig(axonTsup({ external: ['vitest'] }));
