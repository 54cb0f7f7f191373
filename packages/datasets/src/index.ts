/**
 * `@axon/datasets`: input pipelines for Axon — in-memory and streaming {@link Dataset}s
 * (shuffle, batch, split, prefetch, …), sources (arrays, tensors, CSV, generators, MNIST IDX
 * files), transforms (normalize, standardize, min-max scaling, one-hot), and text for sequence
 * models (character and byte-level BPE tokenizers, next-token windows, a public-domain corpus).
 * @packageDocumentation
 */
export type { HostArray, NumericArray, HostTensor, HostValue, Sample, HostBatch, Stackable, Batched } from './types.js';
export { Dataset, type DatasetSource, type BatchOptions, type ShuffleOptions, type SplitOptions } from './dataset.js';
export {
  ArrayDataset,
  fromArrays,
  fromTensors,
  fromGenerator,
  type ColumnSpec,
  type ColumnInput,
  type NestedNumbers,
  type DatasetMeta,
  type FromArraysOptions,
  type FromGeneratorOptions,
} from './array-dataset.js';
export { toTensor, batchToTensors, isHostTensor, type Tensorized } from './host.js';
export { permutation, MAX_PERMUTATION } from './random.js';
export { parseCsv, fromCsv, fromCsvText, CSV_LIMITS, type ParseCsvOptions, type CsvTable, type CsvOptions } from './csv.js';
export { readBytes, gunzip, maybeGunzip, isGzip, DEFAULT_MAX_BYTES, MAX_INFLATE_RATIO, type DataSource, type ReadOptions, type GunzipOptions } from './io.js';
export { parseIdx, loadIdx, encodeIdx, type IdxArray, type IdxType, type LoadIdxOptions } from './idx.js';
export {
  loadMnist,
  loadMnistDataset,
  defaultMnistDir,
  type LoadMnistOptions,
  type LoadMnistDatasetOptions,
  type MnistData,
} from './mnist.js';
export {
  normalize,
  standardize,
  minMaxScale,
  oneHot,
  trainTestSplit,
  StandardScaler,
  MinMaxScaler,
  type NumericData,
  type NormalizeOptions,
  type ScaleOptions,
  type Scaled,
  type TrainTestSplitOptions,
} from './transforms.js';
export { preprocessDigit, type DigitOptions } from './digits.js';
export { augmentImages, type AugmentOptions, type ImageBatch } from './augment.js';
export { CharTokenizer, type CharTokenizerJSON, type CharTokenizerOptions } from './char-tokenizer.js';
export { BPE_LIMITS, BpeTokenizer, type BpeLoadOptions, type BpeTokenizerJSON, type BpeTrainOptions } from './bpe-tokenizer.js';
export { MAX_TOKEN_IDS, tokenWindows, splitTokens, type TokenWindowOptions, type TokenBatch } from './token-windows.js';
export {
  loadTextCorpus,
  unigramEntropy,
  TEXT_CORPORA,
  type TextCorpus,
  type TextCorpusName,
  type TextDocument,
  type LoadTextCorpusOptions,
} from './corpus.js';
