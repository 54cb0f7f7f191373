/**
 * Metrics: accuracy (sparse, one-hot, binary) and top-k accuracy, plus Keras metric names.
 */
import { AxonError, type Tensor, fmtShape, fmtValue, noGrad, reshape } from '@axon/core';
import { pickClass, sparseLabels } from './losses.js';
import { checkFinite, checkInt, checkTensor, composite, optBool, optionsOf } from './validate.js';

/**
 * Options of {@link accuracy}.
 * @example
 * const opts: AccuracyOptions = { fromLogits: true };
 * accuracy(tensor([[-2], [3], [0.5]]), tensor([0, 1, 0]), opts) // 0.6667
 * accuracy(tensor([0.2, 0.7]), tensor([0, 1]), { threshold: 0.8 }) // 0.5
 */
export interface AccuracyOptions {
  /**
   * For binary predictions (last axis 1, or rank 1): whether they are logits (threshold 0) or
   * probabilities (threshold 0.5, the default). Ignored for multi-class predictions, where argmax
   * is the same for logits and probabilities.
   */
  fromLogits?: boolean;
  /** Binary threshold on probabilities (default 0.5). */
  threshold?: number;
}

function isBinary(pred: Tensor): boolean {
  return pred.rank === 1 || pred.shape[pred.rank - 1] === 1;
}

/**
 * Fraction of correct predictions (a scalar tensor), computed without gradients:
 * - multi-class predictions [N, C] (logits or probabilities) against int32 class indices [N]
 *   or one-hot/probability targets [N, C] (argmax of both);
 * - binary predictions [N] or [N, 1] against 0/1 targets (threshold 0.5 on probabilities, 0 on logits).
 * @example accuracy(tensor([[0.1, 0.9], [0.8, 0.2]]), tensor([1, 1], [2], 'int32')).item() // 0.5
 */
export function accuracy(pred: Tensor, target: Tensor, opts: AccuracyOptions = {}): Tensor {
  const op = 'accuracy';
  const o = optionsOf<AccuracyOptions>(op, opts, ['fromLogits', 'threshold']);
  const fromLogits = optBool(op, 'fromLogits', o.fromLogits) ?? false;
  const thr = o.threshold === undefined ? (fromLogits ? 0 : 0.5) : checkFinite(op, 'threshold', o.threshold);
  checkTensor(op, 'predictions', pred);
  checkTensor(op, 'targets', target);
  if (pred.rank < 1 || pred.dtype === 'bool') throw new AxonError(op, `predictions must be numbers with a class axis (or binary [N]), got ${pred.dtype} ${fmtShape(pred.shape)}`);
  return noGrad(() =>
    composite([pred, target], (tmp) => {
      if (isBinary(pred)) {
        if (target.size !== pred.size) throw new AxonError(op, `binary predictions ${fmtShape(pred.shape)} and targets ${fmtShape(target.shape)} differ in size`);
        const p = tmp(pred.gt(thr));
        const t = tmp(reshape(target, p.shape));
        const tb = t.dtype === 'bool' ? t : tmp(t.gt(0.5));
        return tmp(tmp(p.eq(tb)).astype('float32')).mean();
      }
      let actual: Tensor;
      if (target.rank === pred.rank && target.shape.every((d, i) => d === pred.shape[i]) && target.dtype === 'float32') actual = tmp(target.argmax(-1));
      else actual = tmp(sparseLabels(op, pred, target, false));
      const predicted = tmp(pred.argmax(-1));
      if (actual.size !== predicted.size) throw new AxonError(op, `predictions ${fmtShape(pred.shape)} and targets ${fmtShape(target.shape)} do not match`);
      return tmp(tmp(predicted.eq(tmp(reshape(actual, predicted.shape)))).astype('float32')).mean();
    }),
  );
}

/**
 * Fraction of examples whose target class is among the `k` highest predictions (ties count in
 * the example's favour). Targets: int32 class indices [N] or one-hot [N, C].
 * @example
 * const scores = tensor([[0.5, 0.3, 0.2], [0.1, 0.2, 0.7]]);
 * topKAccuracy(scores, tensor([1, 0], [2], 'int32'), 1) // 0
 * topKAccuracy(scores, tensor([1, 0], [2], 'int32'), 2) // 0.5
 */
export function topKAccuracy(pred: Tensor, target: Tensor, k = 5): Tensor {
  const op = 'topKAccuracy';
  checkInt(op, 'k', k);
  checkTensor(op, 'predictions', pred);
  checkTensor(op, 'targets', target);
  if (pred.rank !== 2 || pred.dtype !== 'float32') throw new AxonError(op, `predictions must be float32 [N, C], got ${pred.dtype} ${fmtShape(pred.shape)}`);
  if (target.rank === 2 && target.dtype === 'float32' && (target.shape[0] !== pred.shape[0] || target.shape[1] !== pred.shape[1])) {
    throw new AxonError(op, `one-hot targets ${fmtShape(target.shape)} must match predictions ${fmtShape(pred.shape)}`);
  }
  return noGrad(() =>
    composite([pred, target], (tmp) => {
      const labels = tmp(target.rank === 2 && target.dtype === 'float32' ? target.argmax(-1) : sparseLabels(op, pred, target, false));
      const n = pred.shape[0]!;
      const own = tmp(reshape(tmp(pickClass(pred, tmp(reshape(labels, [n])))), [n, 1]));
      const better = tmp(tmp(tmp(pred.gt(own)).astype('float32')).sum(-1));
      return tmp(tmp(better.lt(k)).astype('float32')).mean();
    }),
  );
}

/**
 * A metric as `compile` uses it: (predictions, targets, context) → scalar (batch mean).
 * @example
 * const maxError: MetricFn = (p, t) => p.sub(t).abs().max();
 * maxError(tensor([1, 2]), tensor([1, 5]), { fromLogits: false }) // 3
 * const net = sequential([new Dense(1, { inputShape: [1] })]);
 * net.compile({ optimizer: 'sgd', loss: 'mse', metrics: [maxError] }); // logged as 'maxError'
 */
export type MetricFn = (yPred: Tensor, yTrue: Tensor, ctx: { fromLogits: boolean }) => Tensor;

/**
 * A resolved metric: its log name and function.
 * @example
 * const spec: MetricSpec = getMetric('accuracy');
 * spec.name // 'accuracy'
 * spec.fn(tensor([[0.1, 0.9]]), tensor([1], [1], 'int32'), { fromLogits: false }) // 1
 */
export interface MetricSpec {
  readonly name: string;
  readonly fn: MetricFn;
}

/**
 * Resolves a Keras metric name — `'accuracy'`/`'acc'` (and `'sparseCategoricalAccuracy'`,
 * `'categoricalAccuracy'`, `'binaryAccuracy'`), `'topKCategoricalAccuracy'` /
 * `'sparseTopKCategoricalAccuracy'` (k = 5), `'mse'`, `'mae'` — or a named function.
 * @example getMetric('acc').name // 'accuracy'
 */
export function getMetric(spec: string | MetricFn | MetricSpec): MetricSpec {
  if (typeof spec === 'function') return { name: spec.name || 'metric', fn: spec };
  if (spec !== null && typeof spec === 'object' && typeof spec.fn === 'function') {
    if (typeof spec.name !== 'string' || spec.name === '') throw new AxonError('getMetric', `a metric { name, fn } needs a non-empty name, got ${fmtValue(spec.name)}`);
    return spec;
  }
  if (typeof spec !== 'string') throw new AxonError('getMetric', `expects a metric name or a function, got ${fmtValue(spec)}`);
  const key = spec.replace(/_/g, '').toLowerCase();
  switch (key) {
    case 'accuracy':
    case 'acc':
    case 'sparsecategoricalaccuracy':
    case 'categoricalaccuracy':
    case 'binaryaccuracy':
      return { name: key === 'acc' ? 'accuracy' : spec, fn: (p, t, ctx) => accuracy(p, t, { fromLogits: ctx.fromLogits }) };
    case 'topkcategoricalaccuracy':
    case 'sparsetopkcategoricalaccuracy':
      return { name: spec, fn: (p, t) => topKAccuracy(p, t, 5) };
    case 'mse':
    case 'meansquarederror':
      return { name: 'mse', fn: (p, t) => noGrad(() => composite([p, t], (tmp) => tmp(tmp(p.sub(t.rank === p.rank ? t : tmp(reshape(t, p.shape)))).square()).mean())) };
    case 'mae':
    case 'meanabsoluteerror':
      return { name: 'mae', fn: (p, t) => noGrad(() => composite([p, t], (tmp) => tmp(tmp(p.sub(t.rank === p.rank ? t : tmp(reshape(t, p.shape)))).abs()).mean())) };
    default:
      throw new AxonError('getMetric', `unknown metric '${spec}'; expected accuracy, sparseCategoricalAccuracy, categoricalAccuracy, binaryAccuracy, topKCategoricalAccuracy, mse, mae or a function`);
  }
}
