import { describe, expect, it } from 'vitest';
import '@axon/backend-wasm';
import { memory, setBackend, tensor } from '@axon/core';
import { klDivLoss, lstmLm, orthogonal } from '../src/index.js';
describe('fuzz findings in the sequence-model layers (orthogonal, klDivLoss batchmean, lstmLm.step)', () => {
  it('no leaks, AxonErrors', async () => {
    await setBackend('wasm');
    const b = memory().numTensors;
    orthogonal([3, 5], { seed: 1 }).dispose();
    orthogonal([5, 3], { seed: 1 }).dispose();
    orthogonal([1, 1], { seed: 1 }).dispose();
    expect(memory().numTensors).toBe(b);
    const x = tensor([[-1, -1]]); const t = tensor([[0.5, 0.5]]);
    klDivLoss(x, t, { reduction: 'batchmean' }).dispose();
    x.dispose(); t.dispose();
    expect(memory().numTensors).toBe(b);
    const m = lstmLm({ vocabSize: 11, width: 8 });
    const ids = tensor([[1, 2]], [1, 2], 'int32');
    expect(() => m.step(ids, 5 as never)).toThrow(/step's state must be null/);
    ids.dispose(); m.dispose();
    expect(memory().numTensors).toBe(b);
  });
});
