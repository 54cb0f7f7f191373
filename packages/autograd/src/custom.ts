/**
 * Functions with their own gradient: `customGrad(forward, backward)` records one op whose
 * gradient rule is the user's `backward` (like PyTorch's `torch.autograd.Function` or
 * TensorFlow.js's `tf.customGrad`).
 */
import { AxonError, Tensor, fmtShape, fmtValue, noGrad, record, tidy } from '@axon/core';

/**
 * The gradient of a {@link customGrad} function: given the upstream gradient `g` (shaped like the
 * output), the inputs and the output, returns one gradient per input, shaped like that input, or
 * `null` for an input that gets none. Write it with Axon ops: when the caller asks for
 * higher-order gradients (`grad` of `grad`), the backward computation is itself differentiated.
 */
export type CustomBackward = (g: Tensor, inputs: readonly Tensor[], output: Tensor) => readonly (Tensor | null)[];

/** Options of {@link customGrad}. */
export interface CustomGradOptions {
  /** The op's name in error messages and anomaly reports (default `'customGrad'`). */
  name?: string;
}

const OP = 'customGrad';

/**
 * Defines a differentiable function with a gradient you supply: `forward` computes the value
 * (its inner ops are not recorded, and the tensors it creates besides its result are freed), and
 * `backward` is used as its gradient. Use it for numerically stable gradients, straight-through
 * estimators, gradient clipping or reversal inside a model, or to save memory by recomputing.
 * The function accepts any number of tensor arguments and returns one tensor.
 * @example
 * ```ts
 * // log(1 + eˣ) whose gradient stays finite where the naive one overflows
 * const softplus = customGrad(
 *   (x) => x.exp().log1p(),
 *   (g, [x]) => [g.mul(x.sigmoid())],
 * );
 * const x = tensor([0, 100]).requireGrad();
 * softplus(x).sum().backward();
 * x.grad // [0.5, 1]
 * ```
 */
export function customGrad(forward: (...inputs: Tensor[]) => Tensor, backward: CustomBackward, options: CustomGradOptions = {}): (...inputs: Tensor[]) => Tensor {
  if (typeof forward !== 'function') throw new AxonError(OP, `expects a forward function of tensors returning a tensor, got ${fmtValue(forward)}`);
  if (typeof backward !== 'function') throw new AxonError(OP, `expects a backward function (g, inputs, output) => gradients, got ${fmtValue(backward)}`);
  if (options === null || typeof options !== 'object') throw new AxonError(OP, `options must be an object { name }, got ${fmtValue(options)}`);
  const name = options.name ?? OP;
  if (typeof name !== 'string' || name === '') throw new AxonError(OP, `options.name must be a non-empty string, got ${fmtValue(name)}`);
  return (...inputs: Tensor[]): Tensor => {
    inputs.forEach((a, i) => {
      if (!(a instanceof Tensor)) throw new AxonError(name, `argument ${i} is not a Tensor (got ${fmtValue(a)})`);
      a.assertLive(name);
    });
    // Everything forward creates besides its result is freed; nothing inside is recorded.
    const value: unknown = tidy(() => noGrad(() => forward(...inputs)));
    if (!(value instanceof Tensor)) {
      throw new AxonError(name, `the forward function must return a Tensor, got ${fmtValue(value)}`);
    }
    // Returning an input unchanged: record on a fresh handle, so the input is not made an op output.
    const out = inputs.includes(value) ? noGrad(() => value.contiguous()) : value;
    return record(OP, inputs, out, { backward, name });
  };
}

/** @internal The rule behind {@link customGrad}: calls the user's backward and checks what it returns. */
export function customRule(g: Tensor, inputs: readonly Tensor[], output: Tensor, attrs: Readonly<Record<string, unknown>>): (Tensor | null)[] {
  const name = attrs.name as string;
  const grads: unknown = (attrs.backward as CustomBackward)(g, inputs, output);
  if (!Array.isArray(grads) || grads.length !== inputs.length) {
    throw new AxonError(name, `the backward function must return an array of ${inputs.length} gradient(s) (a Tensor or null per input), got ${fmtValue(grads)}`);
  }
  return grads.map((d: unknown, i) => {
    if (d === null || d === undefined) return null;
    if (!(d instanceof Tensor)) throw new AxonError(name, `the backward function returned ${fmtValue(d)} for input ${i}; expected a Tensor shaped like the input ${fmtShape(inputs[i]!.shape)}, or null`);
    if (d.dtype !== 'float32') throw new AxonError(name, `the backward function returned a ${d.dtype} gradient for input ${i}; expected float32`);
    return d;
  });
}
