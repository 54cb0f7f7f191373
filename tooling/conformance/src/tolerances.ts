/**
 * Every tolerance the suite uses, in one table. A result element passes when
 *
 *     |got − expected| ≤ atol + rtol·|expected| + accEps·f(n)·Σ|terms|
 *
 * where `expected` is a float64 reference computed from the (float32) inputs, `Σ|terms|` is the
 * sum of the magnitudes of the terms accumulated into that element (a reduction's inputs, a
 * dot product's products) and `f(n)` is `⌈log₂ n⌉ + 1` (`acc: 'log'`, pairwise/blocked sums as
 * `backend.ts` requires of `reduce`) or `n` (`acc: 'linear'`, float32 accumulation as matmul
 * allows). NaN must match NaN, ±Infinity must match exactly.
 *
 * These numbers are derived from the backend contract and float32 arithmetic; they are never
 * widened to make a backend pass.
 */

/** float32 unit roundoff, 2^-24. */
export const EPS32 = 2 ** -24;

/** A tolerance (see the module comment). */
export interface Tolerance {
  readonly atol: number;
  readonly rtol: number;
  /** How accumulation error grows with the number of terms. */
  readonly acc?: 'log' | 'linear';
  /** Multiplies f(n)·Σ|terms| (default 0). */
  readonly accEps?: number;
  /** Why (shown in the README table). */
  readonly why: string;
}

const exact: Tolerance = { atol: 0, rtol: 0, why: 'exact: no rounding involved' };
const rounded: Tolerance = { atol: 0, rtol: 1e-6, why: 'one IEEE float32 rounding (≤ 2^-24 relative), ~17 ulp allowed' };
const transcendental: Tolerance = { atol: 1e-6, rtol: 1e-5, why: 'float32 transcendental, a few ulp; atol for results near 0' };

/** The table, keyed by op (or op family). */
export const TOLERANCES = {
  // creation, movement, integer, bool, selection
  exact,
  creation: { ...exact, why: 'tensor/zeros/ones/full/arange/eye: values written, not computed' },
  linspace: { atol: 0, rtol: 1e-6, why: 'start + i·step rounded to float32' },
  movement: { ...exact, why: 'reshape/permute/slice/expand/concat/stack/split/pad/gather copy bits' },
  int32: { ...exact, why: 'int32 arithmetic is exact (wrapping)' },
  compare: { ...exact, why: 'comparisons, logic, where, max/min, argmax/argmin, relu, floor/ceil/round' },
  cast: { ...exact, why: 'astype: truncation, saturation and x != 0 are exact' },
  randomBits: { ...exact, why: 'uniform/bernoulli/randint bits must equal referenceRandom' },
  randomNormal: { atol: 2e-5, rtol: 1e-5, why: 'Box–Muller in float32: log, sqrt, cos of 2πu (|z| ≤ 6)' },

  // elementwise float32
  add: rounded,
  sub: rounded,
  mul: rounded,
  div: rounded,
  mod: { atol: 1e-6, rtol: 1e-6, why: 'fmod is exact; the sign fix-up adds one rounding (inputs |b| ≥ 0.5)' },
  pow: { atol: 1e-6, rtol: 1e-5, why: 'float32 pow over bases [0.1, 4], exponents [-3, 3]' },
  neg: exact,
  abs: exact,
  sign: exact,
  square: rounded,
  sqrt: rounded,
  rsqrt: { atol: 0, rtol: 4e-6, why: 'float32 1/√x, a few ulp' },
  reciprocal: rounded,
  exp: transcendental,
  log: transcendental,
  log1p: { atol: 1e-12, rtol: 1e-5, why: 'must stay accurate for |x| ≪ 1 (no absolute slack)' },
  expm1: { atol: 1e-12, rtol: 1e-5, why: 'must stay accurate for |x| ≪ 1 (no absolute slack)' },
  sin: transcendental,
  cos: transcendental,
  tanh: transcendental,
  erf: { atol: 1.1e-6, rtol: 0, why: 'backend.ts: max abs error ≤ 1e-6, plus the float32 rounding' },
  sigmoid: transcendental,
  relu: exact,
  floor: exact,
  ceil: exact,
  round: exact,

  // reductions and composites
  sum: { atol: 0, rtol: 0, acc: 'log', accEps: 2 * EPS32, why: 'pairwise/blocked sum: O(log n)·ε·Σ|x| (backend.ts)' },
  mean: { atol: 0, rtol: 2 * EPS32, acc: 'log', accEps: 2 * EPS32, why: 'sum bound plus one multiply' },
  prod: { atol: 0, rtol: 0, acc: 'linear', accEps: 2 * EPS32, why: 'n roundings of a product: n·ε relative (inputs in [0.5, 1.5])' },
  variance: { atol: 1e-7, rtol: 1e-5, acc: 'log', accEps: 8 * EPS32, why: 'mean, subtract, square, mean: sum bound on Σ(x−m)² plus a few roundings' },
  logSumExp: { atol: 2e-6, rtol: 2e-6, acc: 'log', accEps: 2 * EPS32, why: 'max + log(Σ exp(x − max)): exp/log ulps plus the sum bound' },
  softmax: { atol: 1e-6, rtol: 1e-5, why: 'exp(x − max)/Σ: a few ulp per step' },
  attention: { atol: 0, rtol: 4 * EPS32, acc: 'linear', accEps: EPS32, why: 'Σ_j p_j·v_j with p = softmax(scale·q·kᵀ + mask): each score is off by ≤ (D+1)·ε·(scale·Σ|q||k| + |mask|) = ε·a_j, which moves the weights by ≤ 2·max a_j relative; bound (D + Tk + 4)·ε·Σ p_j|v_j|·(1 + 2·max a_j)' },
  logSoftmax: { atol: 2e-6, rtol: 1e-5, why: '(x − max) − log Σ: a few ulp per step' },

  // linear algebra
  matmul: { atol: 0, rtol: EPS32, acc: 'linear', accEps: EPS32, why: 'float32 dot product error ≤ K·ε·Σ|a||b| (scales with K), plus ε·|y| for the rounded reference' },
  conv2d: { atol: 0, rtol: 2 * EPS32, acc: 'linear', accEps: EPS32, why: 'im2col + matmul: (C/g)·kH·kW·ε·Σ|x||w|, plus the bias add' },
  unfold: exact,
  fold: { atol: 0, rtol: 0, acc: 'linear', accEps: EPS32, why: 'col2im sums ≤ kH·kW entries' },
  maxPool2d: exact,
  avgPool2d: { atol: 0, rtol: 2 * EPS32, acc: 'linear', accEps: EPS32, why: 'a window sum (≤ kH·kW terms) then one divide' },
  pool2dGrad: { atol: 0, rtol: 0, acc: 'linear', accEps: EPS32, why: 'each input gathers ≤ kH·kW contributions' },
  scatterAdd: { atol: 0, rtol: 0, acc: 'linear', accEps: EPS32, why: 'duplicates accumulate in some order' },

  // nn activations (composites)
  leakyRelu: rounded,
  gelu: { atol: 4e-6, rtol: 1e-5, why: '0.5·x·(1 + erf(x/√2)): erf abs error 1e-6 times |x| ≤ 6' },
  softplus: { atol: 1e-6, rtol: 1e-5, why: 'max(x,0) + log1p(exp(−|x|)), stable' },
  logSigmoid: { atol: 1e-6, rtol: 1e-5, why: '−softplus(−x), stable' },
  clip: exact,

  einsum: { atol: 0, rtol: 2 * EPS32, acc: 'linear', accEps: 2 * EPS32, why: 'contractions as float32 matmuls and sums: (terms per output)·ε·Σ|products| per contraction, plus the rounded result' },
  geluTanh: { atol: 4e-6, rtol: 1e-5, why: "0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))): tanh's few ulp times |x|/2 ≤ 3 where 1 + tanh cancels" },
  torch: { atol: 1e-5, rtol: 1e-4, why: "float32 against PyTorch 1.13's own float32 (another summation order)" },

  // gradients
  gradcheck: { atol: 2e-3, rtol: 2e-2, why: "autograd gradcheck defaults (eps 1e-2, central differences of float32 evaluations)" },
  gradAnalytic: { atol: 1e-6, rtol: 1e-5, why: 'gradients vs closed-form float64 formulas' },
  gradMatmul: { atol: 0, rtol: 0, acc: 'linear', accEps: 2 * EPS32, why: 'dA = G·Bᵀ, dB = Aᵀ·G: matmul bound' },
} satisfies Record<string, Tolerance>;

/** Names of the table's entries. */
export type ToleranceName = keyof typeof TOLERANCES;

/** The bound for one element. */
export function bound(tol: Tolerance, expected: number, mag = 0, n = 0): number {
  let b = tol.atol + tol.rtol * Math.abs(expected);
  if (tol.accEps && n > 0) {
    const f = tol.acc === 'linear' ? n : Math.ceil(Math.log2(Math.max(n, 1))) + 1;
    b += tol.accEps * f * mag;
  }
  return b;
}
