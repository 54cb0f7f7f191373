export { default } from '@axon/config/eslint';
