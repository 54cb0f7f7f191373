/**
 * @internal Argument and option checks shared by the layers, losses and metrics: every bad value
 * becomes an {@link AxonError} naming the caller, the value and what was expected, before anything
 * is allocated.
 */
import { AxonError, type Tensor, fmtShape, fmtValue, isTensor } from '@axon/core';

/**
 * @internal The options object of `op`: `undefined` gives `{}`; anything but a plain object (null,
 * a number, a string, a Symbol, a BigInt, a function, an array, a tensor) is an error, and so is a
 * key that is not in `allowed` (a misspelt option would otherwise be ignored silently).
 * @example const o = optionsOf<DenseOptions>('Dense', opts, ['name', 'inputShape', 'activation']);
 */
export function optionsOf<T extends object>(op: string, opts: unknown, allowed: readonly string[]): T {
  if (opts === undefined) return {} as T;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts) || isTensor(opts) || ArrayBuffer.isView(opts)) {
    throw new AxonError(op, `options must be an object such as { ${allowed.slice(0, 2).map((k) => `${k}: …`).join(', ')} }, got ${fmtValue(opts)}`);
  }
  const proto: unknown = Object.getPrototypeOf(opts);
  if (proto !== Object.prototype && proto !== null) throw new AxonError(op, `options must be a plain object, got ${fmtValue(opts)}`);
  for (const k of Reflect.ownKeys(opts)) {
    if (typeof k !== 'string' || !allowed.includes(k)) {
      throw new AxonError(op, `unknown option ${typeof k === 'string' ? `'${k}'` : String(k)}; expected ${allowed.length ? allowed.join(', ') : 'none'}`);
    }
  }
  return opts as T;
}

/** @internal An optional layer name: a non-empty string. */
export function optName(op: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new AxonError(op, `name must be a non-empty string, got ${fmtValue(v)}`);
  return v;
}

/** @internal An optional boolean option. */
export function optBool(op: string, what: string, v: unknown): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new AxonError(op, `${what} must be true or false, got ${fmtValue(v)}`);
  return v;
}

/** Largest size one axis or one shape may have (as core: 2^31 − 1 elements). */
const MAX_ELEMENTS = 2 ** 31 - 1;

/**
 * @internal An integer in [min, max].
 * @example checkInt('Dense', 'units', units)
 */
export function checkInt(op: string, what: string, v: unknown, min = 1, max = MAX_ELEMENTS): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new AxonError(op, `${what} must be an integer ${max === MAX_ELEMENTS ? `>= ${min}` : `in [${min}, ${max}]`}, got ${fmtValue(v)}`);
  }
  return v;
}

/** @internal A finite number, optionally in [min, max]. */
export function checkFinite(op: string, what: string, v: unknown, min = -Infinity, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    const range = min === -Infinity && max === Infinity ? 'a finite number' : max === Infinity ? `a finite number >= ${min}` : `a number in [${min}, ${max}]`;
    throw new AxonError(op, `${what} must be ${range}, got ${fmtValue(v)}`);
  }
  return v;
}

/**
 * @internal An optional `inputShape` (one example's shape, no batch axis): at most 16 positive
 * integer sizes whose product is at most 2^31 − 1. Returns a copy.
 */
export function optInputShape(op: string, v: unknown): number[] | undefined {
  if (v === undefined) return undefined;
  return checkExampleShape(op, 'inputShape', v);
}

/** @internal One example's shape (see {@link optInputShape}); returns a copy. */
export function checkExampleShape(op: string, what: string, v: unknown): number[] {
  if (!Array.isArray(v) || v.length > 16 || !v.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 1 && d <= MAX_ELEMENTS)) {
    throw new AxonError(op, `${what} must be an array of at most 16 positive integers (one example's shape, without the batch axis), got ${fmtValue(v)}`);
  }
  const shape = [...(v as number[])];
  if (shape.reduce((a, b) => a * b, 1) > MAX_ELEMENTS) throw new AxonError(op, `${what} ${fmtShape(shape)} has more than 2^31-1 elements per example`);
  return shape;
}

/** @internal Throws unless `x` is a live tensor. */
export function checkTensor(op: string, what: string, x: unknown): asserts x is Tensor {
  if (!isTensor(x)) throw new AxonError(op, `${what} must be a Tensor, got ${fmtValue(x)}`);
  if (x.isDisposed) throw new AxonError(op, `${what} (tensor #${x.id} ${fmtShape(x.shape)} ${x.dtype}) was disposed`);
}

/**
 * @internal Runs a composite computation so that it leaks nothing: `fn` registers every tensor it
 * creates with `tmp`; when it throws they are all freed, and when it returns, those that are not
 * the result, not one of `inputs` and not needed by autograd for a backward pass are freed (the
 * ones autograd needs belong to the caller's `tidy` scope, as for core's composite ops).
 * @example const y = composite([x], (tmp) => tmp(x.mul(2)).add(1));
 */
export function composite<R extends Tensor>(inputs: readonly (Tensor | null | undefined)[], fn: (tmp: <T extends Tensor>(t: T) => T) => R): R {
  const made: Tensor[] = [];
  const tmp = <T extends Tensor>(t: T): T => {
    made.push(t);
    return t;
  };
  const mine = (t: Tensor): boolean => !t.kept && !inputs.includes(t);
  let r: R;
  try {
    r = fn(tmp);
  } catch (e) {
    for (const t of made) if (mine(t)) t.dispose();
    throw e;
  }
  for (const t of made) if (t !== r && mine(t) && !t.requiresGrad && !t.savedForBackward) t.dispose();
  return r;
}
