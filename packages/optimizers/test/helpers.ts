/** Test helpers: backend selection, seeded data, float64 comparisons. */
import { expect } from 'vitest';
import { type Tensor, getBackend, registerBackend, setBackend, tensor } from '@axon/core';
import '@axon/autograd';

/** The seed for random test data: fresh each run (override with AXON_SEED); printed on failure. */
export const SEED = Number(process.env.AXON_SEED ?? Date.now() % 1_000_000_007);

/** Selects the backend the tests run on: the WASM backend (build it first: turbo does). */
export async function useTestBackend(): Promise<string> {
  const spec = '@axon/backend-wasm';
  await import(/* @vite-ignore */ spec);
  await setBackend('wasm');
  return getBackend().name;
}

/** A seeded generator of float32-representable normal samples. */
export function rng(seed: number): { normal: (n: number, scale?: number) => number[] } {
  let s = seed >>> 0 || 1;
  const uniform = (): number => {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    normal(n, scale = 1) {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const u1 = Math.max(uniform(), 1e-12);
        const u2 = uniform();
        out.push(Math.fround(scale * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)));
      }
      return out;
    },
  };
}

/** A parameter (requires grad) holding `values` with `shape`. */
export function param(values: number[], shape: number[], name?: string): Tensor {
  const t = tensor(values, shape).requireGrad();
  if (name !== undefined) t.name = name;
  return t;
}

/** Sets `p.grad` to a fresh tensor holding `values` (disposing any previous grad). */
export function setGrad(p: Tensor, values: number[], shape: readonly number[] = p.shape): void {
  p.grad?.dispose();
  p.grad = tensor(values, [...shape]);
}

/** The values of `t` as numbers. */
export function values(t: Tensor): number[] {
  return Array.from(t.dataSync());
}

/** Asserts |got − want| ≤ rtol·max(1, |want|) elementwise. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, rtol = 1e-5, what = ''): void {
  expect(got.length, `${what} length`).toBe(want.length);
  for (let i = 0; i < got.length; i++) {
    const tol = rtol * Math.max(1, Math.abs(want[i]!));
    const err = Math.abs(got[i]! - want[i]!);
    if (!(err <= tol)) {
      expect.fail(`${what}[${i}]: got ${got[i]}, want ${want[i]} (|err| ${err} > ${tol}; seed ${SEED})`);
    }
  }
}

/**
 * Registers and selects `'wasm-async'`: the WASM backend seen through a proxy that cannot read
 * synchronously (`supportsSyncRead` false, `readSync` throws), like WebGPU. It runs the
 * asynchronous code paths (anomaly guards read back nothing during a step) on the CPU.
 */
export async function useAsyncTestBackend(): Promise<void> {
  await useTestBackend();
  const wasm = getBackend();
  registerBackend({
    name: 'wasm-async',
    priority: -100,
    create: () =>
      new Proxy(wasm, {
        get(target, prop) {
          if (prop === 'name') return 'wasm-async';
          if (prop === 'supportsSyncRead') return false;
          if (prop === 'readSync') {
            return () => {
              throw new Error('wasm-async: readSync is not available (an asynchronous backend)');
            };
          }
          const v = Reflect.get(target, prop, target) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      }),
  });
  await setBackend('wasm-async');
}
