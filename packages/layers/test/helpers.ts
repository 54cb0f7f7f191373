/** Test helpers: backend selection and comparisons. */
import { expect } from 'vitest';
import { getBackend, registerBackend, setBackend } from '@axon/core';
import '@axon/autograd';
import { createRefBackend } from './ref-backend.js';

let chosen: string | null = null;

/**
 * Selects the backend the tests run on: the WASM backend when it is available (built), else the
 * plain-JS reference backend in ./ref-backend.ts. AXON_TEST_BACKEND=ref|wasm forces one.
 */
export async function useTestBackend(): Promise<string> {
  if (chosen) return chosen;
  const want = process.env.AXON_TEST_BACKEND;
  if (want !== 'ref') {
    try {
      const spec = '@axon/backend-wasm';
      await import(/* @vite-ignore */ spec);
      await setBackend('wasm');
      chosen = getBackend().name;
      return chosen;
    } catch (e) {
      if (want === 'wasm') throw e;
    }
  }
  registerBackend({ name: 'ref', priority: -100, create: createRefBackend });
  await setBackend('ref');
  chosen = 'ref';
  return chosen;
}

/** Asserts |got − want| ≤ tol·max(1, |want|) elementwise. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-5, what = ''): void {
  expect(got.length, `${what} length`).toBe(want.length);
  for (let i = 0; i < got.length; i++) {
    const t = tol * Math.max(1, Math.abs(want[i]!));
    const err = Math.abs(got[i]! - want[i]!);
    if (!(err <= t)) expect.fail(`${what}[${i}]: got ${got[i]}, want ${want[i]} (|err| ${err} > ${t})`);
  }
}
