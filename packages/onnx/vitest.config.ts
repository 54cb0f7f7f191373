export { default } from '@axon/config/vitest';
