import { defineConfig } from 'tsup';
import { axonTsup } from '@axon/config/tsup';
// `@axon/cli/image` (the image reader with its pixel cap) is importable on its own, e.g. by the fuzz suite.
export default defineConfig(axonTsup({ entry: ['src/index.ts', 'src/image.ts'] }));
