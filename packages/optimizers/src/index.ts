/**
 * `@axon/optimizers`: SGD, Adam, AdamW, RMSprop, Adagrad, Adamax, NAdam, RAdam and Adadelta with PyTorch semantics, a Keras-style
 * `optimizer(name)` factory, learning-rate schedules and gradient clipping. Updates run as backend
 * ops only (nothing is read back to the host during `step()`), all-or-nothing.
 * @packageDocumentation
 */
export {
  Optimizer,
  type BaseHyperparams,
  type ClipOptions,
  type HyperValue,
  type OptimizerStateDict,
  type OptimizerStateMeta,
  type ParamGroup,
  type ParamGroupInput,
  type ParamUpdate,
  type Params,
  type TensorState,
} from './optimizer.js';
export { SGD, SGD_DEFAULTS, type SGDHyperparams, type SGDOptions } from './sgd.js';
export { Adam, AdamW, ADAM_DEFAULTS, ADAMW_DEFAULTS, type AdamHyperparams, type AdamOptions } from './adam.js';
export { RMSprop, RMSPROP_DEFAULTS, type RMSpropHyperparams, type RMSpropOptions } from './rmsprop.js';
export { Adagrad, ADAGRAD_DEFAULTS, type AdagradHyperparams, type AdagradOptions } from './adagrad.js';
export { Adamax, ADAMAX_DEFAULTS, type AdamaxHyperparams, type AdamaxOptions } from './adamax.js';
export { NAdam, NADAM_DEFAULTS, type NAdamHyperparams, type NAdamOptions } from './nadam.js';
export { RAdam, RADAM_DEFAULTS, type RAdamHyperparams, type RAdamOptions } from './radam.js';
export { Adadelta, ADADELTA_DEFAULTS, type AdadeltaHyperparams, type AdadeltaOptions } from './adadelta.js';
export {
  optimizer,
  OPTIMIZER_NAMES,
  KERAS_DEFAULTS,
  type OptimizerName,
  type OptimizerOptions,
  type OptimizerConfig,
  type FactoryParams,
} from './factory.js';
export {
  LRScheduler,
  StepLR,
  ExponentialLR,
  CosineAnnealingLR,
  LinearWarmup,
  SequentialLR,
  ChainedScheduler,
  LambdaLR,
  MultiStepLR,
  OneCycleLR,
  LinearLR,
  ConstantLR,
  MultiplicativeLR,
  PolynomialLR,
  CosineAnnealingWarmRestarts,
  CyclicLR,
  type LinearLROptions,
  type ConstantLROptions,
  type PolynomialLROptions,
  type CosineAnnealingWarmRestartsOptions,
  type CyclicLROptions,
  type MultiStepLROptions,
  type OneCycleLROptions,
  type SchedulerState,
  type AnyOptimizer,
} from './schedules.js';
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions, type ReduceLROnPlateauState } from './plateau.js';
export { clipGradNorm, clipGradValue, clipByNorm, clipByGlobalNorm, clipByValue, globalNorm } from './clip.js';
