import type { BinaryOp, UnaryOp, View } from '../backend.js';
import { type DType, isDType, upcast } from '../dtype.js';
import { noGrad, record, traceOnly, type RecordedOp } from '../engine.js';
import { AxonError, fmtShape, fmtValue } from '../errors.js';
import { broadcastShapes, broadcastStrides, type Shape } from '../shape.js';
import { Tensor, type TensorLike } from '../tensor.js';
import { backendOf, drop, empty, toTensor } from './util.js';
import { fusionOn, lazyCast, lazyOp } from '../lazy.js';

/**
 * A view of `t` broadcast (stride 0) to `shape`: the descriptor ops hand to backend primitives.
 * @example broadcastView(tensor([1, 2]), [3, 2]).strides // [0, 1]
 */
export function broadcastView(t: Tensor, shape: Shape): View {
  return { buf: t.storage.buf, dtype: t.dtype, shape, strides: broadcastStrides(t.shape, t.strides, shape), offset: t.offset };
}

/**
 * Converts to another dtype (float→int truncates toward zero; any→bool is `x != 0`).
 * Returns a new tensor even when the dtype is unchanged.
 * @example
 * tensor([1.7, -1.7]).astype('int32') // [1, -1]
 * tensor([0, 2]).astype('bool') // [false, true]
 */
export function astype(x: Tensor, dtype: DType): Tensor {
  const b = backendOf('astype', x);
  if (!isDType(dtype)) throw new AxonError('astype', `unknown dtype ${fmtValue(dtype)}; expected float32, int32 or bool`);
  if (fusionOn() && x.dtype !== dtype && (x.dtype === 'float32' || x.dtype === 'bool') && (dtype === 'float32' || dtype === 'bool')) {
    return record('cast', [x], lazyCast(b, x, dtype), { from: x.dtype, to: dtype });
  }
  const out = empty(b, x.shape, dtype);
  if (out.size > 0) b.copy(x.view(), out.view());
  return record('cast', [x], out, { from: x.dtype, to: dtype });
}

/**
 * A contiguous copy (or `x` itself as a fresh handle when already contiguous from offset 0).
 * Always returns a new tensor the caller owns.
 * @example
 * ```ts
 * const x = tensor([[1, 2], [3, 4]]);
 * x.T.isContiguous // false
 * const c = x.T.contiguous();
 * c.isContiguous // true
 * c // [[1, 3], [2, 4]]
 * ```
 */
export function contiguous(x: Tensor): Tensor {
  backendOf('contiguous', x);
  if (x.isContiguous) {
    const v = new Tensor(x.storage, x.shape, x.dtype, x.strides, x.offset);
    return record('identity', [x], v);
  }
  return clone(x);
}

/**
 * A contiguous copy with its own storage.
 * @example
 * ```ts
 * const x = tensor([1, 2]);
 * const y = x.clone();
 * x.dispose();
 * y // [1, 2]
 * ```
 */
export function clone(x: Tensor): Tensor {
  const b = backendOf('clone', x);
  const out = empty(b, x.shape, x.dtype);
  if (out.size > 0) b.copy(x.view(), out.view());
  return record('identity', [x], out);
}

const FLOAT_ONLY = new Set<UnaryOp>(['exp', 'log', 'log1p', 'expm1', 'sqrt', 'rsqrt', 'reciprocal', 'sin', 'cos', 'tanh', 'erf', 'sigmoid', 'floor', 'ceil', 'round']);

function unary(op: UnaryOp, x: Tensor): Tensor {
  const b = backendOf(op, x);
  if (op === 'not') {
    if (x.dtype !== 'bool') {
      const c = astype(x, 'bool');
      try {
        return unary('not', c);
      } finally {
        c.dispose();
      }
    }
  } else if (x.dtype === 'bool') {
    throw new AxonError(op, `expects a float32 or int32 tensor, got bool ${fmtShape(x.shape)} (cast with .astype())`);
  } else if (x.dtype === 'int32' && FLOAT_ONLY.has(op)) {
    if (op === 'floor' || op === 'ceil' || op === 'round') return clone(x);
    const c = astype(x, 'float32');
    try {
      return unary(op, c);
    } finally {
      c.dispose();
    }
  }
  if (fusionOn() && x.dtype === (op === 'not' ? 'bool' : 'float32')) return record(op, [x], lazyOp(b, op, [x], x.shape, x.dtype));
  const out = empty(b, x.shape, x.dtype);
  if (out.size > 0) b.unary(op, x.view(), out.storage.buf);
  return record(op, [x], out);
}

/** −x. @example neg(tensor([1, -2])) // [-1, 2] */
export const neg = (x: Tensor): Tensor => unary('neg', x);
/** |x|. @example abs(tensor([-1])) // [1] */
export const abs = (x: Tensor): Tensor => unary('abs', x);
/** −1, 0 or 1. @example sign(tensor([-3, 0, 2])) // [-1, 0, 1] */
export const sign = (x: Tensor): Tensor => unary('sign', x);
/** eˣ. @example exp(tensor([0])) // [1] */
export const exp = (x: Tensor): Tensor => unary('exp', x);
/** Natural log. @example log(tensor([1])) // [0] */
export const log = (x: Tensor): Tensor => unary('log', x);
/** log(1+x), accurate near 0. @example log1p(tensor([0])) // [0] */
export const log1p = (x: Tensor): Tensor => unary('log1p', x);
/** eˣ−1, accurate near 0. @example expm1(tensor([0])) // [0] */
export const expm1 = (x: Tensor): Tensor => unary('expm1', x);
/** √x. @example sqrt(tensor([4])) // [2] */
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
/** 1/√x. @example rsqrt(tensor([4])) // [0.5] */
export const rsqrt = (x: Tensor): Tensor => unary('rsqrt', x);
/** 1/x. @example reciprocal(tensor([4])) // [0.25] */
export const reciprocal = (x: Tensor): Tensor => unary('reciprocal', x);
/** x². @example square(tensor([3])) // [9] */
export const square = (x: Tensor): Tensor => unary('square', x);
/** sin x. @example sin(tensor([0])) // [0] */
export const sin = (x: Tensor): Tensor => unary('sin', x);
/** cos x. @example cos(tensor([0])) // [1] */
export const cos = (x: Tensor): Tensor => unary('cos', x);
/** tanh x. @example tanh(tensor([0])) // [0] */
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
/**
 * Gauss error function (absolute error at most 1e-6: erf(0) may come out as 1e-9).
 * @example erf(tensor([0, 0.5, 2])) // [0.0000, 0.5205, 0.9953]
 */
export const erf = (x: Tensor): Tensor => unary('erf', x);
/** 1/(1+e⁻ˣ), stable for any x. @example sigmoid(tensor([0, -1000])) // [0.5, 0] */
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
/** max(x, 0). @example relu(tensor([-1, 2])) // [0, 2] */
export const relu = (x: Tensor): Tensor => unary('relu', x);
/** ⌊x⌋. @example floor(tensor([1.5])) // [1] */
export const floor = (x: Tensor): Tensor => unary('floor', x);
/** ⌈x⌉. @example ceil(tensor([1.5])) // [2] */
export const ceil = (x: Tensor): Tensor => unary('ceil', x);
/** Round half to even. @example round(tensor([2.5, 3.5, -0.4])) // [2, 4, -0] */
export const round = (x: Tensor): Tensor => unary('round', x);
/** Logical not (any dtype; nonzero is true). @example logicalNot(tensor([true])) // [false] */
export const logicalNot = (x: Tensor): Tensor => unary('not', x);

const COMPARE = new Set<BinaryOp>(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);
type ArithOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'max' | 'min' | 'mod';
/** The name each arithmetic op is recorded under: its function's name. */
const RECORDED = { add: 'add', sub: 'sub', mul: 'mul', div: 'div', pow: 'pow', max: 'maximum', min: 'minimum', mod: 'mod' } as const satisfies Record<ArithOp, RecordedOp>;
const LOGIC = new Set<BinaryOp>(['and', 'or', 'xor']);

function binary(op: BinaryOp, aIn: Tensor | TensorLike, bIn: TensorLike): Tensor {
  let a: Tensor;
  let bT: Tensor;
  const temps: Tensor[] = [];
  if (aIn instanceof Tensor) {
    a = aIn;
    bT = toTensor(op, bIn, a);
    if (bT !== bIn) temps.push(bT);
  } else if (bIn instanceof Tensor) {
    bT = bIn;
    a = toTensor(op, aIn, bT);
    temps.push(a);
  } else {
    throw new AxonError(op, 'expects at least one Tensor operand');
  }
  try {
    const backend = backendOf(op, a, bT);
    const shape = broadcastShapes(a.shape, bT.shape, op);
    let dt: DType;
    let outDt: DType;
    if (LOGIC.has(op)) {
      dt = 'bool';
      outDt = 'bool';
    } else if (COMPARE.has(op)) {
      dt = a.dtype === bT.dtype ? a.dtype : upcast(a.dtype, bT.dtype);
      outDt = 'bool';
    } else {
      dt = upcast(a.dtype, bT.dtype);
      if (dt === 'bool') dt = 'int32';
      if (op === 'div' || op === 'pow') dt = 'float32';
      outDt = dt;
    }
    const ca = a.dtype === dt ? a : astype(a, dt);
    const cb = bT.dtype === dt ? bT : astype(bT, dt);
    if (ca !== a) temps.push(ca);
    if (cb !== bT) temps.push(cb);
    let out: Tensor;
    if (fusionOn() && (dt === 'float32' || dt === 'bool')) out = lazyOp(backend, op, [ca, cb], shape, outDt as 'float32' | 'bool');
    else {
      out = empty(backend, shape, outDt);
      if (out.size > 0) backend.binary(op, broadcastView(ca, shape), broadcastView(cb, shape), out.storage.buf);
    }
    if (COMPARE.has(op) || LOGIC.has(op)) {
      traceOnly(op, [ca, cb], out);
      for (const t of temps) t.dispose();
      return out;
    }
    record(RECORDED[op as ArithOp], [ca, cb], out);
    // Temporaries (scalars, casts) that autograd saved stay alive until the enclosing tidy ends.
    if (!out.requiresGrad) for (const t of temps) t.dispose();
    return out;
  } catch (e) {
    for (const t of temps) t.dispose();
    throw e;
  }
}

/**
 * a + b with broadcasting.
 * @example
 * add(tensor([1, 2]), 1) // [2, 3]
 * add(tensor([[1], [2]]), tensor([10, 20])) // [[11, 21], [12, 22]]
 */
export const add = (a: Tensor | TensorLike, b: TensorLike): Tensor => binary('add', a, b);
/** a − b. @example sub(tensor([3]), 1) // [2] */
export const sub = (a: Tensor | TensorLike, b: TensorLike): Tensor => binary('sub', a, b);
/** a · b. @example mul(tensor([2]), 3) // [6] */
export const mul = (a: Tensor | TensorLike, b: TensorLike): Tensor => binary('mul', a, b);
/** True division (integers promote to float32). @example div(tensor([1], undefined, 'int32'), 2) // [0.5] */
export const div = (a: Tensor | TensorLike, b: TensorLike): Tensor => binary('div', a, b);
/** aᵇ (float32). @example pow(tensor([2]), 3) // [8] */
export const pow = (a: Tensor | TensorLike, b: TensorLike): Tensor => binary('pow', a, b);
/** Elementwise maximum (NaN-propagating). @example maximum(tensor([1, 5]), 3) // [3, 5] */
export const maximum = (a: Tensor | TensorLike, b: TensorLike): Tensor => binary('max', a, b);
/** Elementwise minimum. @example minimum(tensor([1, 5]), 3) // [1, 3] */
export const minimum = (a: Tensor | TensorLike, b: TensorLike): Tensor => binary('min', a, b);
/** Python-style modulo (sign of the divisor). @example mod(tensor([-1]), 3) // [2] */
export const mod = (a: Tensor | TensorLike, b: TensorLike): Tensor => binary('mod', a, b);
/** a == b (bool). @example eq(tensor([1, 2]), 2) // [false, true] */
export const eq = (a: Tensor | TensorLike, b: TensorLike): Tensor => binary('eq', a, b);
/** a != b (bool). @example ne(tensor([1]), 2) // [true] */
export const ne = (a: Tensor | TensorLike, b: TensorLike): Tensor => binary('ne', a, b);
/** a < b. @example lt(tensor([1]), 2) // [true] */
export const lt = (a: Tensor | TensorLike, b: TensorLike): Tensor => binary('lt', a, b);
/** a <= b. @example le(tensor([2]), 2) // [true] */
export const le = (a: Tensor | TensorLike, b: TensorLike): Tensor => binary('le', a, b);
/** a > b. @example gt(tensor([3]), 2) // [true] */
export const gt = (a: Tensor | TensorLike, b: TensorLike): Tensor => binary('gt', a, b);
/** a >= b. @example ge(tensor([2]), 2) // [true] */
export const ge = (a: Tensor | TensorLike, b: TensorLike): Tensor => binary('ge', a, b);
/** Logical and. @example logicalAnd(tensor([true]), tensor([false])) // [false] */
export const logicalAnd = (a: Tensor | TensorLike, b: TensorLike): Tensor => binary('and', a, b);
/** Logical or. @example logicalOr(tensor([true]), tensor([false])) // [true] */
export const logicalOr = (a: Tensor | TensorLike, b: TensorLike): Tensor => binary('or', a, b);
/** Logical xor. @example logicalXor(tensor([true]), tensor([true])) // [false] */
export const logicalXor = (a: Tensor | TensorLike, b: TensorLike): Tensor => binary('xor', a, b);

/**
 * `cond ? a : b` elementwise, broadcasting all three.
 * @example
 * where(tensor([true, false]), 1, 0) // [1, 0]
 * const x = tensor([-1, 2]);
 * where(x.gt(0), x, 0) // [0, 2]
 */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  backendOf('where', cond);
  const like = a instanceof Tensor ? a : b instanceof Tensor ? b : cond;
  const temps: Tensor[] = [];
  const ta0 = a instanceof Tensor ? a : toTensor('where', a, like.dtype === 'bool' ? (cond) : like);
  const tb0 = b instanceof Tensor ? b : toTensor('where', b, like.dtype === 'bool' ? cond : like);
  if (ta0 !== a) temps.push(ta0);
  if (tb0 !== b) temps.push(tb0);
  try {
    const backend = backendOf('where', cond, ta0, tb0);
    const c = cond.dtype === 'bool' ? cond : astype(cond, 'bool');
    if (c !== cond) temps.push(c);
    const dt = ta0.dtype === tb0.dtype ? ta0.dtype : upcast(ta0.dtype, tb0.dtype);
    const ta = ta0.dtype === dt ? ta0 : astype(ta0, dt);
    const tb = tb0.dtype === dt ? tb0 : astype(tb0, dt);
    if (ta !== ta0) temps.push(ta);
    if (tb !== tb0) temps.push(tb);
    const shape = broadcastShapes(broadcastShapes(c.shape, ta.shape, 'where'), tb.shape, 'where');
    let out: Tensor;
    if (fusionOn() && (dt === 'float32' || dt === 'bool')) out = lazyOp(backend, 'where', [c, ta, tb], shape, dt);
    else {
      out = empty(backend, shape, dt);
      if (out.size > 0) backend.where(broadcastView(c, shape), broadcastView(ta, shape), broadcastView(tb, shape), out.storage.buf);
    }
    record('where', [ta, tb, c], out);
    if (!out.requiresGrad) for (const t of temps) t.dispose();
    return out;
  } catch (e) {
    for (const t of temps) t.dispose();
    throw e;
  }
}

/**
 * Clamps to [lo, hi].
 * @example clip(tensor([-2, 0.5, 9]), 0, 1) // [0, 0.5, 1]
 */
export function clip(x: Tensor, lo: number, hi: number): Tensor {
  if (typeof lo !== 'number' || typeof hi !== 'number' || !(lo <= hi)) throw new AxonError('clip', `expects numbers lo <= hi, got lo ${fmtValue(lo)} and hi ${fmtValue(hi)}`);
  backendOf('clip', x);
  const out = noGrad(() => {
    const m = maximum(x, lo);
    try {
      return minimum(m, hi);
    } finally {
      drop(m);
    }
  });
  // Recorded as one op with PyTorch's clamp gradient: 1 on [lo, hi] including both ends (the parts
  // would split ties at the ends, giving 0.5 there).
  return record('clip', [x], out, { lo, hi });
}
