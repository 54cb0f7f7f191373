/**
 * @internal Helpers the built-in layers use to allocate their parameters: nothing half-built,
 * nothing leaked.
 */
import { AxonError, type Tensor, fmtShape, fmtValue, isTensor } from '@axon/core';
import type { InitFn, InitOptions } from './init.js';
import type { Module } from './module.js';

/**
 * @internal Creates parameter `name` of `m` from an initialiser, checking that it made a float32
 * tensor of `shape` (a custom initialiser returning another shape is an error, not a wrong layer).
 */
export function initParameter(m: Module<unknown, unknown>, name: string, init: InitFn, shape: readonly number[], o: InitOptions = {}): Tensor {
  return m.addParameter(name, () => {
    const t: unknown = init(shape, o);
    if (!isTensor(t) || t.rank !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new AxonError(`${m.className} '${m.name}'`, `the initialiser of '${name}' must return a Tensor of shape ${fmtShape(shape)}, got ${isTensor(t) ? `${fmtShape(t.shape)} ${t.dtype}` : fmtValue(t)}`);
    }
    return t;
  });
}

/**
 * @internal Runs a constructor's allocations so that a failure half-way (out of memory, a bad
 * initialiser) frees what was already allocated: `m` is then disposed and the error rethrown.
 */
export function allocating(m: Module<unknown, unknown>, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    m.dispose();
    throw e;
  }
}

