import axon from '@axon/config/eslint';

// The shared config, plus Node's globals for the plain .mjs scripts (run.mjs, data/*.mjs).
export default [...axon, { files: ['**/*.mjs'], languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } } }];
