/**
 * The op table: elementwise float32 ops each defined once. An entry gives the op's forward pass
 * in the symbolic form both backends compile into one kernel ({@link Sym}), its float64
 * reference, its gradient (written with ops, so it is differentiable again), and its
 * conformance domain (where inputs are sampled, special values, tolerance, kinks). From the
 * entry come the exported function below it, the `Tensor` method of the same name, the kernel on
 * every backend, the autograd rule (`@axon/autograd` reads `OP_TABLE`), the conformance checks
 * (the `op table` group, against the reference and against PyTorch) and the fuzzing spec.
 *
 * Adding an op: add its entry to `OP_TABLE` and its exported function (with TSDoc) below; run
 * `pnpm --filter @axon/conformance fixtures:table` to record PyTorch's values (needs
 * `scripts/install-torch.sh`); add a changeset. Nothing else.
 */
import type { Sym } from '../lazy.js';
import { lazyMap } from '../lazy.js';
import { record } from '../engine.js';
import { AxonError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { abs, add, astype, div, exp, gt, logicalAnd, lt, mul, neg, sigmoid, square, sub, tanh, where } from './elementwise.js';
import { backendOf, drop } from './util.js';

/** Where and how the conformance suite checks a table op. */
export interface OpDomain {
  /** Inputs are sampled uniformly from this range. */
  readonly range: readonly [number, number];
  /** Values always checked (forward), e.g. 0, ±Infinity, NaN, large magnitudes. */
  readonly special: readonly number[];
  /** Forward tolerance against the float64 reference: |got − want| ≤ atol + rtol·|want|. */
  readonly tolerance: { readonly atol: number; readonly rtol: number; readonly why: string };
  /** Points where the gradient is checked against PyTorch's (kinks, ties, the origin). */
  readonly kinks: readonly number[];
}

/** One entry of {@link OP_TABLE}: a unary float32 op. */
export interface UnaryOpDef {
  /** The forward pass, as one fused kernel. */
  readonly forward: (x: Sym) => Sym;
  /** The float64 reference the conformance suite compares against. */
  readonly reference: (x: number) => number;
  /** dL/dx from the input `x`, the output `y` and dL/dy, written with ops. */
  readonly gradient: (x: Tensor, y: Tensor, dy: Tensor) => Tensor;
  /** Where the conformance suite checks it. */
  readonly domain: OpDomain;
  /** PyTorch's function, for the fixture script (`torch.nn.functional.silu`). */
  readonly torch: string;
}

const sigmoidRef = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const softplusRef = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
/** softplus in symbolic form: max(x, 0) + log1p(e^−|x|), stable for every x. */
const softplusSym = (x: Sym): Sym => x.relu().add(x.abs().neg().exp().log1p());
const SPECIAL = [0, -0, 1, -1, 3, -3, 20, -20, 100, -100, Infinity, -Infinity, NaN] as const;
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;
/** One rounding of each of a handful of float32 ops (exp/log1p/tanh ≤ 2 ulp each). */
const FEW_ULPS = { atol: 1e-6, rtol: 1e-5, why: 'a few float32 ops, transcendental ones (exp, log1p, tanh, sigmoid) within a few ulp each' } as const;

/**
 * The table. Keys are the op names (`OpName`), as recorded for autograd and exported.
 * @example Object.keys(OP_TABLE).includes('silu') // true
 */
export const OP_TABLE = {
  softplus: {
    forward: softplusSym,
    reference: softplusRef,
    gradient: (x, _y, dy) => mul(dy, sigmoid(x)),
    domain: { range: [-20, 20], special: SPECIAL, tolerance: FEW_ULPS, kinks: [0] },
    torch: 'torch.nn.functional.softplus',
  },
  logSigmoid: {
    forward: (x) => softplusSym(x.neg()).neg(),
    reference: (x) => -softplusRef(-x),
    gradient: (x, _y, dy) => mul(dy, sigmoid(neg(x))),
    domain: { range: [-20, 20], special: SPECIAL, tolerance: FEW_ULPS, kinks: [0] },
    torch: 'torch.nn.functional.logsigmoid',
  },
  silu: {
    forward: (x) => x.mul(x.sigmoid()),
    reference: (x) => x * sigmoidRef(x),
    // σ(x)·(1 + x·(1 − σ(x)))
    gradient: (x, _y, dy) => {
      const s = sigmoid(x);
      return mul(dy, mul(s, add(mul(x, sub(1, s)), 1)));
    },
    domain: { range: [-10, 10], special: SPECIAL, tolerance: FEW_ULPS, kinks: [0] },
    torch: 'torch.nn.functional.silu',
  },
  mish: {
    forward: (x) => x.mul(softplusSym(x).tanh()),
    reference: (x) => x * Math.tanh(softplusRef(x)),
    // tanh(sp) + x·σ(x)·(1 − tanh²(sp)), sp = softplus(x)
    gradient: (x, _y, dy) => {
      const t = tanh(lazySoftplus(x));
      return mul(dy, add(t, mul(mul(x, sigmoid(x)), sub(1, square(t)))));
    },
    domain: { range: [-10, 10], special: SPECIAL, tolerance: FEW_ULPS, kinks: [0] },
    torch: 'torch.nn.functional.mish',
  },
  hardSigmoid: {
    // PyTorch: relu6(x + 3) / 6
    forward: (x) => x.add(3).maximum(0).minimum(6).div(6),
    reference: (x) => (Number.isNaN(x) ? NaN : Math.min(Math.max(x + 3, 0), 6) / 6),
    // PyTorch: 1/6 strictly inside (−3, 3), 0 elsewhere (also at ±3)
    gradient: (x, _y, dy) => mul(dy, mul(logicalAnd(gt(x, -3), lt(x, 3)), 1 / 6)),
    domain: { range: [-5, 5], special: SPECIAL, tolerance: { atol: 0, rtol: 2 ** -23, why: 'x + 3 and /6: two roundings' }, kinks: [-3, 3, 0] },
    torch: 'torch.nn.functional.hardsigmoid',
  },
  hardSwish: {
    // PyTorch: x · relu6(x + 3) / 6
    forward: (x) => x.mul(x.add(3).maximum(0).minimum(6)).div(6),
    reference: (x) => (Number.isNaN(x) ? NaN : (x * Math.min(Math.max(x + 3, 0), 6)) / 6),
    // PyTorch (1.13, checked by the fixtures): 0 below −3, x/3 + 1/2 on [−3, 3), 1 from 3 on
    gradient: (x, _y, dy) => mul(dy, where(lt(x, -3), 0, where(lt(x, 3), add(div(x, 3), 0.5), 1))),
    domain: { range: [-5, 5], special: SPECIAL, tolerance: { atol: 1e-7, rtol: 2 ** -22, why: 'x + 3, the product and /6: three roundings' }, kinks: [-3, 3, 0] },
    torch: 'torch.nn.functional.hardswish',
  },
  softsign: {
    forward: (x) => x.div(x.abs().add(1)),
    reference: (x) => x / (1 + Math.abs(x)),
    // 1 / (1 + |x|)²
    gradient: (x, _y, dy) => div(dy, square(add(abs(x), 1))),
    domain: { range: [-10, 10], special: SPECIAL, tolerance: { atol: 0, rtol: 2 ** -22, why: '1 + |x| and the division: two roundings' }, kinks: [0] },
    torch: 'torch.nn.functional.softsign',
  },
  selu: {
    // scale·(max(0, x) + min(0, α·(eˣ − 1))), the self-normalising constants of Klambauer et al.
    forward: (x) => x.relu().add(x.expm1().mul(SELU_ALPHA).minimum(0)).mul(SELU_SCALE),
    reference: (x) => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x)),
    // scale for x > 0, scale·α·eˣ otherwise (PyTorch: the exponential branch at 0)
    gradient: (x, _y, dy) => mul(dy, where(gt(x, 0), SELU_SCALE, mul(exp(x), SELU_ALPHA * SELU_SCALE))),
    domain: { range: [-10, 10], special: SPECIAL, tolerance: FEW_ULPS, kinks: [0] },
    torch: 'torch.nn.functional.selu',
  },
} as const satisfies Record<string, UnaryOpDef>;

/** The name of an op defined in {@link OP_TABLE}. */
export type TableOpName = keyof typeof OP_TABLE;

/** softplus as a (pending) tensor, for gradients written with ops. */
function lazySoftplus(x: Tensor): Tensor {
  return applyTableOp('softplus', x);
}

/**
 * Applies a table op: validates, converts int32 to float32, builds the one-kernel expression and
 * records the op for autograd.
 */
function applyTableOp(name: TableOpName, x: Tensor): Tensor {
  const b = backendOf(name, x);
  if (x.dtype === 'bool') throw new AxonError(name, `expects a float32 tensor (int32 is converted), got bool ${fmtShape(x.shape)} (cast with .astype('float32'))`);
  const xf = x.dtype === 'int32' ? astype(x, 'float32') : x;
  try {
    const def: UnaryOpDef = OP_TABLE[name];
    return record(name, [xf], lazyMap(b, xf, def.forward));
  } finally {
    if (xf !== x) drop(xf);
  }
}

/**
 * @internal Every table op as a function of one tensor (how `Tensor` gets its methods).
 * @example TABLE_FUNCTIONS.silu(tensor([0])) // [0]
 */
export const TABLE_FUNCTIONS = Object.fromEntries(Object.keys(OP_TABLE).map((k) => [k, (x: Tensor) => applyTableOp(k as TableOpName, x)])) as Record<TableOpName, (x: Tensor) => Tensor>;

/**
 * softplus(x) = log(1 + eˣ), computed stably as max(x, 0) + log1p(e^−|x|); its gradient is σ(x)
 * everywhere, 0.5 at 0.
 * @example softplus(tensor([0, 10, -100])) // [0.6931, 10.0000, 0.0000]
 */
export const softplus = (x: Tensor): Tensor => applyTableOp('softplus', x);
/**
 * log(sigmoid(x)), stable for large |x|; its gradient is σ(−x), 0.5 at 0.
 * @example logSigmoid(tensor([0, -100])) // [-0.6931, -100]
 */
export const logSigmoid = (x: Tensor): Tensor => applyTableOp('logSigmoid', x);
/**
 * SiLU (also called swish): x·σ(x), as `torch.nn.functional.silu`.
 * @example silu(tensor([0, 1, -1])) // [0, 0.7311, -0.2689]
 */
export const silu = (x: Tensor): Tensor => applyTableOp('silu', x);
/**
 * Mish: x·tanh(softplus(x)), as `torch.nn.functional.mish`.
 * @example mish(tensor([0, 1, -1])) // [0, 0.8651, -0.3034]
 */
export const mish = (x: Tensor): Tensor => applyTableOp('mish', x);
/**
 * Hard sigmoid: relu6(x + 3) / 6 — 0 below −3, 1 above 3, linear between (`torch.nn.functional.hardsigmoid`).
 * @example hardSigmoid(tensor([-4, 0, 1.5, 4])) // [0, 0.5, 0.75, 1]
 */
export const hardSigmoid = (x: Tensor): Tensor => applyTableOp('hardSigmoid', x);
/**
 * Hard swish: x·relu6(x + 3) / 6 (`torch.nn.functional.hardswish`, MobileNetV3's activation).
 * @example hardSwish(tensor([-4, 0, 1, 4])) // [0, 0, 0.6667, 4]
 */
export const hardSwish = (x: Tensor): Tensor => applyTableOp('hardSwish', x);
/**
 * Softsign: x / (1 + |x|) (`torch.nn.functional.softsign`).
 * @example softsign(tensor([-3, 0, 1])) // [-0.75, 0, 0.5]
 */
export const softsign = (x: Tensor): Tensor => applyTableOp('softsign', x);
/**
 * SELU: scale·(max(0, x) + min(0, α·(eˣ − 1))) with α ≈ 1.6733 and scale ≈ 1.0507, the
 * self-normalising activation (`torch.nn.functional.selu`, Keras `'selu'`).
 * @example selu(tensor([-1, 0, 1])) // [-1.1113, 0, 1.0507]
 */
export const selu = (x: Tensor): Tensor => applyTableOp('selu', x);
