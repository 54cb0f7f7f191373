/**
 * Losses (numerically stable), loss modules, and Keras loss names.
 */
import { AxonError, type Tensor, arange, fmtShape, gather, isTensor, logSoftmax, noGrad, reshape, softplus } from '@axon/core';
import { Module } from './module.js';

/**
 * How per-example losses are combined: averaged (default), summed, or returned as is.
 * @example mseLoss(p, t, { reduction: 'sum' })
 */
export type Reduction = 'mean' | 'sum' | 'none';

/**
 * Options every loss accepts.
 * @example { reduction: 'none' }
 */
export interface LossOptions {
  /** Default `'mean'`. */
  reduction?: Reduction;
}

function reduce(op: string, x: Tensor, reduction: Reduction | undefined): Tensor {
  switch (reduction ?? 'mean') {
    case 'mean':
      return x.mean();
    case 'sum':
      return x.sum();
    case 'none':
      return x;
    default:
      throw new AxonError(op, `reduction must be 'mean', 'sum' or 'none', got ${JSON.stringify(reduction)}`);
  }
}

function checkTensors(op: string, pred: unknown, target: unknown): asserts pred is Tensor {
  if (!isTensor(pred)) throw new AxonError(op, `predictions must be a Tensor, got ${typeof pred}`);
  if (!isTensor(target)) throw new AxonError(op, `targets must be a Tensor, got ${typeof target}`);
}

/** Accepts target [N] for predictions [N, 1] (Keras regression style) by viewing it as [N, 1]. */
function alignRegression(op: string, pred: Tensor, target: Tensor): Tensor {
  const ps = pred.shape;
  const ts = target.shape;
  if (ps.length === ts.length && ps.every((d, i) => d === ts[i])) return target;
  if (ps.length === ts.length + 1 && ps[ps.length - 1] === 1 && ts.every((d, i) => d === ps[i])) return reshape(target, ps);
  if (ts.length === ps.length + 1 && ts[ts.length - 1] === 1 && ps.every((d, i) => d === ts[i])) return reshape(target, ps);
  throw new AxonError(op, `predictions ${fmtShape(ps)} and targets ${fmtShape(ts)} must have the same shape`);
}

function asFloat(t: Tensor): Tensor {
  return t.dtype === 'float32' ? t : noGrad(() => t.astype('float32'));
}

/**
 * Mean squared error: mean((pred − target)²). Targets [N] are accepted for predictions [N, 1].
 * @example mseLoss(tensor([[1], [2]]), tensor([[1], [4]])).item() // 2
 */
export function mseLoss(pred: Tensor, target: Tensor, opts: LossOptions = {}): Tensor {
  const op = 'mseLoss';
  checkTensors(op, pred, target);
  const t = asFloat(alignRegression(op, pred, target));
  return reduce(op, pred.sub(t).square(), opts.reduction);
}

/**
 * Mean absolute error: mean(|pred − target|).
 * @example maeLoss(tensor([1, 2]), tensor([2, 2])).item() // 0.5
 */
export function maeLoss(pred: Tensor, target: Tensor, opts: LossOptions = {}): Tensor {
  const op = 'maeLoss';
  checkTensors(op, pred, target);
  const t = asFloat(alignRegression(op, pred, target));
  return reduce(op, pred.sub(t).abs(), opts.reduction);
}

/**
 * Options of {@link crossEntropy}.
 * @example crossEntropy(logits, labels, { labelSmoothing: 0.1 })
 */
export interface CrossEntropyOptions extends LossOptions {
  /** Mixes the target with the uniform distribution: (1−ε)·target + ε/C (default 0). */
  labelSmoothing?: number;
  /**
   * Whether to check sparse labels are in [0, C) (default true; reads the labels back on
   * backends with synchronous reads). `fit` validates once up front and turns this off.
   */
  validate?: boolean;
}

/**
 * Picks `x[i, target[i]]` for each row of a [N, C] tensor (int32 target [N]) via a flat gather,
 * differentiably. @internal
 */
export function pickClass(x: Tensor, target: Tensor): Tensor {
  const n = x.shape[0]!;
  const c = x.shape[1]!;
  const flatIdx = noGrad(() => {
    const rows = arange(n).mul(c);
    const r = rows.add(target);
    rows.dispose();
    return r;
  });
  const flat = reshape(x, [n * c]);
  return gather(flat, flatIdx, 0);
}

/** Sparse labels as int32 [N] for logits [..., C], validated. @internal */
export function sparseLabels(op: string, logits: Tensor, target: Tensor, validate: boolean): Tensor {
  const c = logits.shape[logits.rank - 1]!;
  const lead = logits.shape.slice(0, -1);
  let t = target;
  if (t.rank === lead.length + 1 && t.shape[t.rank - 1] === 1) t = reshape(t, lead);
  if (t.rank !== lead.length || t.shape.some((d, i) => d !== lead[i])) {
    throw new AxonError(op, `sparse targets must have shape ${fmtShape(lead)} (one class index per row of logits ${fmtShape(logits.shape)}), got ${fmtShape(target.shape)}`);
  }
  if (t.dtype !== 'int32') {
    if (t.dtype === 'bool') throw new AxonError(op, 'targets must be int32 class indices or float probabilities, got bool');
    if (validate && t.backend.supportsSyncRead) {
      const d = t.dataSync();
      for (let i = 0; i < d.length; i++) {
        if (!Number.isInteger(d[i])) throw new AxonError(op, `sparse targets must be whole class indices; element ${i} is ${d[i]}`);
      }
    }
    t = noGrad(() => t.astype('int32'));
  }
  if (validate && t.backend.supportsSyncRead) {
    const d = t.dataSync();
    for (let i = 0; i < d.length; i++) {
      if (d[i]! < 0 || d[i]! >= c) throw new AxonError(op, `target ${d[i]} at position ${i} is out of range for ${c} classes (expected 0 <= target < ${c})`);
    }
  }
  return t;
}

/**
 * Cross-entropy from **logits** [N, C] (or [..., C]), computed stably with `logSoftmax`:
 * - int32 class indices (shape [N]; floats holding whole numbers are accepted) use logSoftmax + gather;
 * - float targets shaped like the logits are probabilities (one-hot or soft labels).
 * @example
 * crossEntropy(tensor([[2, 0, 0]]), tensor([0], [1], 'int32')) // ≈ 0.2395
 */
export function crossEntropy(logits: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  checkTensors(op, logits, target);
  if (logits.rank < 1) throw new AxonError(op, `logits must have a class axis, got ${fmtShape(logits.shape)}`);
  if (logits.dtype !== 'float32') throw new AxonError(op, `logits must be float32, got ${logits.dtype}`);
  const eps = opts.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps <= 1)) throw new AxonError(op, `labelSmoothing must be in [0, 1], got ${eps}`);
  const c = logits.shape[logits.rank - 1]!;
  const logp = logSoftmax(logits, -1);
  const dense = target.dtype === 'float32' && target.rank === logits.rank && target.shape.every((d, i) => d === logits.shape[i]) && !(c === 1 && target.rank === 1);
  let perExample: Tensor;
  if (dense) {
    let t = target;
    if (eps > 0) t = noGrad(() => target.mul(1 - eps).add(eps / c));
    perExample = t.mul(logp).sum(-1).neg();
  } else {
    const labels = sparseLabels(op, logits, target, opts.validate ?? true);
    const lead = logits.shape.slice(0, -1);
    const n = lead.reduce((a, b) => a * b, 1);
    const lp2 = reshape(logp, [n, c]);
    const picked = pickClass(lp2, reshape(labels, [n]));
    let nll = picked.neg();
    if (eps > 0) nll = nll.mul(1 - eps).sub(lp2.mean(-1).mul(eps));
    perExample = reshape(nll, lead);
  }
  return reduce(op, perExample, opts.reduction);
}

/**
 * Options of {@link binaryCrossEntropy}.
 * @example binaryCrossEntropy(p, t, { epsilon: 1e-7 })
 */
export interface BCEOptions extends LossOptions {
  /** Probabilities are clamped to [ε, 1−ε] before the log (default 1e-7, as Keras). */
  epsilon?: number;
  /**
   * Whether to check that probabilities and targets lie in [0, 1] (default true), as PyTorch's
   * `binary_cross_entropy` does. The check reads the values back, so it runs only on backends with
   * synchronous reads (WASM); elsewhere the values are not visible on the host and are not checked.
   */
  validate?: boolean;
}

/** Throws unless every element of `t` is in [0, 1] (NaN included, as PyTorch), when readable on the host. */
function checkUnitInterval(op: string, what: 'input' | 'target', t: Tensor): void {
  if (!t.backend.supportsSyncRead || t.dtype === 'bool') return;
  const d = t.dataSync();
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (!(v >= 0 && v <= 1)) {
      const hint = what === 'input' ? ' (binaryCrossEntropy takes probabilities: apply sigmoid first, or use binaryCrossEntropyWithLogits on logits)' : '';
      throw new AxonError(op, `all elements of ${what} should be between 0 and 1; element ${i} of ${what} ${fmtShape(t.shape)} ${t.dtype} is ${v}${hint}`);
    }
  }
}

/**
 * Binary cross-entropy of **probabilities** (clamped to [ε, 1−ε]): −[t·log p + (1−t)·log(1−p)].
 * As PyTorch's `binary_cross_entropy`, probabilities and targets outside [0, 1] (or NaN) are an
 * {@link AxonError} where the values can be read synchronously (see {@link BCEOptions.validate}).
 * @example binaryCrossEntropy(tensor([0.9]), tensor([1])) // ≈ 0.105
 */
export function binaryCrossEntropy(probs: Tensor, target: Tensor, opts: BCEOptions = {}): Tensor {
  const op = 'binaryCrossEntropy';
  checkTensors(op, probs, target);
  const t = asFloat(alignRegression(op, probs, target));
  if (opts.validate ?? true) {
    checkUnitInterval(op, 'input', probs);
    checkUnitInterval(op, 'target', t);
  }
  const e = opts.epsilon ?? 1e-7;
  const p = probs.clip(e, 1 - e);
  const l = t.mul(p.log()).add(t.neg().add(1).mul(p.neg().add(1).log())).neg();
  return reduce(op, l, opts.reduction);
}

/**
 * Binary cross-entropy of **logits**, stable for any x: softplus(x) − x·t.
 * @example binaryCrossEntropyWithLogits(tensor([0]), tensor([1])) // ≈ 0.693
 */
export function binaryCrossEntropyWithLogits(logits: Tensor, target: Tensor, opts: LossOptions = {}): Tensor {
  const op = 'binaryCrossEntropyWithLogits';
  checkTensors(op, logits, target);
  const t = asFloat(alignRegression(op, logits, target));
  return reduce(op, softplus(logits).sub(logits.mul(t)), opts.reduction);
}

/**
 * Sparse categorical cross-entropy of **probabilities** (Keras with `fromLogits: false`):
 * −log(clip(p[target], ε, 1−ε)). Prefer logits with {@link crossEntropy}.
 * @example sparseCrossEntropyFromProbs(softmax(logits), labels)
 */
export function sparseCrossEntropyFromProbs(probs: Tensor, target: Tensor, opts: BCEOptions & { validate?: boolean } = {}): Tensor {
  const op = 'sparseCategoricalCrossentropy';
  checkTensors(op, probs, target);
  const e = opts.epsilon ?? 1e-7;
  const c = probs.shape[probs.rank - 1]!;
  const labels = sparseLabels(op, probs, target, opts.validate ?? true);
  const lead = probs.shape.slice(0, -1);
  const n = lead.reduce((a, b) => a * b, 1);
  const picked = pickClass(reshape(probs, [n, c]), reshape(labels, [n]));
  return reduce(op, reshape(picked.clip(e, 1 - e).log().neg(), lead), opts.reduction);
}

/**
 * Categorical cross-entropy of **probabilities** against one-hot/soft targets: −Σ t·log(clip(p)).
 * @example categoricalCrossEntropyFromProbs(softmax(logits), oneHotTargets)
 */
export function categoricalCrossEntropyFromProbs(probs: Tensor, target: Tensor, opts: BCEOptions = {}): Tensor {
  const op = 'categoricalCrossentropy';
  checkTensors(op, probs, target);
  if (target.rank !== probs.rank || target.shape.some((d, i) => d !== probs.shape[i])) {
    throw new AxonError(op, `targets ${fmtShape(target.shape)} must be one-hot/probabilities shaped like the predictions ${fmtShape(probs.shape)} (use sparseCategoricalCrossentropy for class indices)`);
  }
  const e = opts.epsilon ?? 1e-7;
  const l = asFloat(target).mul(probs.clip(e, 1 - e).log()).sum(-1).neg();
  return reduce(op, l, opts.reduction);
}

// ------------------------------------------------------------------ modules

/**
 * PyTorch's `nn.MSELoss`.
 * @example const lossFn = new MSELoss(); lossFn.call(pred, target)
 */
export class MSELoss extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'MSELoss';
  /** How per-element losses are combined. */
  readonly reduction: Reduction;
  constructor(opts: LossOptions = {}) {
    super();
    this.reduction = opts.reduction ?? 'mean';
  }
  forward(pred: Tensor, target: Tensor): Tensor {
    return mseLoss(pred, target, { reduction: this.reduction });
  }
}

/**
 * PyTorch's `nn.CrossEntropyLoss` (from logits; int32 class indices or probability targets).
 * @example new CrossEntropyLoss({ labelSmoothing: 0.1 }).call(logits, labels)
 */
export class CrossEntropyLoss extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'CrossEntropyLoss';
  /** How per-example losses are combined. */
  readonly reduction: Reduction;
  /** Label smoothing ε. */
  readonly labelSmoothing: number;
  constructor(opts: CrossEntropyOptions = {}) {
    super();
    this.reduction = opts.reduction ?? 'mean';
    this.labelSmoothing = opts.labelSmoothing ?? 0;
  }
  forward(logits: Tensor, target: Tensor): Tensor {
    return crossEntropy(logits, target, { reduction: this.reduction, labelSmoothing: this.labelSmoothing });
  }
}

/**
 * PyTorch's `nn.BCELoss` (probabilities, clamped).
 * @example new BCELoss().call(sigmoid(z), t)
 */
export class BCELoss extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'BCELoss';
  /** How per-element losses are combined. */
  readonly reduction: Reduction;
  constructor(opts: LossOptions = {}) {
    super();
    this.reduction = opts.reduction ?? 'mean';
  }
  forward(probs: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropy(probs, target, { reduction: this.reduction });
  }
}

/**
 * PyTorch's `nn.BCEWithLogitsLoss` (stable).
 * @example new BCEWithLogitsLoss().call(z, t)
 */
export class BCEWithLogitsLoss extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'BCEWithLogitsLoss';
  /** How per-element losses are combined. */
  readonly reduction: Reduction;
  constructor(opts: LossOptions = {}) {
    super();
    this.reduction = opts.reduction ?? 'mean';
  }
  forward(logits: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropyWithLogits(logits, target, { reduction: this.reduction });
  }
}

// ------------------------------------------------------------------ Keras names

/**
 * The kinds of built-in losses (what `compile` uses to fuse a final softmax/sigmoid into the loss).
 * @example const k: LossKind = 'sparseCategorical';
 */
export type LossKind = 'mse' | 'mae' | 'sparseCategorical' | 'categorical' | 'binary' | 'custom';

/**
 * A loss function as `compile` uses it: (predictions, targets) → scalar.
 * @example const f: LossFn = (p, t) => mseLoss(p, t);
 */
export type LossFn = (yPred: Tensor, yTrue: Tensor) => Tensor;

/**
 * A resolved loss: its name, kind, whether it takes logits, and the function.
 * @example getLoss('mse').fn(p, t)
 */
export interface LossSpec {
  readonly name: string;
  readonly kind: LossKind;
  readonly fromLogits: boolean;
  readonly labelSmoothing: number;
  readonly fn: LossFn;
}

/**
 * A Keras loss config: a name plus options.
 * @example { name: 'sparseCategoricalCrossentropy', fromLogits: true }
 */
export interface LossConfig {
  name: string;
  /** Whether predictions are logits (default false, as Keras). */
  fromLogits?: boolean;
  /** Label smoothing for the categorical and binary losses. */
  labelSmoothing?: number;
}

const KERAS_LOSSES: Readonly<Record<string, LossKind>> = {
  meansquarederror: 'mse',
  mse: 'mse',
  meanabsoluteerror: 'mae',
  mae: 'mae',
  sparsecategoricalcrossentropy: 'sparseCategorical',
  categoricalcrossentropy: 'categorical',
  binarycrossentropy: 'binary',
};

/**
 * Every Keras loss name {@link getLoss} accepts (case and underscores ignored).
 * @example LOSS_NAMES.includes('mse') // true
 */
export const LOSS_NAMES: readonly string[] = Object.freeze(['meanSquaredError', 'mse', 'meanAbsoluteError', 'mae', 'sparseCategoricalCrossentropy', 'categoricalCrossentropy', 'binaryCrossentropy']);

/**
 * Builds the loss function of a kind. @internal
 */
export function lossFnOf(kind: LossKind, fromLogits: boolean, labelSmoothing: number, validate = true): LossFn {
  switch (kind) {
    case 'mse':
      return (p, t) => mseLoss(p, t);
    case 'mae':
      return (p, t) => maeLoss(p, t);
    case 'sparseCategorical':
      return fromLogits ? (p, t) => crossEntropy(p, t, { labelSmoothing, validate }) : (p, t) => sparseCrossEntropyFromProbs(p, t, { validate });
    case 'categorical':
      return fromLogits
        ? (p, t) => crossEntropy(p, asFloat(t), { labelSmoothing })
        : (p, t) => categoricalCrossEntropyFromProbs(p, labelSmoothing > 0 ? noGrad(() => asFloat(t).mul(1 - labelSmoothing).add(labelSmoothing / p.shape[p.rank - 1]!)) : t);
    case 'binary': {
      const smooth = (t: Tensor): Tensor => (labelSmoothing > 0 ? noGrad(() => asFloat(t).mul(1 - labelSmoothing).add(labelSmoothing / 2)) : t);
      return fromLogits ? (p, t) => binaryCrossEntropyWithLogits(p, smooth(t)) : (p, t) => binaryCrossEntropy(p, smooth(t));
    }
    default:
      throw new AxonError('getLoss', `no built-in function for loss kind '${kind}'`);
  }
}

/**
 * Resolves a Keras loss name (`'meanSquaredError'`/`'mse'`, `'sparseCategoricalCrossentropy'`,
 * `'categoricalCrossentropy'`, `'binaryCrossentropy'`, `'mae'`; case and underscores ignored),
 * a config `{ name, fromLogits, labelSmoothing }`, or a function.
 * @example getLoss({ name: 'sparseCategoricalCrossentropy', fromLogits: true })
 */
export function getLoss(spec: string | LossConfig | LossFn): LossSpec {
  if (typeof spec === 'function') return { name: spec.name || 'loss', kind: 'custom', fromLogits: false, labelSmoothing: 0, fn: spec };
  const cfg: LossConfig | null = typeof spec === 'string' ? { name: spec } : spec !== null && typeof spec === 'object' && typeof spec.name === 'string' ? spec : null;
  if (!cfg) throw new AxonError('getLoss', `expects a loss name (${LOSS_NAMES.join(', ')}), a config { name, fromLogits } or a function (yPred, yTrue) => Tensor`);
  const key = cfg.name.replace(/_/g, '').toLowerCase();
  // Own keys only: 'toString' or 'constructor' must not resolve through the prototype chain.
  const kind = Object.hasOwn(KERAS_LOSSES, key) ? KERAS_LOSSES[key] : undefined;
  if (!kind) throw new AxonError('getLoss', `unknown loss '${cfg.name}'; expected one of ${LOSS_NAMES.join(', ')}`);
  const fromLogits = cfg.fromLogits ?? false;
  const labelSmoothing = cfg.labelSmoothing ?? 0;
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) throw new AxonError('getLoss', `labelSmoothing must be in [0, 1], got ${labelSmoothing}`);
  return { name: cfg.name, kind, fromLogits, labelSmoothing, fn: lossFnOf(kind, fromLogits, labelSmoothing) };
}
