/**
 * Gradient clipping: PyTorch-style `clipGradNorm` / `clipGradValue` over parameters' `.grad`, and
 * the Keras-style per-tensor helpers the optimizers' `clipNorm` / `globalClipNorm` / `clipValue`
 * options use. Everything is computed with backend ops: nothing is read back to the host.
 */
import { AxonError, type Tensor, add, clip, div, fmtShape, fmtValue, isTensor, maximum, minimum, noGrad, scalar, tidy } from '@axon/core';

function paramList(op: string, params: Tensor | Iterable<Tensor>): Tensor[] {
  if (!isTensor(params) && (params === null || typeof params !== 'object' || typeof (params as Iterable<Tensor>)[Symbol.iterator] !== 'function')) {
    throw new AxonError(op, `params must be a tensor or a list of tensors, got ${fmtValue(params)}`);
  }
  const list = isTensor(params) ? [params] : [...params];
  list.forEach((p, i) => {
    if (!isTensor(p)) throw new AxonError(op, `params[${i}] is not a Tensor, got ${fmtValue(p)}`);
    if (p.isDisposed) throw new AxonError(op, `params[${i}] (tensor #${p.id} ${fmtShape(p.shape)}) was disposed`);
  });
  return list;
}

/** The tensors of a Keras-style clip helper: a list of live float32 tensors. */
function tensorList(op: string, tensors: unknown): Tensor[] {
  if (!Array.isArray(tensors)) throw new AxonError(op, `expects a list of tensors, got ${fmtValue(tensors)}`);
  tensors.forEach((g: unknown, i) => checkFloat(op, `tensors[${i}]`, g));
  return tensors as Tensor[];
}

function checkFloat(op: string, what: string, g: unknown): asserts g is Tensor {
  if (!isTensor(g)) throw new AxonError(op, `${what} must be a Tensor, got ${fmtValue(g)}`);
  if (g.isDisposed) throw new AxonError(op, `${what} (tensor #${g.id} ${fmtShape(g.shape)}) was disposed`);
  if (g.dtype !== 'float32') throw new AxonError(op, `${what} must be float32, got ${g.dtype} ${fmtShape(g.shape)}`);
}

/** A clipping bound: a positive finite number (Keras refuses 0 and negative bounds too). */
function checkBound(op: string, what: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new AxonError(op, `${what} must be a positive finite number, got ${fmtValue(v)}`);
}

function withGrads(op: string, params: Tensor[]): { p: Tensor; g: Tensor }[] {
  const out: { p: Tensor; g: Tensor }[] = [];
  for (const p of params) {
    const g = p.grad;
    if (!g) continue;
    if (g.isDisposed) throw new AxonError(op, `the grad of tensor #${p.id} was disposed`);
    if (g.dtype !== 'float32' || p.dtype !== 'float32') throw new AxonError(op, `gradients must be float32; tensor #${p.id} ${fmtShape(p.shape)} is ${p.dtype} with a ${g.dtype} grad`);
    out.push({ p, g });
  }
  return out;
}

function checkNormType(op: string, normType: number): void {
  if (typeof normType !== 'number' || Number.isNaN(normType) || !(normType > 0)) {
    throw new AxonError(op, `normType must be a positive number or Infinity, got ${fmtValue(normType)}`);
  }
}

/** Σ|g|^p for finite p (Σg² for p = 2), or max|g| for p = ∞: a scalar tensor. */
function normPart(g: Tensor, p: number): Tensor {
  if (p === Infinity) return g.abs().max();
  if (p === 2) return g.square().sum();
  if (p === 1) return g.abs().sum();
  return g.abs().pow(p).sum();
}

/** Combines {@link normPart}s into the norm. */
function combine(parts: Tensor[], p: number): Tensor {
  let acc = parts[0]!;
  for (let i = 1; i < parts.length; i++) acc = p === Infinity ? maximum(acc, parts[i]!) : add(acc, parts[i]!);
  if (p === Infinity || p === 1) return acc;
  if (p === 2) return acc.sqrt();
  return acc.pow(1 / p);
}

/**
 * The `normType`-norm of all the tensors together (as if concatenated): a scalar tensor the
 * caller owns. Computed with backend ops only.
 * @example
 * ```ts
 * const g1 = tensor([3, 0]);
 * const g2 = tensor([[-4]]);
 * const l2 = globalNorm([g1, g2]);
 * await l2.itemAsync() // 5
 * const max = globalNorm([g1, g2], Infinity);
 * await max.itemAsync() // 4
 * const l1 = globalNorm([g1, g2], 1);
 * await l1.itemAsync() // 7
 * for (const t of [l2, max, l1]) t.dispose();
 * ```
 */
export function globalNorm(tensors: readonly Tensor[], normType = 2): Tensor {
  checkNormType('globalNorm', normType);
  tensorList('globalNorm', tensors);
  if (tensors.length === 0) return scalar(0);
  return tidy(() => noGrad(() => combine(tensors.map((g) => normPart(g, normType)), normType)));
}

/**
 * Rescales the gradients of `params` in place (`grad.assign`) so that their joint norm is at most
 * `maxNorm`, like PyTorch's `clip_grad_norm_`: every gradient is multiplied by
 * `min(1, maxNorm / (totalNorm + 1e-6))`. Parameters without a gradient are ignored.
 *
 * Returns the total norm before clipping as a scalar tensor the caller owns (dispose it; read it
 * with `.item()` if you need the number). The scale is computed on the backend with `minimum`, so
 * clipping itself reads nothing back.
 *
 * @param normType the p of the p-norm (2 by default; `Infinity` for the max-norm)
 * @example
 * ```ts
 * const w = tensor([1, 1]).requireGrad();
 * const b = tensor([0]).requireGrad();
 * const opt = new SGD([w, b], { lr: 0.1 });
 * tidy(() => w.mul(tensor([3, 4])).sum().backward()); // w.grad = [3, 4]; b gets none
 * const norm = clipGradNorm([w, b], 1);
 * await norm.itemAsync() // 5
 * await w.grad!.array() // [0.6, 0.8]
 * opt.step();
 * await w.array() // [0.94, 0.92]
 * norm.dispose();
 * ```
 */
export function clipGradNorm(params: Tensor | Iterable<Tensor>, maxNorm: number, normType = 2): Tensor {
  const op = 'clipGradNorm';
  if (typeof maxNorm !== 'number' || Number.isNaN(maxNorm) || maxNorm < 0) throw new AxonError(op, `maxNorm must be a number >= 0, got ${fmtValue(maxNorm)}`);
  checkNormType(op, normType);
  const items = withGrads(op, paramList(op, params));
  if (items.length === 0) return scalar(0);
  const { total, grads } = tidy(() =>
    noGrad(() => {
      const total = combine(items.map(({ g }) => normPart(g, normType)), normType);
      const coef = minimum(div(maxNorm, add(total, 1e-6)), 1);
      return { total, grads: items.map(({ g }) => g.mul(coef)) };
    }),
  );
  // grads match their targets (validated above), so assigning cannot fail half-way.
  items.forEach(({ g }, i) => g.assign(grads[i]!));
  return total;
}

/**
 * Clamps every gradient element of `params` to [−value, value] in place (`grad.assign`), like
 * PyTorch's `clip_grad_value_`. Parameters without a gradient are ignored.
 * @example
 * ```ts
 * const w = tensor([1, 2, 3]).requireGrad();
 * const b = tensor([0]).requireGrad();
 * w.grad = tensor([0.2, -3, 0.7]);
 * clipGradValue([w, b], 0.5);
 * await w.grad!.array() // [0.2, -0.5, 0.5]
 * b.grad // null
 * ```
 */
export function clipGradValue(params: Tensor | Iterable<Tensor>, value: number): void {
  const op = 'clipGradValue';
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) throw new AxonError(op, `value must be a number >= 0, got ${fmtValue(value)}`);
  const items = withGrads(op, paramList(op, params));
  const clipped = tidy(() => noGrad(() => items.map(({ g }) => clip(g, -value, value))));
  items.forEach(({ g }, i) => g.assign(clipped[i]!));
}

/**
 * Keras `clip_by_norm`: `g · maxNorm / max(‖g‖₂, maxNorm)` (unchanged when the norm is at most
 * `maxNorm`). Returns a new tensor; backend ops only.
 * @example
 * ```ts
 * const g = tensor([3, 4]); // norm 5
 * const c = clipByNorm(g, 1);
 * await c.array() // [0.6, 0.8]
 * const same = clipByNorm(tensor([0.3, 0.4]), 1);
 * await same.array() // [0.3, 0.4]
 * ```
 */
export function clipByNorm(g: Tensor, maxNorm: number): Tensor {
  checkFloat('clipByNorm', 'the tensor', g);
  checkBound('clipByNorm', 'maxNorm', maxNorm);
  return tidy(() => noGrad(() => g.mul(maxNorm).div(maximum(normPart(g, 2).sqrt(), maxNorm))));
}

/**
 * Keras `clip_by_global_norm`: every tensor times `maxNorm / max(globalNorm, maxNorm)`. Returns
 * the new tensors and the global norm (all owned by the caller); backend ops only.
 * @example
 * ```ts
 * const g1 = tensor([3, 0]);
 * const g2 = tensor([4]);
 * const { grads, norm } = clipByGlobalNorm([g1, g2], 1);
 * await norm.itemAsync() // 5
 * await Promise.all(grads.map((g) => g.array())) // [[0.6, 0], [0.8]]
 * ```
 */
export function clipByGlobalNorm(tensors: readonly Tensor[], maxNorm: number): { grads: Tensor[]; norm: Tensor } {
  tensorList('clipByGlobalNorm', tensors);
  checkBound('clipByGlobalNorm', 'maxNorm', maxNorm);
  if (tensors.length === 0) return { grads: [], norm: scalar(0) };
  return tidy(() =>
    noGrad(() => {
      const norm = combine(tensors.map((g) => normPart(g, 2)), 2);
      const scale = div(maxNorm, maximum(norm, maxNorm));
      return { grads: tensors.map((g) => g.mul(scale)), norm };
    }),
  );
}

/**
 * Keras `clip_by_value`: clamps to [−value, value]. Returns a new tensor.
 * @example
 * ```ts
 * const g = tensor([-2, 0.3, 1]);
 * const c = clipByValue(g, 0.5);
 * await c.array() // [-0.5, 0.3, 0.5]
 * ```
 */
export function clipByValue(g: Tensor, value: number): Tensor {
  checkFloat('clipByValue', 'the tensor', g);
  checkBound('clipByValue', 'value', value);
  return clip(g, -value, value);
}
