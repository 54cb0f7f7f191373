export * from './dtype.js';
export * from './errors.js';
export * from './backend.js';
export * from './registry.js';
export * from './random.js';
