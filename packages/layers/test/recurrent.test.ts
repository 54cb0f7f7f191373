/**
 * Recurrent layers and the sequence losses against PyTorch 1.13 (fixtures/torch-seq.json, written by
 * fixtures/gen_torch_seq.py): outputs and every gradient, rtol 1e-4 / atol 1e-5.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { profile, randn, tidy } from '@axon/core';
import { LSTM } from '../src/index.js';
import { useTestBackend } from './helpers.js';
import { FIXTURES, checkTorchCase } from './seq-fixtures.js';

beforeAll(async () => {
  await useTestBackend();
});

describe('PyTorch-front recurrent modules against PyTorch 1.13 (WASM)', () => {
  for (const c of FIXTURES.rnn) {
    it(`${c.kind} ${c.name}: outputs, hN${c.kind === 'LSTM' ? ', cN' : ''} and the gradients of x, h0 and every parameter`, async () => {
      await checkTorchCase(c);
    });
  }
});

describe('backward cost', () => {
  it('an LSTM over T steps writes O(T) bytes forward + backward (per-step inputs are one unbind, not T padded slice gradients)', () => {
    const lstm = new LSTM(4, 8);
    const written = (T: number): number =>
      profile(() =>
        tidy(() => {
          const x = randn([T, 2, 4]).requireGrad();
          lstm.forward(x)[0].sum().backward();
          x.grad!.dispose();
          lstm.zeroGrad();
        }),
      ).report.bytesWritten;
    written(8); // warm-up (kernels compiled)
    const a = written(60);
    const b = written(120);
    expect(b / a).toBeLessThan(2.4);
    lstm.dispose();
  });
});
