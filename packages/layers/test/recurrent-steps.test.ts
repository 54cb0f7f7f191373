/**
 * Per-step costs of the recurrent loop: a step's gates come from one `split` (one group op whose
 * gradient is one concat), GRU reset-before splits its recurrent weight once before the loop, and a
 * mask is unbound once. Before, every gate of every step was a `slice` whose gradient was a
 * full-size zero pad: one `fill` kernel per gate and step in backward (4·T for an LSTM).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type Tensor, memory, profile, randn, tidy } from '@axon/core';
import { GRU, KerasGRU, KerasLSTM, LSTM } from '../src/index.js';
import { useTestBackend } from './helpers.js';

beforeAll(async () => {
  await useTestBackend();
});

/** fill kernels and bytes written by one forward + backward over T steps. */
function cost(make: () => LSTM | GRU | KerasGRU | KerasLSTM, xShape: (T: number) => number[], T: number): { fills: number; bytes: number } {
  const m = make();
  if (m instanceof KerasGRU || m instanceof KerasLSTM) m.build(8); // the Keras layers build on the first call
  const x = randn(xShape(T)).requireGrad();
  const before = memory().numTensors;
  const { report } = profile(() =>
    tidy(() => {
      const r: unknown = m.forward(x);
      const out = (Array.isArray(r) ? r[0] : r) as Tensor;
      out.square().sum().backward();
    }),
  );
  x.dispose();
  m.zeroGrad();
  expect(memory().numTensors).toBe(before - 1);
  m.dispose();
  return { fills: report.byKind['fill']?.count ?? 0, bytes: report.bytesWritten };
}

describe('recurrent per-step costs', () => {
  const cases: [string, () => LSTM | GRU | KerasGRU | KerasLSTM, (T: number) => number[]][] = [
    ['LSTM', () => new LSTM(8, 16), (T) => [T, 4, 8]],
    ['GRU (reset-after)', () => new GRU(8, 16), (T) => [T, 4, 8]],
    ['KerasGRU resetAfter: false (reset-before)', () => new KerasGRU(16, { resetAfter: false }), (T) => [4, T, 8]],
    ['KerasLSTM with a mask', () => new KerasLSTM(16, { maskValue: 0 }), (T) => [4, T, 8]],
  ];
  for (const [name, make, shape] of cases) {
    it(`${name}: backward launches no per-gate zero pads (fewer than one fill kernel per step)`, () => {
      const a = cost(make, shape, 10);
      const b = cost(make, shape, 20);
      // fewer than one fill per step (before: one per gate and step, 4 for an LSTM, 6 for a GRU);
      // without a mask none at all per step. With one, the where rule's zeros are realized now and
      // then by the lazy engine (about one per 2–3 steps), which is not the gates' business.
      expect(b.fills - a.fills, `${name}: fills at T 10 ${a.fills}, at T 20 ${b.fills}`).toBeLessThan(name.includes('mask') ? 10 : 1);
    });
  }
});
