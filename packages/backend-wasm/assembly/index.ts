// Entry point: every kernel the TypeScript backend calls.
export * from './generated/elementwise';
export * from './reduce';
export * from './matmul';
export * from './attention';
export * from './conv';
export * from './misc';
export * from './fused';
export * from './generated/fused-helpers';
