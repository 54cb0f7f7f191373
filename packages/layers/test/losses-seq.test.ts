/** nllLoss, l1Loss, huberLoss, smoothL1Loss, klDivLoss against PyTorch 1.13 (fixtures/torch-seq.json): values and input gradients. */
import { beforeAll, describe, expect, it } from 'vitest';
import { type Tensor, memory, tensor, tidy } from '@axon/core';
import { HuberLoss, KLDivLoss, L1Loss, NLLLoss, SmoothL1Loss, getLoss, huberLoss, klDivLoss, l1Loss, nllLoss, smoothL1Loss } from '../src/index.js';
import { useTestBackend } from './helpers.js';
import { FIXTURES, type LossCase, expectAllClose, t } from './seq-fixtures.js';

beforeAll(async () => {
  await useTestBackend();
});

type Fn = (x: Tensor, target: Tensor, c: LossCase, weight: Tensor | undefined) => Tensor;
const opt = (c: LossCase): Record<string, unknown> => c.opts;
const FNS: Record<string, { fn: Fn; module: Fn }> = {
  nllLoss: {
    fn: (x, y, c, w) => nllLoss(x, y, { reduction: opt(c)['reduction'] as 'mean', ...(opt(c)['ignore_index'] !== undefined ? { ignoreIndex: opt(c)['ignore_index'] as number } : {}), ...(w ? { weight: w } : {}) }),
    module: (x, y, c, w) => new NLLLoss({ reduction: opt(c)['reduction'] as 'mean', ...(opt(c)['ignore_index'] !== undefined ? { ignoreIndex: opt(c)['ignore_index'] as number } : {}), ...(w ? { weight: w } : {}) }).call(x, y),
  },
  l1Loss: { fn: (x, y, c) => l1Loss(x, y, { reduction: opt(c)['reduction'] as 'mean' }), module: (x, y, c) => new L1Loss({ reduction: opt(c)['reduction'] as 'mean' }).call(x, y) },
  huberLoss: {
    fn: (x, y, c) => huberLoss(x, y, { reduction: opt(c)['reduction'] as 'mean', ...(opt(c)['delta'] !== undefined ? { delta: opt(c)['delta'] as number } : {}) }),
    module: (x, y, c) => new HuberLoss({ reduction: opt(c)['reduction'] as 'mean', ...(opt(c)['delta'] !== undefined ? { delta: opt(c)['delta'] as number } : {}) }).call(x, y),
  },
  smoothL1Loss: {
    fn: (x, y, c) => smoothL1Loss(x, y, { reduction: opt(c)['reduction'] as 'mean', ...(opt(c)['beta'] !== undefined ? { beta: opt(c)['beta'] as number } : {}) }),
    module: (x, y, c) => new SmoothL1Loss({ reduction: opt(c)['reduction'] as 'mean', ...(opt(c)['beta'] !== undefined ? { beta: opt(c)['beta'] as number } : {}) }).call(x, y),
  },
  klDivLoss: {
    fn: (x, y, c) => klDivLoss(x, y, { reduction: opt(c)['reduction'] as 'mean', logTarget: opt(c)['log_target'] === true }),
    module: (x, y, c) => new KLDivLoss({ reduction: opt(c)['reduction'] as 'mean', logTarget: opt(c)['log_target'] === true }).call(x, y),
  },
};

describe('losses against PyTorch 1.13 (WASM)', () => {
  for (const [name, cases] of Object.entries(FIXTURES.losses)) {
    for (const c of cases) {
      for (const form of ['fn', 'module'] as const) {
        it(`${name} ${c.name} (${form === 'fn' ? 'function' : 'module'}): value and gradient`, async () => {
          const x = t(c.x).requireGrad();
          const y = t(c.target, c.targetDtype);
          const w = c.weight ? t(c.weight) : undefined;
          const before = memory().numTensors;
          const out = tidy(() => {
            const l = FNS[name]![form](x, y, c, w);
            l.mul(t(c.wo)).sum().backward();
            return l;
          });
          await expectAllClose(out, c.output, `${name} ${c.name}`);
          await expectAllClose(x.grad!, c.grad, `${name} ${c.name} grad`);
          out.dispose();
          expect(memory().numTensors).toBe(before + 1); // x.grad
          for (const v of [x.grad, x, y, w]) v?.dispose();
        });
      }
    }
  }

  it('nllLoss rejects bad targets and weights with AxonErrors before computing', () => {
    const x = tensor([[-1, -2], [-3, -4]]);
    expect(() => nllLoss(x, tensor([0, 2], [2], 'int32'))).toThrow(/target 2 at position 1 is out of range for 2 classes/);
    expect(() => nllLoss(x, tensor([0, 1]))).toThrow(/int32 class indices/);
    expect(() => nllLoss(x, tensor([0], [1], 'int32'))).toThrow(/target must have shape \[2\]/);
    expect(() => nllLoss(x, tensor([0, 1], [2], 'int32'), { weight: tensor([1, 2, 3]) })).toThrow(/weight must be float32 \[2\]/);
    expect(() => klDivLoss(x, tensor([1]))).toThrow(/must have the shape of input/);
    expect(() => klDivLoss(x, x, { reduction: 'avg' as 'mean' })).toThrow(/batchmean/);
    expect(() => huberLoss(x, x, { delta: 0 })).toThrow(/delta/);
    x.dispose();
  });

  it("Keras names: 'huber' is huberLoss with delta 1; 'kl_divergence' is Σ t·log(t/p) over the last axis, averaged", async () => {
    const p = tensor([[0.2, 0.8], [0.6, 0.4]]);
    const y = tensor([[0.5, 0.5], [0.9, 0.1]]);
    const h = getLoss('huber').fn(p, y);
    expect(h.item()).toBeCloseTo(((0.3 ** 2 + 0.3 ** 2 + 0.3 ** 2 + 0.3 ** 2) * 0.5) / 4, 6);
    const k = getLoss('kl_divergence').fn(p, y);
    const want = (0.5 * Math.log(0.5 / 0.2) + 0.5 * Math.log(0.5 / 0.8) + 0.9 * Math.log(0.9 / 0.6) + 0.1 * Math.log(0.1 / 0.4)) / 2;
    expect(k.item()).toBeCloseTo(want, 6);
    expect(getLoss('mean_absolute_error').kind).toBe('mae');
    for (const v of [p, y, h, k]) v.dispose();
  });
});
