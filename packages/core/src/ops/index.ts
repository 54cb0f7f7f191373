export * from './creation.js';
export * from './elementwise.js';
export * from './reduce.js';
export * from './movement.js';
export * from './linalg.js';
export * from './nn.js';
export * from './attention.js';
export * from './table.js';
