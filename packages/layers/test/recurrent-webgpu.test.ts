/**
 * The PyTorch fixtures of recurrent.test.ts, recurrent-keras.test.ts and losses-seq.test.ts on the
 * WebGPU backend (lavapipe in CI: VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.json). When no
 * adapter can be obtained the first test FAILS naming the reason, as backend-webgpu's conformance
 * suite does; set AXON_SKIP_WEBGPU=1 to skip on a machine without Vulkan.
 */
import { it } from 'vitest';
import { type Tensor, setBackend, tidy } from '@axon/core';
import { huberLoss, klDivLoss, nllLoss, smoothL1Loss, l1Loss } from '../src/index.js';
import { describeOnWebGPU } from './helpers.js';
import { FIXTURES, byName, checkKeras, checkTorchCase, expectAllClose, t } from './seq-fixtures.js';

describeOnWebGPU('recurrent layers and losses against PyTorch 1.13 on WebGPU', () => {

  for (const c of FIXTURES.rnn) {
    it(`${c.kind} ${c.name}: outputs, states and every gradient`, async () => {
      await setBackend('webgpu');
      await checkTorchCase(c);
    });
  }
  for (const name of ['rnn_tanh', 'lstm', 'gru']) {
    it(`Keras front from PyTorch ${name} weights: outputs, states and every gradient`, async () => {
      await setBackend('webgpu');
      await checkKeras(byName(name));
    });
  }
  it('every loss case: value and input gradient', async () => {
    await setBackend('webgpu');
    const fns: Record<string, (x: Tensor, y: Tensor, o: Record<string, unknown>, w?: Tensor) => Tensor> = {
      nllLoss: (x, y, o, w) => nllLoss(x, y, { reduction: o['reduction'] as 'mean', ...(o['ignore_index'] !== undefined ? { ignoreIndex: o['ignore_index'] as number } : {}), ...(w ? { weight: w } : {}) }),
      l1Loss: (x, y, o) => l1Loss(x, y, { reduction: o['reduction'] as 'mean' }),
      huberLoss: (x, y, o) => huberLoss(x, y, { reduction: o['reduction'] as 'mean', ...(o['delta'] !== undefined ? { delta: o['delta'] as number } : {}) }),
      smoothL1Loss: (x, y, o) => smoothL1Loss(x, y, { reduction: o['reduction'] as 'mean', ...(o['beta'] !== undefined ? { beta: o['beta'] as number } : {}) }),
      klDivLoss: (x, y, o) => klDivLoss(x, y, { reduction: o['reduction'] as 'mean', logTarget: o['log_target'] === true }),
    };
    for (const [name, cases] of Object.entries(FIXTURES.losses)) {
      for (const c of cases) {
        const x = t(c.x).requireGrad();
        const y = t(c.target, c.targetDtype);
        const w = c.weight ? t(c.weight) : undefined;
        const out = tidy(() => {
          const l = fns[name]!(x, y, c.opts, w);
          l.mul(t(c.wo)).sum().backward();
          return l;
        });
        await expectAllClose(out, c.output, `${name} ${c.name}`);
        await expectAllClose(x.grad!, c.grad, `${name} ${c.name} grad`);
        for (const v of [out, x.grad, x, y, w]) v?.dispose();
      }
    }
  });
});
