/**
 * Which group checks each function `@axon/core` exports. A new export fails the suite until it
 * is classified here: as an op (and given a check in that group) or as infrastructure.
 */
import * as core from '@axon/core';

const g = (group: string, names: string): [string, string][] => names.split(/\s+/).filter(Boolean).map((n) => [n, group]);

/** Op → the group whose tests check it against a float64 reference. */
export const OPS_CHECKED: Readonly<Record<string, string>> = Object.fromEntries([
  ...g('creation', 'tensor scalar zeros ones full zerosLike onesLike fullLike arange linspace eye rand randn randint bernoulli setSeed toBackend broadcastTo'),
  ...g('unary ops', 'abs ceil cos erf exp expm1 floor log log1p neg reciprocal relu round rsqrt sigmoid sign sin sqrt square tanh logicalNot'),
  ...g('binary ops', 'add sub mul div pow maximum minimum mod eq ne lt le gt ge logicalAnd logicalOr logicalXor where astype'),
  ...g('reductions', 'sum prod max min mean variance argmax argmin'),
  ...g('softmax / logSoftmax / logSumExp', 'logSumExp softmax logSoftmax'),
  ...g('movement', 'reshape flatten squeeze unsqueeze permute transpose slice expand concat stack split chunk unbind pad contiguous clone'),
  ...g('gather / scatterAdd / oneHot', 'gather scatterAdd oneHot'),
  ...g('matmul', 'matmul dot'),
  ...g('conv2d / unfold / fold', 'conv2d unfold fold window2d'),
  ...g('pooling', 'maxPool2d avgPool2d pool2dGrad'),
  ...g('activations', 'leakyRelu gelu clip'),
  ...g('attention', 'scaledDotProductAttention resetPeakMemory attentionGrad'),
  ...g('conv1d / transposed conv / pooling 1-D / upsample', 'conv1d convTranspose1d convTranspose2d maxPool1d avgPool1d upsample'),
  ...g('sequence ops', 'cumsum cumprod flip tril triu causalMask std tile repeat repeatInterleave einsum sort argsort topk multinomial categorical'),
  ...g('profile', 'profile startProfile formatProfile'),
  ...g('fusion: setFlags / getFlags / realize', 'setFlags getFlags realize'),
  ...g('compile: trace once, replay without the JavaScript', 'compile validationRead'),
  ...g('trust', 'getRngState setRngState setAnomalyDetection isAnomalyDetectionEnabled detectAnomaly checkAnomalies setLeakTracking leakReport'),
]);

/** Exports that are not tensor ops (registry, memory, grad mode, shape helpers, errors). */
export const INFRASTRUCTURE: readonly string[] = (
  'AxonError Tensor backends broadcastShapes broadcastView bytesPerElement check contiguousStrides enableGrad findBackend fmtShape getBackend hash32 ' +
  'isDType isGradEnabled isTensor keep failSafe makeTypedArray memory noGrad normAxes normAxis ready referenceRandom registerBackend scopeDepth seedToKey ' +
  'setBackend setNumThreads getNumThreads setGradRecorder setTraceHook record recordGroup shapesEqual sizeOf tidy unitFromBits upcast validateShape inAnomalyPhase assertFinite fmtValue readRegularFile Sym drawGlobalStream broadcastStrides'
).split(' ');

/** Op → group, with every op of core's op table in the 'op table' group. */
const ALL_CHECKED: Readonly<Record<string, string>> = { ...OPS_CHECKED, ...Object.fromEntries(Object.keys(core.OP_TABLE).map((k) => [k, 'op table'])) };

/** Function exports of `@axon/core` that are neither checked ops nor infrastructure. */
export function unclassifiedExports(): string[] {
  const exports = core as unknown as Record<string, unknown>;
  return Object.keys(exports)
    .filter((k) => typeof exports[k] === 'function')
    .filter((k) => !(k in ALL_CHECKED) && !INFRASTRUCTURE.includes(k))
    .sort();
}
