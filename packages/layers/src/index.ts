/**
 * `@axon/layers`: modules and layers, losses, metrics, initialisers, the Keras front end
 * (`sequential`, functional `model`, `compile`/`fit`/`evaluate`/`predict`), the PyTorch front end
 * (`Module` subclasses with `forward`), and safetensors save/load.
 * @packageDocumentation
 */
export { Module, parameter, uniqueName, MAX_LAYER_PARAMETERS, reserveParameters, type JsonValue, type LayerConfig, type StateDict, type LoadStateDictOptions, type LoadStateDictResult } from './module.js';
export { SymbolicTensor, isSymbolic, input, type SymbolicShape, type InputOptions } from './symbolic.js';
export * from './init.js';
export * from './activations.js';
export * from './layers.js';
export {
  mseLoss,
  maeLoss,
  crossEntropy,
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  sparseCrossEntropyFromProbs,
  categoricalCrossEntropyFromProbs,
  MSELoss,
  CrossEntropyLoss,
  BCELoss,
  BCEWithLogitsLoss,
  nllLoss,
  l1Loss,
  huberLoss,
  smoothL1Loss,
  klDivLoss,
  klDivergenceFromProbs,
  NLLLoss,
  L1Loss,
  HuberLoss,
  SmoothL1Loss,
  KLDivLoss,
  type NLLLossOptions,
  type HuberLossOptions,
  type SmoothL1LossOptions,
  type KLDivLossOptions,
  type KLDivReduction,
  getLoss,
  LOSS_NAMES,
  type Reduction,
  type LossOptions,
  type CrossEntropyOptions,
  type BCEOptions,
  type LossKind,
  type LossFn,
  type LossSpec,
  type LossConfig,
} from './losses.js';
export * from './metrics.js';
export { isBatchSource, type HostData, type NestedNumbers, type DataInput, type Batch, type BatchSource, type IndexedBatchSource } from './data.js';
export * from './callbacks.js';
export { Model } from './model.js';
export { Sequential, sequential, type SequentialOptions } from './sequential.js';
export { GraphModel, model, add, concatenate, type GraphModelOptions } from './graph.js';
export { type CompileConfig, type SavedCompileConfig } from './compile.js';
export { type FitOptions, type FitCheckpointOptions, type EvaluateOptions } from './fitoptions.js';
export * from './conv.js';
export * from './conv-more.js';
export * from './conv-keras.js';
export * from './normalization.js';
export {
  serializeSafetensors,
  parseSafetensors,
  toHostTensors,
  fromHostTensors,
  encodeWeights,
  decodeWeights,
  MAX_HEADER_BYTES,
  f16BitsToF32,
  type HostTensorEntry,
  type SafetensorsContents,
  type SafetensorsDtype,
  type WeightsDtype,
  type SerializeSafetensorsOptions,
  type StateLoadable,
} from './safetensors.js';
export { openSafetensors, SafetensorsFile, type SafetensorsTensorInfo } from './safetensors-file.js';
export { latestCheckpoint, deleteCheckpoints, CHECKPOINT_INDEX, type CheckpointInfo } from './checkpoint.js';
export { setIoHookForTests } from './fsutil.js';
export * from './serialize.js';
export * from './io.js';
export * from './portable.js';
export { mnistMlp, mnistCnn, mnistModel, type MnistModelName } from './zoo.js';
export { RNN, LSTM, GRU, type RecurrentOptions, type RNNOptions, setRecurrentExportHook, type RecurrentExportHook, type RecurrentRun, type TorchRecurrentRun, type KerasRecurrentRun, type CellKind } from './recurrent.js';
export { SimpleRNN, KerasLSTM, KerasGRU, type KerasRecurrentOptions, type KerasRecurrentOutput, type KerasRecurrentCallOptions } from './recurrent-keras.js';
export { KVCache, MultiheadAttention, type MultiheadAttentionOptions, type MultiheadAttentionForwardOptions } from './attention.js';
export {
  TransformerEncoderLayer,
  TransformerDecoderLayer,
  TransformerEncoder,
  type TransformerLayerOptions,
  type TransformerEncoderForwardOptions,
  type TransformerDecoderForwardOptions,
  type TransformerEncoderOptions,
} from './transformer.js';
export { PositionalEmbedding, SinusoidalPositionalEncoding, sinusoidalPositionalEncoding, RMSNorm, type RMSNormOptions, rmsNorm } from './positional.js';
export { gpt, lstmLm, GPT, LstmLm, type LanguageModel, type GenerateOptions, type GptConfig, type LstmLmConfig } from './lm.js';
export { KerasMultiHeadAttention, type KerasMultiHeadAttentionOptions, type KerasMultiHeadAttentionCallOptions } from './attention-keras.js';
export { toTorchStateDict, loadTorchStateDict } from './torch-keras.js';
