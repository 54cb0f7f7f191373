/**
 * `@axon/onnx`: ONNX export and import for Axon models.
 */
export { DataType } from './proto.js';
export * from './import.js';
export * from './export.js';
export * from './inspect.js';
