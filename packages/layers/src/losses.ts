/**
 * Losses (numerically stable), loss modules, and Keras loss names.
 */
import { AxonError, type Tensor, arange, fmtShape, fmtValue, gather, logSoftmax, noGrad, ones, reshape, softplus, validationRead, where } from '@axon/core';
import { Module } from './module.js';
import { checkFinite, checkTensor, composite, optBool, optionsOf } from './validate.js';

/**
 * How per-example losses are combined: averaged (default), summed, or returned as is.
 * @example
 * const reduction: Reduction = 'sum';
 * mseLoss(tensor([1, 2]), tensor([0, 0]), { reduction }) // 5
 * mseLoss(tensor([1, 2]), tensor([0, 0]), { reduction: 'none' }) // [1, 4]
 */
export type Reduction = 'mean' | 'sum' | 'none';

/**
 * Options every loss accepts.
 * @example
 * const opts: LossOptions = { reduction: 'none' };
 * maeLoss(tensor([1, -2]), tensor([0, 0]), opts) // [1, 2]
 */
export interface LossOptions {
  /** Default `'mean'`. */
  reduction?: Reduction;
}

/** Checks a reduction (before anything is computed). */
function reductionOf(op: string, r: unknown): Reduction {
  if (r === undefined) return 'mean';
  if (r !== 'mean' && r !== 'sum' && r !== 'none') throw new AxonError(op, `reduction must be 'mean', 'sum' or 'none', got ${fmtValue(r)}`);
  return r;
}

function reduce(x: Tensor, reduction: Reduction): Tensor {
  return reduction === 'mean' ? x.mean() : reduction === 'sum' ? x.sum() : x;
}

/** The options of a loss, checked: a plain object with known keys and valid values. */
function lossOptions<T extends LossOptions>(op: string, opts: unknown, keys: readonly string[]): T & { reduction: Reduction } {
  const o = optionsOf<T>(op, opts, ['reduction', ...keys]);
  return { ...o, reduction: reductionOf(op, o.reduction) };
}

/** `epsilon` of the probability losses: a number in [0, 0.5) (probabilities are clamped to [ε, 1−ε]). */
function epsilonOf(op: string, e: unknown): number {
  if (e === undefined) return 1e-7;
  if (typeof e !== 'number' || !(e >= 0 && e < 0.5)) throw new AxonError(op, `epsilon must be a number in [0, 0.5), got ${fmtValue(e)}`);
  return e;
}

function checkTensors(op: string, pred: unknown, target: unknown): asserts pred is Tensor {
  checkTensor(op, 'predictions', pred);
  checkTensor(op, 'targets', target);
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
  const { reduction } = lossOptions(op, opts, []);
  checkTensors(op, pred, target);
  return composite([pred, target], (tmp) => {
    const t = tmp(asFloat(tmp(alignRegression(op, pred, target))));
    return reduce(tmp(tmp(pred.sub(t)).square()), reduction);
  });
}

/**
 * Mean absolute error: mean(|pred − target|).
 * @example maeLoss(tensor([1, 2]), tensor([2, 2])).item() // 0.5
 */
export function maeLoss(pred: Tensor, target: Tensor, opts: LossOptions = {}): Tensor {
  const op = 'maeLoss';
  const { reduction } = lossOptions(op, opts, []);
  checkTensors(op, pred, target);
  return composite([pred, target], (tmp) => {
    const t = tmp(asFloat(tmp(alignRegression(op, pred, target))));
    return reduce(tmp(tmp(pred.sub(t)).abs()), reduction);
  });
}

/**
 * Options of {@link crossEntropy}.
 * @example
 * const opts: CrossEntropyOptions = { labelSmoothing: 0.1, reduction: 'none' };
 * crossEntropy(tensor([[0, 0], [2, 0]]), tensor([0, 1], [2], 'int32'), opts) // [0.6931, 2.0269]
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
  return composite([x, target], (tmp) => {
    const flatIdx = tmp(noGrad(() => composite([target], (tmp2) => tmp2(tmp2(arange(n)).mul(c)).add(target))));
    const flat = tmp(reshape(x, [n * c]));
    const out = gather(flat, flatIdx, 0);
    // gather's gradient reads the indices (kept in its attributes, not its inputs): they live as
    // long as the graph, like every tensor autograd saved
    if (out.requiresGrad) flatIdx.savedForBackward = true;
    return out;
  });
}

/** Sparse labels as int32 [N] for logits [..., C], validated. @internal */
export function sparseLabels(op: string, logits: Tensor, target: Tensor, validate: boolean): Tensor {
  const c = logits.shape[logits.rank - 1]!;
  const lead = logits.shape.slice(0, -1);
  const squeeze = target.rank === lead.length + 1 && target.shape[target.rank - 1] === 1;
  const ts = squeeze ? target.shape.slice(0, -1) : target.shape;
  // checked before anything is created
  if (ts.length !== lead.length || ts.some((d, i) => d !== lead[i])) {
    throw new AxonError(op, `sparse targets must have shape ${fmtShape(lead)} (one class index per row of logits ${fmtShape(logits.shape)}), got ${fmtShape(target.shape)}`);
  }
  if (target.dtype === 'bool') throw new AxonError(op, 'targets must be int32 class indices or float probabilities, got bool');
  return composite([target], (tmp) => {
    let t = squeeze ? tmp(reshape(target, lead)) : target;
    if (t.dtype !== 'int32') {
      if (validate && t.backend.supportsSyncRead) {
        validationRead(t, (d) => {
          for (let i = 0; i < d.length; i++) {
            if (!Number.isInteger(d[i])) throw new AxonError(op, `sparse targets must be whole class indices; element ${i} is ${d[i]}`);
          }
        });
      }
      const f = t;
      t = tmp(noGrad(() => f.astype('int32')));
    }
    if (validate && t.backend.supportsSyncRead) {
      // a validation read: inside compile() it runs again on every replay
      validationRead(t, (d) => {
        for (let i = 0; i < d.length; i++) {
          if (d[i]! < 0 || d[i]! >= c) throw new AxonError(op, `target ${d[i]} at position ${i} is out of range for ${c} classes (expected 0 <= target < ${c})`);
        }
      });
    }
    // the caller's own target when nothing had to change (callers never free it)
    return t;
  });
}

/**
 * Cross-entropy from **logits** [N, C] (or [..., C]), computed stably with `logSoftmax`:
 * - int32 class indices (shape [N]; floats holding whole numbers are accepted) use logSoftmax + gather;
 * - float targets shaped like the logits are probabilities (one-hot or soft labels).
 * @example
 * crossEntropy(tensor([[2, 0, 0]]), tensor([0], [1], 'int32')) // 0.2395
 * crossEntropy(tensor([[2, 0, 0]]), tensor([[1, 0, 0]])) // 0.2395
 */
export function crossEntropy(logits: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  const o = lossOptions<CrossEntropyOptions>(op, opts, ['labelSmoothing', 'validate']);
  const eps = o.labelSmoothing === undefined ? 0 : checkFinite(op, 'labelSmoothing', o.labelSmoothing, 0, 1);
  const validate = optBool(op, 'validate', o.validate) ?? true;
  checkTensors(op, logits, target);
  if (logits.rank < 1) throw new AxonError(op, `logits must have a class axis, got ${fmtShape(logits.shape)}`);
  if (logits.dtype !== 'float32') throw new AxonError(op, `logits must be float32, got ${logits.dtype}`);
  const c = logits.shape[logits.rank - 1]!;
  const dense = target.dtype === 'float32' && target.rank === logits.rank && target.shape.every((d, i) => d === logits.shape[i]) && !(c === 1 && target.rank === 1);
  return composite([logits, target], (tmp) => {
    let perExample: Tensor;
    if (dense) {
      const logp = tmp(logSoftmax(logits, -1));
      const t = eps > 0 ? tmp(noGrad(() => composite([target], (tmp2) => tmp2(target.mul(1 - eps)).add(eps / c)))) : target;
      perExample = tmp(tmp(tmp(t.mul(logp)).sum(-1)).neg());
    } else {
      // the labels are checked (shape, range) before the logits are touched
      const labels = tmp(sparseLabels(op, logits, target, validate));
      const logp = tmp(logSoftmax(logits, -1));
      const lead = logits.shape.slice(0, -1);
      const n = lead.reduce((a, b) => a * b, 1);
      const lp2 = tmp(reshape(logp, [n, c]));
      const picked = tmp(pickClass(lp2, tmp(reshape(labels, [n]))));
      let nll = tmp(picked.neg());
      if (eps > 0) nll = tmp(tmp(nll.mul(1 - eps)).sub(tmp(tmp(lp2.mean(-1)).mul(eps))));
      perExample = tmp(reshape(nll, lead));
    }
    return reduce(perExample, o.reduction);
  });
}

/**
 * Options of {@link binaryCrossEntropy}.
 * @example
 * const opts: BCEOptions = { epsilon: 1e-7 };
 * binaryCrossEntropy(tensor([0, 1]), tensor([0, 1]), opts).item() < 1e-6 // true
 * binaryCrossEntropy(tensor([1.5]), tensor([1])) // throws: 'should be between 0 and 1'
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
 * @example binaryCrossEntropy(tensor([0.9]), tensor([1])) // 0.1054
 */
export function binaryCrossEntropy(probs: Tensor, target: Tensor, opts: BCEOptions = {}): Tensor {
  const op = 'binaryCrossEntropy';
  const o = lossOptions<BCEOptions>(op, opts, ['epsilon', 'validate']);
  const e = epsilonOf(op, o.epsilon);
  const validate = optBool(op, 'validate', o.validate) ?? true;
  checkTensors(op, probs, target);
  if (probs.dtype !== 'float32') throw new AxonError(op, `probabilities must be float32, got ${probs.dtype} ${fmtShape(probs.shape)}`);
  return composite([probs, target], (tmp) => {
    const t = tmp(asFloat(tmp(alignRegression(op, probs, target))));
    if (validate) {
      checkUnitInterval(op, 'input', probs);
      checkUnitInterval(op, 'target', t);
    }
    const p = tmp(probs.clip(e, 1 - e));
    const pos = tmp(t.mul(tmp(p.log())));
    const neg = tmp(tmp(tmp(t.neg()).add(1)).mul(tmp(tmp(tmp(p.neg()).add(1)).log())));
    const l = tmp(tmp(pos.add(neg)).neg());
    return reduce(l, o.reduction);
  });
}

/**
 * Binary cross-entropy of **logits**, stable for any x: softplus(x) − x·t.
 * @example binaryCrossEntropyWithLogits(tensor([0, 100]), tensor([1, 1])) // 0.3466
 */
export function binaryCrossEntropyWithLogits(logits: Tensor, target: Tensor, opts: LossOptions = {}): Tensor {
  const op = 'binaryCrossEntropyWithLogits';
  const { reduction } = lossOptions(op, opts, []);
  checkTensors(op, logits, target);
  if (logits.dtype !== 'float32') throw new AxonError(op, `logits must be float32, got ${logits.dtype} ${fmtShape(logits.shape)}`);
  return composite([logits, target], (tmp) => {
    const t = tmp(asFloat(tmp(alignRegression(op, logits, target))));
    return reduce(tmp(tmp(softplus(logits)).sub(tmp(logits.mul(t)))), reduction);
  });
}

/**
 * Sparse categorical cross-entropy of **probabilities** (Keras with `fromLogits: false`):
 * −log(clip(p[target], ε, 1−ε)). Prefer logits with {@link crossEntropy}.
 * @example sparseCrossEntropyFromProbs(tensor([[0.5, 0.5], [0.9, 0.1]]), tensor([0, 0], [2], 'int32')) // 0.3993
 */
export function sparseCrossEntropyFromProbs(probs: Tensor, target: Tensor, opts: BCEOptions & { validate?: boolean } = {}): Tensor {
  const op = 'sparseCategoricalCrossentropy';
  const o = lossOptions<BCEOptions>(op, opts, ['epsilon', 'validate']);
  const e = epsilonOf(op, o.epsilon);
  const validate = optBool(op, 'validate', o.validate) ?? true;
  checkTensors(op, probs, target);
  if (probs.rank < 1 || probs.dtype !== 'float32') throw new AxonError(op, `probabilities must be float32 with a class axis, got ${probs.dtype} ${fmtShape(probs.shape)}`);
  const c = probs.shape[probs.rank - 1]!;
  return composite([probs, target], (tmp) => {
    const labels = tmp(sparseLabels(op, probs, target, validate));
    const lead = probs.shape.slice(0, -1);
    const n = lead.reduce((a, b) => a * b, 1);
    const picked = tmp(pickClass(tmp(reshape(probs, [n, c])), tmp(reshape(labels, [n]))));
    const nll = tmp(tmp(tmp(picked.clip(e, 1 - e)).log()).neg());
    return reduce(tmp(reshape(nll, lead)), o.reduction);
  });
}

/**
 * Categorical cross-entropy of **probabilities** against one-hot/soft targets: −Σ t·log(clip(p)).
 * @example categoricalCrossEntropyFromProbs(tensor([[0.5, 0.5], [0.9, 0.1]]), tensor([[1, 0], [1, 0]])) // 0.3993
 */
export function categoricalCrossEntropyFromProbs(probs: Tensor, target: Tensor, opts: BCEOptions = {}): Tensor {
  const op = 'categoricalCrossentropy';
  const o = lossOptions<BCEOptions>(op, opts, ['epsilon', 'validate']);
  const e = epsilonOf(op, o.epsilon);
  optBool(op, 'validate', o.validate);
  checkTensors(op, probs, target);
  if (probs.rank < 1 || probs.dtype !== 'float32') throw new AxonError(op, `probabilities must be float32 with a class axis, got ${probs.dtype} ${fmtShape(probs.shape)}`);
  if (target.rank !== probs.rank || target.shape.some((d, i) => d !== probs.shape[i])) {
    throw new AxonError(op, `targets ${fmtShape(target.shape)} must be one-hot/probabilities shaped like the predictions ${fmtShape(probs.shape)} (use sparseCategoricalCrossentropy for class indices)`);
  }
  if (target.dtype === 'bool') throw new AxonError(op, `targets must be float32 (or int32) one-hot/probabilities, got bool ${fmtShape(target.shape)}`);
  return composite([probs, target], (tmp) => {
    const logp = tmp(tmp(probs.clip(e, 1 - e)).log());
    const l = tmp(tmp(tmp(tmp(asFloat(target)).mul(logp)).sum(-1)).neg());
    return reduce(l, o.reduction);
  });
}

// ------------------------------------------------------------------ PyTorch's other losses

/**
 * Options of {@link nllLoss} (PyTorch's `nll_loss`).
 * @example
 * const opts: NLLLossOptions = { ignoreIndex: 1, weight: tensor([1, 2]) };
 * nllLoss(tensor([[-1, -2], [-3, -4]]), tensor([0, 1], [2], 'int32'), opts) // 1
 */
export interface NLLLossOptions extends LossOptions {
  /** A weight per class [C] (default: all 1). */
  weight?: Tensor;
  /** Targets equal to it add nothing, to the sum nor to the mean's denominator (default −100). */
  ignoreIndex?: number;
  /** Whether to check that targets are in [0, C) or ignoreIndex (default true; reads them back on backends with synchronous reads). */
  validate?: boolean;
}

/**
 * The negative log-likelihood of **log-probabilities** (PyTorch's `nll_loss`): input [N, C] (or
 * [N, C, d1, …], or unbatched [C]) and int32 class indices [N] ([N, d1, …], or a scalar):
 * `−weight[t]·input[n, t]`; `'mean'` divides by the summed weights of the targets not ignored.
 * @example
 * const logp = logSoftmax(tensor([[2, 0, 0], [0, 0, 2]]));
 * nllLoss(logp, tensor([0, 2], [2], 'int32')) // 0.2395
 * nllLoss(logp, tensor([0, -100], [2], 'int32'), { reduction: 'none' }) // [0.2395, 0]
 */
export function nllLoss(input: Tensor, target: Tensor, opts: NLLLossOptions = {}): Tensor {
  const op = 'nllLoss';
  const o = lossOptions<NLLLossOptions>(op, opts, ['weight', 'ignoreIndex', 'validate']);
  const ignore = o.ignoreIndex === undefined ? -100 : o.ignoreIndex;
  if (!Number.isInteger(ignore)) throw new AxonError(op, `ignoreIndex must be an integer, got ${fmtValue(o.ignoreIndex)}`);
  const validate = optBool(op, 'validate', o.validate) ?? true;
  checkTensor(op, 'input', input);
  checkTensor(op, 'target', target);
  if (input.dtype !== 'float32') throw new AxonError(op, `input must be float32 log-probabilities, got ${input.dtype} ${fmtShape(input.shape)}`);
  if (target.dtype !== 'int32') throw new AxonError(op, `target must be int32 class indices, got ${target.dtype} ${fmtShape(target.shape)} (convert with .astype('int32'))`);
  const unbatched = input.rank === 1;
  if (input.rank < 1) throw new AxonError(op, `input must be [C], [N, C] or [N, C, d1, ...], got ${fmtShape(input.shape)}`);
  const c = unbatched ? input.shape[0]! : input.shape[1]!;
  const want = unbatched ? [] : [input.shape[0]!, ...input.shape.slice(2)];
  if (target.rank !== want.length || target.shape.some((d, i) => d !== want[i])) {
    throw new AxonError(op, `target must have shape ${fmtShape(want)} (one class index per row of input ${fmtShape(input.shape)}, whose class axis is ${unbatched ? 0 : 1}), got ${fmtShape(target.shape)}`);
  }
  const weight = o.weight;
  if (weight !== undefined) {
    checkTensor(op, 'weight', weight);
    if (weight.dtype !== 'float32' || weight.rank !== 1 || weight.shape[0] !== c) throw new AxonError(op, `weight must be float32 [${c}] (one per class), got ${weight.dtype} ${fmtShape(weight.shape)}`);
  }
  if (validate && target.backend.supportsSyncRead) {
    validationRead(target, (d) => {
      for (let i = 0; i < d.length; i++) {
        if (d[i] !== ignore && !(d[i]! >= 0 && d[i]! < c)) throw new AxonError(op, `target ${d[i]} at position ${i} is out of range for ${c} classes (expected 0 <= target < ${c}, or ignoreIndex ${ignore})`);
      }
    });
  }
  const m = want.reduce((a, b) => a * b, 1);
  return composite([input, target, weight], (tmp) => {
    // classes last: [M, C]
    const perm = unbatched ? [0] : [0, ...input.shape.slice(2).map((_, i) => i + 2), 1];
    const x2 = tmp(reshape(unbatched ? input : tmp(input.permute(perm)), [m, c]));
    const t1 = tmp(reshape(target, [m]));
    // ignored targets pick class 0 with weight 0
    const keep = tmp(noGrad(() => t1.ne(ignore)));
    const safeT = tmp(noGrad(() => where(keep, t1, 0)));
    const wt = weight ? tmp(noGrad(() => gather(weight, safeT, 0))) : tmp(ones([m]));
    const w = tmp(noGrad(() => where(keep, wt, 0)));
    const picked = tmp(pickClass(x2, safeT));
    const l = tmp(tmp(picked.mul(w)).neg());
    if (o.reduction === 'none') return reshape(l, want);
    if (o.reduction === 'sum') return l.sum();
    return tmp(l.sum()).div(tmp(w.sum()));
  });
}

/** Elementwise regression loss of `pred − target` (same shapes, Keras' [N] for [N, 1] allowed). */
function pointwise(op: string, pred: Tensor, target: Tensor, reduction: Reduction, f: (d: Tensor, tmp: <T extends Tensor>(t: T) => T) => Tensor): Tensor {
  checkTensors(op, pred, target);
  if (pred.dtype !== 'float32') throw new AxonError(op, `input must be float32, got ${pred.dtype} ${fmtShape(pred.shape)}`);
  return composite([pred, target], (tmp) => {
    const t = tmp(asFloat(tmp(alignRegression(op, pred, target))));
    return reduce(tmp(f(tmp(pred.sub(t)), tmp)), reduction);
  });
}

/**
 * Mean absolute error (PyTorch's `l1_loss`): mean(|input − target|).
 * @example
 * l1Loss(tensor([1, 2, 3]), tensor([1, 0, 0])) // 1.6667
 * l1Loss(tensor([1, -2]), tensor([0, 0]), { reduction: 'sum' }) // 3
 */
export function l1Loss(input: Tensor, target: Tensor, opts: LossOptions = {}): Tensor {
  const { reduction } = lossOptions('l1Loss', opts, []);
  return pointwise('l1Loss', input, target, reduction, (d) => d.abs());
}

/**
 * Options of {@link huberLoss}.
 * @example
 * const opts: HuberLossOptions = { delta: 2 };
 * huberLoss(tensor([3]), tensor([0]), opts) // 4
 */
export interface HuberLossOptions extends LossOptions {
  /** Where the loss turns from quadratic to linear (default 1, > 0). */
  delta?: number;
}

/**
 * The Huber loss (PyTorch's `huber_loss`, Keras' `'huber'`): with d = |input − target|,
 * 0.5·d² where d < delta, delta·(d − 0.5·delta) elsewhere.
 * @example
 * huberLoss(tensor([0.5, 3]), tensor([0, 0]), { reduction: 'none' }) // [0.125, 2.5]
 * huberLoss(tensor([0.5, 3]), tensor([0, 0])) // 1.3125
 */
export function huberLoss(input: Tensor, target: Tensor, opts: HuberLossOptions = {}): Tensor {
  const op = 'huberLoss';
  const o = lossOptions<HuberLossOptions>(op, opts, ['delta']);
  const delta = o.delta === undefined ? 1 : checkFinite(op, 'delta', o.delta, Number.MIN_VALUE);
  return pointwise(op, input, target, o.reduction, (d, tmp) => {
    const a = tmp(d.abs());
    return where(tmp(a.lt(delta)), tmp(tmp(a.square()).mul(0.5)), tmp(tmp(a.sub(0.5 * delta)).mul(delta)));
  });
}

/**
 * Options of {@link smoothL1Loss}.
 * @example
 * const opts: SmoothL1LossOptions = { beta: 0.5 };
 * smoothL1Loss(tensor([0.25]), tensor([0]), opts) // 0.0625
 */
export interface SmoothL1LossOptions extends LossOptions {
  /** Where the loss turns from quadratic to linear (default 1, >= 0; 0 is the L1 loss). */
  beta?: number;
}

/**
 * The smooth L1 loss (PyTorch's `smooth_l1_loss`): with d = |input − target|, 0.5·d²/beta where
 * d < beta, d − 0.5·beta elsewhere (huberLoss / delta for delta = beta).
 * @example
 * smoothL1Loss(tensor([0.5, 3]), tensor([0, 0]), { reduction: 'none' }) // [0.125, 2.5]
 * smoothL1Loss(tensor([0.5, 3]), tensor([0, 0]), { beta: 2, reduction: 'none' }) // [0.0625, 2]
 */
export function smoothL1Loss(input: Tensor, target: Tensor, opts: SmoothL1LossOptions = {}): Tensor {
  const op = 'smoothL1Loss';
  const o = lossOptions<SmoothL1LossOptions>(op, opts, ['beta']);
  const beta = o.beta === undefined ? 1 : checkFinite(op, 'beta', o.beta, 0);
  return pointwise(op, input, target, o.reduction, (d, tmp) => {
    const a = tmp(d.abs());
    if (beta === 0) return a;
    return where(tmp(a.lt(beta)), tmp(tmp(a.square()).mul(0.5 / beta)), tmp(a.sub(0.5 * beta)));
  });
}

/**
 * Reductions of {@link klDivLoss}: {@link Reduction}s and `'batchmean'` (the sum divided by the
 * batch size, the KL divergence's definition).
 * @example
 * const r: KLDivReduction = 'batchmean';
 * klDivLoss(tensor([[0, 0]]), tensor([[0.5, 0.5]]), { reduction: r }) // -0.6931
 */
export type KLDivReduction = Reduction | 'batchmean';

/**
 * Options of {@link klDivLoss}.
 * @example
 * const opts: KLDivLossOptions = { reduction: 'batchmean', logTarget: true };
 * klDivLoss(tensor([[-1, -1]]), tensor([[-1, -1]]), opts) // 0
 */
export interface KLDivLossOptions {
  /** Default `'mean'` (over every element, as PyTorch); `'batchmean'` is the KL divergence per example. */
  reduction?: KLDivReduction;
  /** Whether the target is given as log-probabilities too (default false). */
  logTarget?: boolean;
}

/**
 * The Kullback-Leibler divergence loss (PyTorch's `kl_div`): input holds **log-probabilities**,
 * target probabilities (or log-probabilities with `logTarget`); pointwise
 * `target·(log target − input)` (0 where target is 0).
 * @example
 * const logp = logSoftmax(tensor([[0, 1], [1, 0]]));
 * klDivLoss(logp, tensor([[0.5, 0.5], [0.5, 0.5]]), { reduction: 'batchmean' }) // 0.1201
 * klDivLoss(logp, tensor([[0.5, 0.5], [0.5, 0.5]]), { reduction: 'none' }) // [[0.3101, -0.1899], [-0.1899, 0.3101]]
 */
export function klDivLoss(input: Tensor, target: Tensor, opts: KLDivLossOptions = {}): Tensor {
  const op = 'klDivLoss';
  const o = optionsOf<KLDivLossOptions>(op, opts, ['reduction', 'logTarget']);
  const r: unknown = o.reduction ?? 'mean';
  if (r !== 'mean' && r !== 'sum' && r !== 'none' && r !== 'batchmean') throw new AxonError(op, `reduction must be 'mean', 'batchmean', 'sum' or 'none', got ${fmtValue(r)}`);
  const logTarget = optBool(op, 'logTarget', o.logTarget) ?? false;
  checkTensor(op, 'input', input);
  checkTensor(op, 'target', target);
  if (input.dtype !== 'float32') throw new AxonError(op, `input must be float32 log-probabilities, got ${input.dtype} ${fmtShape(input.shape)}`);
  if (target.rank !== input.rank || target.shape.some((d, i) => d !== input.shape[i])) throw new AxonError(op, `target ${fmtShape(target.shape)} must have the shape of input ${fmtShape(input.shape)}`);
  return composite([input, target], (tmp) => {
    const t = tmp(asFloat(target));
    let l: Tensor;
    if (logTarget) l = tmp(tmp(t.exp()).mul(tmp(t.sub(input))));
    else {
      const pos = tmp(t.gt(0));
      const safe = tmp(where(pos, t, 1));
      const xlogx = tmp(where(pos, tmp(t.mul(tmp(safe.log()))), 0));
      l = tmp(xlogx.sub(tmp(t.mul(input))));
    }
    if (r === 'batchmean') return input.rank === 0 ? l : tmp(l.sum()).div(input.shape[0]!);
    return reduce(l, r);
  });
}

/**
 * Keras' `kl_divergence` on **probabilities**: Σ t·log(t / p) over the last axis with both clipped
 * to [1e-7, 1], averaged over the batch.
 * @example klDivergenceFromProbs(tensor([[0.5, 0.5]]), tensor([[0.9, 0.1]])) // 0.3681
 */
export function klDivergenceFromProbs(yPred: Tensor, yTrue: Tensor): Tensor {
  const op = 'klDivergence';
  checkTensors(op, yPred, yTrue);
  if (yPred.rank < 1 || yTrue.rank !== yPred.rank || yTrue.shape.some((d, i) => d !== yPred.shape[i])) throw new AxonError(op, `targets ${fmtShape(yTrue.shape)} must be probabilities shaped like the predictions ${fmtShape(yPred.shape)}`);
  return composite([yPred, yTrue], (tmp) => {
    const t = tmp(tmp(asFloat(yTrue)).clip(1e-7, 1));
    const p = tmp(yPred.clip(1e-7, 1));
    return tmp(tmp(tmp(t.mul(tmp(tmp(t.log()).sub(tmp(p.log()))))).sum(-1)).mean());
  });
}

// ------------------------------------------------------------------ modules

/**
 * PyTorch's `nn.MSELoss`.
 * @example
 * const lossFn = new MSELoss();
 * lossFn.call(tensor([1, 2]), tensor([1, 4])) // 2
 */
export class MSELoss extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'MSELoss';
  /** How per-element losses are combined. */
  readonly reduction: Reduction;
  constructor(opts: LossOptions = {}) {
    const { reduction } = lossOptions('MSELoss', opts, []);
    super();
    this.reduction = reduction;
  }
  forward(pred: Tensor, target: Tensor): Tensor {
    return mseLoss(pred, target, { reduction: this.reduction });
  }
}

/**
 * PyTorch's `nn.CrossEntropyLoss` (from logits; int32 class indices or probability targets).
 * @example new CrossEntropyLoss({ labelSmoothing: 0.1 }).call(tensor([[0, 0], [2, 0]]), tensor([0, 1], [2], 'int32')) // 1.36
 */
export class CrossEntropyLoss extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'CrossEntropyLoss';
  /** How per-example losses are combined. */
  readonly reduction: Reduction;
  /** Label smoothing ε. */
  readonly labelSmoothing: number;
  constructor(opts: CrossEntropyOptions = {}) {
    const o = lossOptions<CrossEntropyOptions>('CrossEntropyLoss', opts, ['labelSmoothing']);
    const eps = o.labelSmoothing === undefined ? 0 : checkFinite('CrossEntropyLoss', 'labelSmoothing', o.labelSmoothing, 0, 1);
    super();
    this.reduction = o.reduction;
    this.labelSmoothing = eps;
  }
  forward(logits: Tensor, target: Tensor): Tensor {
    return crossEntropy(logits, target, { reduction: this.reduction, labelSmoothing: this.labelSmoothing });
  }
}

/**
 * PyTorch's `nn.BCELoss` (probabilities, clamped).
 * @example new BCELoss().call(sigmoid(tensor([0])), tensor([1])) // 0.6931
 */
export class BCELoss extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'BCELoss';
  /** How per-element losses are combined. */
  readonly reduction: Reduction;
  constructor(opts: LossOptions = {}) {
    const { reduction } = lossOptions('BCELoss', opts, []);
    super();
    this.reduction = reduction;
  }
  forward(probs: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropy(probs, target, { reduction: this.reduction });
  }
}

/**
 * PyTorch's `nn.BCEWithLogitsLoss` (stable).
 * @example new BCEWithLogitsLoss().call(tensor([0]), tensor([1])) // 0.6931
 */
export class BCEWithLogitsLoss extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'BCEWithLogitsLoss';
  /** How per-element losses are combined. */
  readonly reduction: Reduction;
  constructor(opts: LossOptions = {}) {
    const { reduction } = lossOptions('BCEWithLogitsLoss', opts, []);
    super();
    this.reduction = reduction;
  }
  forward(logits: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropyWithLogits(logits, target, { reduction: this.reduction });
  }
}

/**
 * PyTorch's `nn.NLLLoss` (log-probabilities and int32 class indices; `weight`, `ignoreIndex`).
 * @example new NLLLoss({ ignoreIndex: 0 }).call(tensor([[-1, -2], [-3, -4]]), tensor([0, 1], [2], 'int32')) // 4
 */
export class NLLLoss extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'NLLLoss';
  /** How per-example losses are combined. */
  readonly reduction: Reduction;
  /** Ignored target value. */
  readonly ignoreIndex: number;
  /** Class weights, when given (the caller's tensor: not freed by dispose). */
  readonly weight: Tensor | null;
  constructor(opts: NLLLossOptions = {}) {
    const o = lossOptions<NLLLossOptions>('NLLLoss', opts, ['weight', 'ignoreIndex']);
    const ignore = o.ignoreIndex ?? -100;
    if (!Number.isInteger(ignore)) throw new AxonError('NLLLoss', `ignoreIndex must be an integer, got ${fmtValue(o.ignoreIndex)}`);
    if (o.weight !== undefined) checkTensor('NLLLoss', 'weight', o.weight);
    super();
    this.reduction = o.reduction;
    this.ignoreIndex = ignore;
    this.weight = o.weight ?? null;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return nllLoss(input, target, { reduction: this.reduction, ignoreIndex: this.ignoreIndex, ...(this.weight ? { weight: this.weight } : {}) });
  }
}

/**
 * PyTorch's `nn.L1Loss`.
 * @example new L1Loss().call(tensor([1, 2]), tensor([0, 0])) // 1.5
 */
export class L1Loss extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'L1Loss';
  /** How per-element losses are combined. */
  readonly reduction: Reduction;
  constructor(opts: LossOptions = {}) {
    const { reduction } = lossOptions('L1Loss', opts, []);
    super();
    this.reduction = reduction;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return l1Loss(input, target, { reduction: this.reduction });
  }
}

/**
 * PyTorch's `nn.HuberLoss` (`delta` default 1).
 * @example new HuberLoss({ delta: 2 }).call(tensor([1, 3]), tensor([0, 0])) // 2.25
 */
export class HuberLoss extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'HuberLoss';
  /** How per-element losses are combined. */
  readonly reduction: Reduction;
  /** The quadratic/linear threshold. */
  readonly delta: number;
  constructor(opts: HuberLossOptions = {}) {
    const o = lossOptions<HuberLossOptions>('HuberLoss', opts, ['delta']);
    const delta = o.delta === undefined ? 1 : checkFinite('HuberLoss', 'delta', o.delta, Number.MIN_VALUE);
    super();
    this.reduction = o.reduction;
    this.delta = delta;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return huberLoss(input, target, { reduction: this.reduction, delta: this.delta });
  }
}

/**
 * PyTorch's `nn.SmoothL1Loss` (`beta` default 1).
 * @example new SmoothL1Loss({ beta: 2 }).call(tensor([1, 3]), tensor([0, 0])) // 1.125
 */
export class SmoothL1Loss extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'SmoothL1Loss';
  /** How per-element losses are combined. */
  readonly reduction: Reduction;
  /** The quadratic/linear threshold. */
  readonly beta: number;
  constructor(opts: SmoothL1LossOptions = {}) {
    const o = lossOptions<SmoothL1LossOptions>('SmoothL1Loss', opts, ['beta']);
    const beta = o.beta === undefined ? 1 : checkFinite('SmoothL1Loss', 'beta', o.beta, 0);
    super();
    this.reduction = o.reduction;
    this.beta = beta;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return smoothL1Loss(input, target, { reduction: this.reduction, beta: this.beta });
  }
}

/**
 * PyTorch's `nn.KLDivLoss` (input log-probabilities; `reduction` incl. `'batchmean'`, `logTarget`).
 * @example new KLDivLoss({ reduction: 'batchmean' }).call(tensor([[0, 0]]), tensor([[0.5, 0.5]])) // -0.6931
 */
export class KLDivLoss extends Module {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'KLDivLoss';
  /** How pointwise losses are combined. */
  readonly reduction: KLDivReduction;
  /** Whether the target is log-probabilities. */
  readonly logTarget: boolean;
  constructor(opts: KLDivLossOptions = {}) {
    const o = optionsOf<KLDivLossOptions>('KLDivLoss', opts, ['reduction', 'logTarget']);
    const r: unknown = o.reduction ?? 'mean';
    if (r !== 'mean' && r !== 'sum' && r !== 'none' && r !== 'batchmean') throw new AxonError('KLDivLoss', `reduction must be 'mean', 'batchmean', 'sum' or 'none', got ${fmtValue(r)}`);
    const logTarget = optBool('KLDivLoss', 'logTarget', o.logTarget) ?? false;
    super();
    this.reduction = r;
    this.logTarget = logTarget;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return klDivLoss(input, target, { reduction: this.reduction, logTarget: this.logTarget });
  }
}

// ------------------------------------------------------------------ Keras names

/**
 * The kinds of built-in losses (what `compile` uses to fuse a final softmax/sigmoid into the loss).
 * @example
 * const k: LossKind = getLoss('sparse_categorical_crossentropy').kind;
 * k // 'sparseCategorical'
 */
export type LossKind = 'mse' | 'mae' | 'huber' | 'kld' | 'sparseCategorical' | 'categorical' | 'binary' | 'custom';

/**
 * A loss function as `compile` uses it: (predictions, targets) → scalar.
 * @example
 * const huber: LossFn = (p, t) => { const d = p.sub(t).abs(); return where(d.lt(1), d.square().mul(0.5), d.sub(0.5)).mean(); };
 * huber(tensor([0, 0]), tensor([0.5, 3])) // 1.3125
 * const net = sequential([new Dense(1, { inputShape: [1] })]);
 * net.compile({ optimizer: 'sgd', loss: huber });
 */
export type LossFn = (yPred: Tensor, yTrue: Tensor) => Tensor;

/**
 * A resolved loss: its name, kind, whether it takes logits, and the function.
 * @example
 * const spec: LossSpec = getLoss('mse');
 * spec.kind // 'mse'
 * spec.fn(tensor([1, 2]), tensor([1, 4])) // 2
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
 * @example
 * const config: LossConfig = { name: 'sparseCategoricalCrossentropy', fromLogits: true };
 * const net = sequential([new Dense(3, { inputShape: [4] })]); // outputs logits
 * net.compile({ optimizer: 'adam', loss: config, metrics: ['accuracy'] });
 * net.getCompileConfig()!.loss // { name: 'sparseCategoricalCrossentropy', fromLogits: true }
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
  huber: 'huber',
  huberloss: 'huber',
  kldivergence: 'kld',
  kld: 'kld',
  kullbackleiblerdivergence: 'kld',
  sparsecategoricalcrossentropy: 'sparseCategorical',
  categoricalcrossentropy: 'categorical',
  binarycrossentropy: 'binary',
};

/**
 * Every Keras loss name {@link getLoss} accepts (case and underscores ignored).
 * @example LOSS_NAMES.includes('mse') // true
 */
export const LOSS_NAMES: readonly string[] = Object.freeze(['meanSquaredError', 'mse', 'meanAbsoluteError', 'mae', 'huber', 'klDivergence', 'kld', 'kullbackLeiblerDivergence', 'sparseCategoricalCrossentropy', 'categoricalCrossentropy', 'binaryCrossentropy']);

/** Runs `loss` on `prep(t)`, freeing the prepared target when it is a new tensor (even when the loss throws). */
function withTarget(t: Tensor, prep: (t: Tensor) => Tensor, loss: (t: Tensor) => Tensor): Tensor {
  if (!isTensorLike(t)) return loss(t);
  const u = prep(t);
  try {
    return loss(u);
  } finally {
    if (u !== t && !u.requiresGrad && !u.savedForBackward) u.dispose();
  }
}

function isTensorLike(t: unknown): t is Tensor {
  return t !== null && typeof t === 'object' && typeof (t as { dtype?: unknown }).dtype === 'string' && !(t as Tensor).isDisposed;
}

/**
 * Builds the loss function of a kind. @internal
 */
export function lossFnOf(kind: LossKind, fromLogits: boolean, labelSmoothing: number, validate = true): LossFn {
  switch (kind) {
    case 'mse':
      return (p, t) => mseLoss(p, t);
    case 'mae':
      return (p, t) => maeLoss(p, t);
    case 'huber':
      return (p, t) => huberLoss(p, t);
    case 'kld':
      return (p, t) => klDivergenceFromProbs(p, t);
    case 'sparseCategorical':
      return fromLogits ? (p, t) => crossEntropy(p, t, { labelSmoothing, validate }) : (p, t) => sparseCrossEntropyFromProbs(p, t, { validate });
    case 'categorical': {
      const smooth = (p: Tensor, t: Tensor): Tensor => (labelSmoothing > 0 ? noGrad(() => composite([t], (tmp) => tmp(tmp(asFloat(t)).mul(1 - labelSmoothing)).add(labelSmoothing / p.shape[p.rank - 1]!))) : t);
      return fromLogits
        ? (p, t) => withTarget(t, asFloat, (tf) => crossEntropy(p, tf, { labelSmoothing }))
        : (p, t) => withTarget(t, (u) => smooth(p, u), (ts) => categoricalCrossEntropyFromProbs(p, ts));
    }
    case 'binary': {
      const smooth = (t: Tensor): Tensor => (labelSmoothing > 0 ? noGrad(() => composite([t], (tmp) => tmp(tmp(asFloat(t)).mul(1 - labelSmoothing)).add(labelSmoothing / 2))) : t);
      return fromLogits ? (p, t) => withTarget(t, smooth, (ts) => binaryCrossEntropyWithLogits(p, ts)) : (p, t) => withTarget(t, smooth, (ts) => binaryCrossEntropy(p, ts));
    }
    default:
      throw new AxonError('getLoss', `no built-in function for loss kind '${kind}'`);
  }
}

/**
 * Resolves a Keras loss name (`'meanSquaredError'`/`'mse'`, `'sparseCategoricalCrossentropy'`,
 * `'categoricalCrossentropy'`, `'binaryCrossentropy'`, `'meanAbsoluteError'`/`'mae'`, `'huber'`
 * (delta 1), `'klDivergence'`/`'kld'` (on probabilities); case and underscores ignored),
 * a config `{ name, fromLogits, labelSmoothing }`, or a function.
 * @example
 * getLoss({ name: 'sparseCategoricalCrossentropy', fromLogits: true }) // { kind: 'sparseCategorical', fromLogits: true }
 * getLoss('Mean_Squared_Error').kind // 'mse'
 * getLoss('huber').fn(tensor([0.5, 3]), tensor([0, 0])) // 1.3125
 * getLoss('kl_divergence').kind // 'kld'
 * getLoss((p, t) => p.sub(t).abs().max()).kind // 'custom'
 * getLoss('hinge') // throws: "unknown loss 'hinge'"
 */
export function getLoss(spec: string | LossConfig | LossFn): LossSpec {
  if (typeof spec === 'function') return { name: spec.name || 'loss', kind: 'custom', fromLogits: false, labelSmoothing: 0, fn: spec };
  const cfg: LossConfig | null =
    typeof spec === 'string' ? { name: spec } : spec !== null && typeof spec === 'object' && !Array.isArray(spec) && typeof spec.name === 'string' ? optionsOf<LossConfig>('getLoss', spec, ['name', 'fromLogits', 'labelSmoothing']) : null;
  if (!cfg) throw new AxonError('getLoss', `expects a loss name (${LOSS_NAMES.join(', ')}), a config { name, fromLogits } or a function (yPred, yTrue) => Tensor, got ${fmtValue(spec)}`);
  const key = cfg.name.replace(/_/g, '').toLowerCase();
  // Own keys only: 'toString' or 'constructor' must not resolve through the prototype chain.
  const kind = Object.hasOwn(KERAS_LOSSES, key) ? KERAS_LOSSES[key] : undefined;
  if (!kind) throw new AxonError('getLoss', `unknown loss '${cfg.name}'; expected one of ${LOSS_NAMES.join(', ')}`);
  const fromLogits = optBool('getLoss', 'fromLogits', cfg.fromLogits) ?? false;
  const labelSmoothing = cfg.labelSmoothing === undefined ? 0 : checkFinite('getLoss', 'labelSmoothing', cfg.labelSmoothing, 0, 1);
  return { name: cfg.name, kind, fromLogits, labelSmoothing, fn: lossFnOf(kind, fromLogits, labelSmoothing) };
}
