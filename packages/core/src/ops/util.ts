/** Helpers shared by the op library (not exported from the package). */
import type { Backend } from '../backend.js';
import { type DType } from '../dtype.js';
import { allocStorage, failSafe, noteBackend } from '../engine.js';
import { AxonError, fmtShape, fmtValue } from '../errors.js';
import { getBackend } from '../registry.js';
import { type Shape, sizeOf } from '../shape.js';
import { Tensor, type TensorLike } from '../tensor.js';
import { fusionOn, lazyScalar } from '../lazy.js';

/** Allocates a fresh contiguous tensor on `backend`. */
export function empty(backend: Backend, shape: Shape, dtype: DType): Tensor {
  noteBackend(backend);
  return new Tensor(allocStorage(backend, dtype, sizeOf(shape)), shape, dtype);
}

/** The backend every input lives on; throws when they differ or one is disposed. */
export function backendOf(op: string, ...ts: Tensor[]): Backend {
  let b: Backend | null = null;
  for (const t of ts) {
    if (!(t instanceof Tensor)) throw new AxonError(op, `expected a Tensor, got ${describe(t)}`);
    t.assertLive(op);
    if (b === null) b = t.backend;
    else if (t.backend !== b) {
      throw new AxonError(op, `inputs live on different backends ('${b.name}' and '${t.backend.name}'); move one with await t.toBackend('${b.name}')`);
    }
  }
  if (b !== null && b.lostReason !== undefined) {
    // an op that only records an expression (fusion on) must fail here too, as a kernel would
    throw new AxonError(op, `the ${b.name} backend lost its device (${b.lostReason}); call \`await setBackend('${b.name}')\` to start a fresh one (tensors on the lost device are gone and must be recreated)`);
  }
  return b ?? currentBackend();
}

export function currentBackend(): Backend {
  const b = getBackend();
  noteBackend(b);
  return b;
}

export function describe(x: unknown): string {
  if (x instanceof Tensor) return `Tensor ${fmtShape(x.shape)} ${x.dtype}`;
  if (Array.isArray(x)) return 'an array';
  return typeof x;
}

/** Turns a number/boolean operand into a scalar tensor of a dtype compatible with `like`. */
export function toTensor(op: string, x: TensorLike, like: Tensor): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x === 'boolean') return scalarOn(like.backend, x ? 1 : 0, 'bool');
  if (typeof x !== 'number') throw new AxonError(op, `expected a Tensor or a number, got ${describe(x)}`);
  const dtype: DType = like.dtype === 'float32' || !Number.isInteger(x) ? 'float32' : 'int32';
  return scalarOn(like.backend, x, dtype);
}

export function scalarOn(backend: Backend, value: number, dtype: DType): Tensor {
  // with fusion on, a float32/bool scalar is a constant of the kernel that reads it
  if (fusionOn() && dtype !== 'int32') return lazyScalar(backend, value, dtype);
  const t = empty(backend, [], dtype);
  backend.fill(t.storage.buf, value);
  return t;
}

/**
 * Frees an intermediate of a composite op unless autograd recorded it or saved it for a gradient
 * (then the enclosing `tidy` scope frees it after backward).
 */
export function drop(...ts: Tensor[]): void {
  for (const t of ts) if (!t.requiresGrad && !t.savedForBackward) t.dispose();
}

/**
 * Runs a composite op's body: `k(t)` marks `t` an intermediate, dropped (see {@link drop}) when
 * the body returns unless it is (part of) the result; everything is freed when the body throws.
 */
export function comp<R extends Tensor | { [key: string]: Tensor }>(fn: (k: <T extends Tensor>(t: T) => T) => R): R {
  return failSafe(() => {
    const ts: Tensor[] = [];
    const r = fn((t) => (ts.push(t), t));
    const out = new Set<Tensor>(r instanceof Tensor ? [r] : Object.values(r));
    drop(...ts.filter((t) => !out.has(t)));
    return r;
  });
}

/** PyTorch's rule: a pooling window never lies wholly in padding (it would give -Infinity or 0 / 0). */
export function halfPad(op: string, pads: readonly number[], k: number): void {
  if (pads.some((p) => p * 2 > k)) throw new AxonError(op, `padding ${fmtValue(pads)} must be at most half the kernel size ${k}`);
}
