/**
 * Recurrent layers and the sequence losses against PyTorch 1.13 (fixtures/torch-seq.json, written by
 * fixtures/gen_torch_seq.py): outputs and every gradient, rtol 1e-4 / atol 1e-5.
 */
import { beforeAll, describe, it } from 'vitest';
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
