/**
 * Size limits shared by the loaders and the checkpoint reader (a leaf module: `checkpoint.ts` reads
 * it without importing `serialize.ts`, which imports the models).
 */

/**
 * The largest `model.json` the loaders (`loadModel`, `deserializeModel`, `loadModelFromUrl`) read
 * by default (32 MiB); raise it with their `maxJsonBytes` option.
 * @example MAX_MODEL_JSON_BYTES // 33554432
 */
export const MAX_MODEL_JSON_BYTES = 32 * 2 ** 20;
