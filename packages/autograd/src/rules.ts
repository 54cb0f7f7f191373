/**
 * One gradient rule per recorded core op — the only place gradients are defined.
 * A rule receives the upstream gradient `g` (shaped like the op's output) and returns one
 * gradient per input (or null where the input gets none). Rules are written with core ops, so
 * they run on any backend and are themselves differentiable (higher-order gradients).
 */
import {
  AxonError,
  type DifferentiableOp,
  OP_TABLE,
  type OpAttrs,
  type RecordedGroupOp,
  type TableOpName,
  type Tensor,
  type Window2d,
  abs,
  add,
  arange,
  astype,
  attentionGrad,
  cos,
  div,
  eq,
  exp,
  expand,
  floor,
  fold,
  gather,
  ge,
  gt,
  le,
  log,
  logicalAnd,
  matmul,
  max,
  mul,
  neg,
  pad,
  concat,
  permute,
  pool2dGrad,
  reshape,
  scatterAdd,
  sign,
  sin,
  slice,
  softmax,
  split,
  square,
  stack,
  sub,
  sum,
  transpose,
  unfold,
  where,
  zeros,
  zerosLike,
} from '@axon/core';
import { customRule } from './custom.js';

/** What a rule sees of the recorded op. */
export interface RuleContext {
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  readonly attrs: OpAttrs;
  /**
   * Which inputs need a gradient (absent: all). A rule may return null for the others, and
   * should where computing it is costly (the matmul rule skips the product for a constant input).
   */
  readonly needs?: readonly boolean[];
}

/** A gradient rule. */
export type GradRule = (g: Tensor, ctx: RuleContext) => (Tensor | null)[];

/** What the rule of a multi-output op sees: also all of its outputs. */
export interface GroupRuleContext extends RuleContext {
  readonly outputs: readonly Tensor[];
}

/**
 * The gradient rule of a multi-output op (`unbind`, `split`): it runs once, with one gradient per
 * output (null for outputs that got none; at least one is not null), and returns one per input.
 */
export type GroupRule = (gs: readonly (Tensor | null)[], ctx: GroupRuleContext) => (Tensor | null)[];

/** The outputs' gradients, with a zero-copy zero view (stride 0) for each output that got none. */
function orZeros(gs: readonly (Tensor | null)[], outputs: readonly Tensor[]): Tensor[] {
  return gs.map((g, i) => g ?? expand(zeros([]), outputs[i]!.shape));
}

/**
 * The rules of the multi-output ops: one concatenation of the outputs' gradients, so slicing an
 * input into T pieces costs O(T·size) in the backward pass (T slice rules would pad each piece's
 * gradient to the whole input: O(T²·size)).
 * @example
 * const x = tensor([[1, 2], [3, 4], [5, 6]]);
 * const outputs = unbind(x);
 * const [gx] = groupRules.unbind([tensor([1, 1]), null, tensor([2, 3])], { inputs: [x], output: outputs[0]!, outputs, attrs: { axis: 0 } });
 * gx // [[1, 1], [0, 0], [2, 3]]
 */
export const groupRules: { readonly [K in RecordedGroupOp]: GroupRule } = {
  unbind: (gs, c) => [stack(orZeros(gs, c.outputs), c.attrs.axis as number)],
  split: (gs, c) => [concat(orZeros(gs, c.outputs), c.attrs.axis as number)],
};

/**
 * Sums `g` over the axes that broadcasting expanded, so the result has `shape`.
 * @example
 * // the gradient of a [1, 3] tensor broadcast to [2, 3] sums over the broadcast axis:
 * sumToShape(ones([2, 3]), [1, 3]) // [[2, 2, 2]]
 * sumToShape(ones([2, 3]), [3]) // [2, 2, 2]
 */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead) axes.push(i);
    else if (shape[i - lead] === 1 && g.shape[i] !== 1) axes.push(i);
  }
  const s = axes.length ? sum(g, axes, true) : g;
  return reshape(s, shape);
}

const un = (f: (g: Tensor, x: Tensor, y: Tensor) => Tensor): GradRule => (g, c) => [f(g, c.inputs[0]!, c.output)];

function keepShape(xShape: readonly number[], axes: readonly number[]): number[] {
  return xShape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** Upstream gradient of a reduction, reshaped to keepDims form and broadcast to the input. */
function unreduce(g: Tensor, x: Tensor, attrs: OpAttrs): Tensor {
  const axes = attrs.axes as number[];
  const g2 = reshape(g, keepShape(x.shape, axes));
  return expand(g2, x.shape);
}

const float = (t: Tensor): Tensor => astype(t, 'float32');

/** Whether input `i` needs a gradient (`ctx.needs` absent: all do). */
const need = (c: RuleContext, i: number): boolean => c.needs?.[i] !== false;

/**
 * The rule table, keyed by the op names core records: each rule maps the output's gradient to
 * one gradient per input (null for inputs without one).
 * @example
 * const g = rules.mul!(tensor([1, 1]), { inputs: [tensor([2, 3]), tensor([5, 7])], output: tensor([10, 21]), attrs: {} });
 * g[0] // [5, 7]
 * g[1] // [2, 3]
 */
export const rules: Record<string, GradRule | undefined> & { [K in DifferentiableOp]: GradRule } = {
  // every op of core's op table: its gradient is written in the table
  ...tableRules(),
  identity: (g) => [g],
  customGrad: (g, c) => customRule(g, c.inputs, c.output, c.attrs),
  cast: (g, c) => {
    const from = c.attrs.from as string;
    const to = c.attrs.to as string;
    if (from !== 'float32' || to !== 'float32') return [null];
    return [g];
  },
  neg: un((g) => neg(g)),
  abs: un((g, x) => mul(g, sign(x))),
  sign: () => [null],
  floor: () => [null],
  ceil: () => [null],
  round: () => [null],
  exp: un((g, _x, y) => mul(g, y)),
  log: un((g, x) => div(g, x)),
  log1p: un((g, x) => div(g, add(x, 1))),
  expm1: un((g, _x, y) => mul(g, add(y, 1))),
  sqrt: un((g, _x, y) => div(mul(g, 0.5), y)),
  rsqrt: un((g, x, y) => mul(mul(g, -0.5), div(y, x))),
  reciprocal: un((g, _x, y) => neg(mul(g, square(y)))),
  square: un((g, x) => mul(g, mul(x, 2))),
  sin: un((g, x) => mul(g, cos(x))),
  cos: un((g, x) => neg(mul(g, sin(x)))),
  tanh: un((g, _x, y) => mul(g, sub(1, square(y)))),
  erf: un((g, x) => mul(g, mul(exp(neg(square(x))), 2 / Math.sqrt(Math.PI)))),
  sigmoid: un((g, _x, y) => mul(g, mul(y, sub(1, y)))),
  relu: un((g, x) => where(gt(x, 0), g, 0)),
  // PyTorch's clamp: the gradient passes where lo <= x <= hi (both ends included), else 0.
  clip: (g, c) => {
    const x = c.inputs[0]!;
    return [where(logicalAnd(ge(x, c.attrs.lo as number), le(x, c.attrs.hi as number)), g, 0)];
  },

  // (an input that needs no gradient — a constant like GELU's 0.5 — gets none: no reduction for it)
  add: (g, c) => [need(c, 0) ? sumToShape(g, c.inputs[0]!.shape) : null, need(c, 1) ? sumToShape(g, c.inputs[1]!.shape) : null],
  sub: (g, c) => [need(c, 0) ? sumToShape(g, c.inputs[0]!.shape) : null, need(c, 1) ? sumToShape(neg(g), c.inputs[1]!.shape) : null],
  mul: (g, c) => {
    const [a, b] = c.inputs as [Tensor, Tensor];
    return [need(c, 0) ? sumToShape(mul(g, b), a.shape) : null, need(c, 1) ? sumToShape(mul(g, a), b.shape) : null];
  },
  div: (g, c) => {
    const [a, b] = c.inputs as [Tensor, Tensor];
    return [need(c, 0) ? sumToShape(div(g, b), a.shape) : null, need(c, 1) ? sumToShape(neg(div(mul(g, a), square(b))), b.shape) : null];
  },
  pow: (g, c) => {
    const [a, b] = c.inputs as [Tensor, Tensor];
    const y = c.output;
    const ga = mul(g, mul(b, div(y, a)));
    // d/da via b·a^(b−1); written as b·y/a it fails at a = 0, so use pow(a, b − 1) there.
    const gaSafe = where(eq(a, 0), mul(g, mul(b, a.pow(sub(b, 1)))), ga);
    const logA = where(gt(a, 0), log(where(gt(a, 0), a, 1)), 0);
    return [sumToShape(gaSafe, a.shape), sumToShape(mul(g, mul(y, logA)), b.shape)];
  },
  maximum: (g, c) => {
    const [a, b] = c.inputs as [Tensor, Tensor];
    const wa = add(float(gt(a, b)), mul(float(eq(a, b)), 0.5));
    return [sumToShape(mul(g, wa), a.shape), sumToShape(mul(g, sub(1, wa)), b.shape)];
  },
  minimum: (g, c) => {
    const [a, b] = c.inputs as [Tensor, Tensor];
    const wa = add(float(gt(b, a)), mul(float(eq(a, b)), 0.5));
    return [sumToShape(mul(g, wa), a.shape), sumToShape(mul(g, sub(1, wa)), b.shape)];
  },
  mod: (g, c) => {
    const [a, b] = c.inputs as [Tensor, Tensor];
    return [sumToShape(g, a.shape), sumToShape(neg(mul(g, floor(div(a, b)))), b.shape)];
  },
  where: (g, c) => {
    const [a, b, cond] = c.inputs as [Tensor, Tensor, Tensor];
    return [sumToShape(where(cond, g, 0), a.shape), sumToShape(where(cond, 0, g), b.shape), null];
  },

  sum: (g, c) => [unreduce(g, c.inputs[0]!, c.attrs)],
  prod: (g, c) => {
    const x = c.inputs[0]!;
    const y = unreduce(c.output, x, c.attrs);
    return [mul(unreduce(g, x, c.attrs), div(y, x))];
  },
  max: (g, c) => minMaxRule(g, c),
  min: (g, c) => minMaxRule(g, c),

  reshape: (g, c) => [reshape(g, c.attrs.from as number[])],
  permute: (g, c) => {
    const axes = c.attrs.axes as number[];
    const inv = new Array<number>(axes.length);
    axes.forEach((a, i) => (inv[a] = i));
    return [permute(g, inv)];
  },
  slice: (g, c) => {
    const begin = c.attrs.begin as number[];
    const size = c.attrs.size as number[];
    const from = c.attrs.from as number[];
    const steps = c.attrs.steps as number[] | undefined;
    // a stepped axis scatters its entries back to begin + step·i; the others pad
    let r = g;
    for (const [i, s] of (steps ?? []).entries()) {
      if (s > 1) r = scatterAdd(r.shape.map((d, j) => (j === i ? from[i]! : d)), arange(begin[i]!, begin[i]! + s * size[i]!, s, 'int32'), r, i);
    }
    return [pad(r, from.map((d, i) => ((steps?.[i] ?? 1) > 1 ? [0, 0] : [begin[i]!, d - begin[i]! - size[i]!]) as [number, number]))];
  },
  expand: (g, c) => [sumToShape(g, c.attrs.from as number[])],
  concat: (g, c) => split(g, c.attrs.sizes as number[], c.attrs.axis as number),
  pad: (g, c) => {
    const p = c.attrs.paddings as [number, number][];
    return [slice(g, p.map((q) => q[0]), c.inputs[0]!.shape)];
  },
  gather: (g, c) => [scatterAdd(c.inputs[0]!.shape, c.attrs.indices as Tensor, g, c.attrs.axis as number)],
  scatterAdd: (g, c) => [gather(g, c.attrs.indices as Tensor, c.attrs.axis as number)],

  matmul: (g, c) => {
    const [a, b] = c.inputs as [Tensor, Tensor];
    // b a matrix shared by every batch of a (x·W): one [K, B·M]·[B·M, N] product, not B products summed
    const shared = b.rank === 2 && a.rank > 2;
    const gb = !need(c, 1) ? null : shared ? matmul(transpose(reshape(a, [-1, a.shape[a.rank - 1]!])), reshape(g, [-1, g.shape[g.rank - 1]!])) : sumToShape(matmul(transpose(a), g), b.shape);
    return [need(c, 0) ? sumToShape(matmul(g, transpose(b)), a.shape) : null, gb];
  },
  attention: (g, c) => {
    // dS = P ⊙ (g·vᵀ − rowsum(g ⊙ out)), dq = dS·k·scale, dk = dSᵀ·q·scale, dv = Pᵀ·g, dbias = dS.
    // A row whose keys are all masked (NaN output) contributes nothing: P = 0 and rowsum = 0 there.
    const [q, k, v, m] = c.inputs as [Tensor, Tensor, Tensor, Tensor | undefined];
    const need = (i: number): boolean => c.needs?.[i] !== false;
    const scale = c.attrs.scale as number;
    const bias = c.attrs.bias as Tensor | null;
    const causal = c.attrs.causal === true;
    if (!(m !== undefined && need(3))) {
      // the fused backward kernel (FlashAttention-2's: no [.., Tq, Tk] buffer) where the backend has
      // it and grad mode is off; null: recompute with ops below (higher-order gradients work there)
      const fused = attentionGrad(g, q, k, v, bias, scale, causal, c.output, (c.attrs.lse as Tensor | null | undefined) ?? null);
      if (fused !== null) {
        const [dq, dk, dv] = fused;
        return [need(0) ? sumToShape(dq, q.shape) : null, need(1) ? sumToShape(dk, k.shape) : null, need(2) ? sumToShape(dv, v.shape) : null, null];
      }
    }
    // recomputes the weights P = softmax(q·kᵀ·scale + bias) with ops
    let s = mul(matmul(q, transpose(k)), scale);
    if (bias !== null) s = add(s, bias);
    if (causal) {
      const [tq, tk] = s.shape.slice(-2) as [number, number];
      s = where(ge(reshape(arange(tq, undefined, 1, 'int32'), [tq, 1]), arange(tk, undefined, 1, 'int32')), s, -Infinity);
    }
    const dead = eq(max(s, -1, true), -Infinity);
    const p = where(dead, 0, softmax(s));
    const ds = mul(p, sub(matmul(g, transpose(v)), where(dead, 0, sum(mul(g, c.output), -1, true))));
    return [
      need(0) ? sumToShape(mul(matmul(ds, k), scale), q.shape) : null,
      need(1) ? sumToShape(mul(matmul(transpose(ds), q), scale), k.shape) : null,
      need(2) ? sumToShape(matmul(transpose(p), g), v.shape) : null,
      m !== undefined && need(3) ? sumToShape(ds, m.shape) : null,
    ];
  },
  im2col: (g, c) => [fold(g, c.attrs.win as Window2d)],
  col2im: (g, c) => [unfold(g, c.attrs.win as Window2d)],
  pool2d: (g, c) => [pool2dGrad(c.attrs.op as 'max' | 'avg', c.inputs[0]!, g, c.attrs.win as Window2d)],
  pool2dGrad: () => {
    throw new AxonError('backward', 'gradients of pooling gradients (third-order through pooling) are not supported');
  },
};

/** The rules of core's op table (`OP_TABLE`): each entry's `gradient`. */
function tableRules(): Record<TableOpName, GradRule> {
  const out = {} as Record<TableOpName, GradRule>;
  for (const name of Object.keys(OP_TABLE) as TableOpName[]) {
    const def = OP_TABLE[name] as { gradient: (x: Tensor, y: Tensor, dy: Tensor) => Tensor };
    out[name] = un((g, x, y) => def.gradient(x, y, g));
  }
  return out;
}

function minMaxRule(g: Tensor, c: RuleContext): Tensor[] {
  const x = c.inputs[0]!;
  const yb = unreduce(c.output, x, c.attrs);
  const mask = float(eq(x, yb));
  const axes = c.attrs.axes as number[];
  const count = sum(mask, axes, true);
  return [mul(unreduce(g, x, c.attrs), div(mask, count))];
}

/** Ops core records that have no gradient at all (guards against silent zeros). */
export const nonDifferentiable = new Set(['sign', 'floor', 'ceil', 'round']);

/**
 * For tests: every op name with a rule.
 * @example ruleNames().includes('matmul') // true
 */
export function ruleNames(): string[] {
  return [...Object.keys(rules), ...Object.keys(groupRules)];
}

// Silence "unused" for helpers kept for rule authors.
void abs;
void zerosLike;
