import { defineConfig } from 'tsup';
import { axonTsup } from '@axon/config/tsup';
export default defineConfig(axonTsup());
