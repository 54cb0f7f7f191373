import { AxonError, Tensor, enableGrad, fmtShape, fmtValue, isGradEnabled, noGrad, tidy } from '@axon/core';
import { gradients } from './engine.js';

/** A function of tensors returning a scalar tensor. */
export type ScalarFn = (...args: Tensor[]) => Tensor;

function prepare(args: readonly Tensor[]): { inputs: Tensor[]; createGraph: boolean } {
  args.forEach((a, i) => {
    if (!(a instanceof Tensor)) throw new AxonError('grad', `argument ${i} is not a Tensor (got ${fmtValue(a)})`);
    a.assertLive('grad');
  });
  const createGraph = isGradEnabled() && args.some((a) => a.requiresGrad);
  const inputs = args.map((a, i) => {
    if (a.dtype !== 'float32') throw new AxonError('grad', `argument ${i} must be float32 to be differentiated, got ${a.dtype} ${fmtShape(a.shape)}`);
    // Connected to an outer graph when the argument already requires grad (higher-order use);
    // otherwise a fresh leaf that shares the argument's storage.
    return a.requiresGrad ? enableGrad(() => a.contiguous()) : a.detach().requireGrad();
  });
  return { inputs, createGraph };
}

/**
 * `valueAndGrad(f)(...xs)` returns f's value and its gradient with respect to every argument,
 * without touching any `.grad`. Nest `grad` for higher-order derivatives.
 * @example
 * ```ts
 * const f = (x: Tensor, y: Tensor) => x.square().mul(y).sum(); // Σ x²·y
 * const { value, grads } = valueAndGrad(f)(tensor([1, 2]), tensor([3, 4]));
 * value // 19
 * grads[0] // [6, 16]
 * grads[1] // [1, 4]
 * ```
 */
export function valueAndGrad(f: ScalarFn): (...args: Tensor[]) => { value: Tensor; grads: Tensor[] } {
  if (typeof f !== 'function') throw new AxonError('valueAndGrad', `expects a function of tensors returning a scalar tensor, got ${fmtValue(f)}`);
  return (...args) => {
    const createGraph = isGradEnabled() && args.some((a) => a instanceof Tensor && !a.isDisposed && a.requiresGrad);
    const body = (): { value: Tensor; grads: Tensor[] } => {
      const { inputs } = prepare(args);
      const value = enableGrad(() => f(...inputs));
      if (!(value instanceof Tensor)) throw new AxonError('valueAndGrad', 'the function must return a Tensor');
      if (value.size !== 1) throw new AxonError('valueAndGrad', `the function must return a scalar (one element), got ${fmtShape(value.shape)}`);
      if (!value.requiresGrad) {
        const zeros = inputs.map((x) => noGrad(() => x.mul(0)));
        return { value: createGraph ? value : noGrad(() => value.detach()), grads: zeros };
      }
      const gs = gradients(value, inputs, undefined, createGraph);
      const grads = gs.map((g, i) => {
        if (!g) return noGrad(() => inputs[i]!.mul(0));
        return g.isContiguous ? g : g.contiguous();
      });
      return { value: createGraph ? value : noGrad(() => value.detach()), grads };
    };
    // Nested inside an outer differentiation, the intermediates are part of the outer graph and
    // live in the caller's scope; otherwise everything but the results is freed here.
    return createGraph ? body() : tidy(body);
  };
}

/**
 * `grad(f)(...xs)` returns the gradients of scalar-valued `f` with respect to each argument
 * (an array, one per argument). Composable: `grad((x) => grad(f)(x)[0].sum())` is a second
 * derivative.
 * @example
 * ```ts
 * grad((x) => x.mul(x).sum())(tensor([3]))[0] // [6]
 * // the second derivative of x³ is 6x:
 * const d1 = (x: Tensor) => grad((y) => y.pow(3).sum())(x)[0]!.sum();
 * grad(d1)(tensor([2]))[0] // [12]
 * ```
 */
export function grad(f: ScalarFn): (...args: Tensor[]) => Tensor[] {
  if (typeof f !== 'function') throw new AxonError('grad', `expects a function of tensors returning a scalar tensor, got ${fmtValue(f)}`);
  const vg = valueAndGrad(f);
  return (...args) => {
    const { value, grads } = vg(...args);
    if (!value.requiresGrad) value.dispose();
    return grads;
  };
}

/** Options of {@link gradcheck}. */
export interface GradcheckOptions {
  /** Finite-difference step (default 1e-2 for float32 evaluation). */
  eps?: number;
  /** Absolute tolerance (default 2e-3). */
  atol?: number;
  /** Relative tolerance (default 2e-2). */
  rtol?: number;
}

/** The result of a {@link gradcheck}. */
export interface GradcheckResult {
  ok: boolean;
  /** Largest |analytic − numeric| − rtol·|numeric| seen, with where. */
  worst: { input: number; index: number; analytic: number; numeric: number };
  message: string;
}

/**
 * Compares autograd's gradient of scalar `f` with central finite differences computed in
 * float64 from float32 evaluations: |analytic − numeric| ≤ atol + rtol·|numeric| everywhere.
 * Reads values synchronously; on backends that cannot (WebGPU) use {@link gradcheckAsync}.
 * @example
 * ```ts
 * const r = gradcheck((x) => x.tanh().sum(), [randn([3], { seed: 1 })]);
 * r.ok // true
 * r.worst.analytic - r.worst.numeric < 1e-3 // true
 * ```
 */
export function gradcheck(f: ScalarFn, inputs: readonly Tensor[], opts: GradcheckOptions = {}): GradcheckResult {
  const run = check(f, inputs, opts, (t) => t.dataSync());
  let r = run.next();
  while (!r.done) r = run.next(r.value.dataSync());
  return r.value;
}

/**
 * {@link gradcheck} for any backend: reads values with `await t.data()`.
 * @example (await gradcheckAsync((x) => x.exp().sum(), [randn([3], { seed: 1 })])).ok // true
 */
export async function gradcheckAsync(f: ScalarFn, inputs: readonly Tensor[], opts: GradcheckOptions = {}): Promise<GradcheckResult> {
  const hosts = await Promise.all(inputs.map((t) => t.data()));
  const run = check(f, inputs, opts, (t) => hosts[inputs.indexOf(t)]!);
  let r = run.next();
  while (!r.done) {
    const t = r.value;
    r = run.next(await t.data());
  }
  return r.value;
}

/**
 * The comparison as a generator: it yields each tensor whose values it needs and is resumed with
 * them, so the same code serves synchronous and asynchronous reads. Yielded tensors are owned by
 * the generator and freed after use.
 */
function* check(
  f: ScalarFn,
  inputs: readonly Tensor[],
  opts: GradcheckOptions,
  host: (t: Tensor) => ArrayLike<number>,
): Generator<Tensor, GradcheckResult, ArrayLike<number>> {
  const eps = opts.eps ?? 1e-2;
  const atol = opts.atol ?? 2e-3;
  const rtol = opts.rtol ?? 2e-2;
  const analytic: Float64Array[] = [];
  for (const g of noGrad(() => grad(f)(...inputs))) {
    try {
      analytic.push(Float64Array.from(yield g));
    } finally {
      g.dispose();
    }
  }
  const base = inputs.map((x) => Float32Array.from(host(x)));
  function* evalAt(k: number, idx: number, delta: number): Generator<Tensor, number, ArrayLike<number>> {
    const data = Float32Array.from(base[k]!);
    data[idx] = Math.fround(data[idx]! + delta);
    const moved = fromData(inputs[k]!, data);
    const v = tidy(() => noGrad(() => f(...inputs.map((x, j) => (j === k ? moved : x)))));
    moved.dispose();
    try {
      return (yield v)[0]!;
    } finally {
      v.dispose();
    }
  }
  let worst = { input: -1, index: -1, analytic: 0, numeric: 0 };
  let worstExcess = -Infinity;
  let ok = true;
  for (let k = 0; k < inputs.length; k++) {
    const n = inputs[k]!.size;
    for (let i = 0; i < n; i++) {
      const xi = base[k]![i]!;
      const plus = Math.fround(xi + eps) - xi;
      const minus = xi - Math.fround(xi - eps);
      const fp = yield* evalAt(k, i, eps);
      const fm = yield* evalAt(k, i, -eps);
      const numeric = (fp - fm) / (plus + minus);
      const a = analytic[k]![i]!;
      const excess = Math.abs(a - numeric) - (atol + rtol * Math.abs(numeric));
      if (excess > worstExcess) {
        worstExcess = excess;
        worst = { input: k, index: i, analytic: a, numeric };
      }
      if (!(excess <= 0)) ok = false;
    }
  }
  const message = ok
    ? 'gradcheck passed'
    : `gradcheck failed: input ${worst.input}, element ${worst.index}: analytic ${worst.analytic} vs numeric ${worst.numeric} (atol ${atol}, rtol ${rtol}, eps ${eps})`;
  return { ok, worst, message };
}

function fromData(like: Tensor, data: Float32Array): Tensor {
  // A tensor on like's backend holding `data` (shape and dtype of `like`).
  const t = noGrad(() => like.mul(0)); // a fresh contiguous tensor on like's backend
  t.backend.write(t.storage.buf, data);
  return t;
}
