/**
 * Seed scenario S4 (seed 004): the PyTorch loop. One Linear(1, 1), MSELoss, SGD(lr 0.01);
 * 100 iterations of forward on [[1.0]], loss against [[2.0]], zeroGrad, backward, step.
 */
import { tensor, tidy, type Tensor } from '@axon/core';
import '@axon/autograd';
import { Linear, MSELoss, Module } from '@axon/layers';
import { SGD } from '@axon/optimizers';

/** The seed's model: one linear layer. */
export class Net extends Module {
  readonly fc = new Linear(1, 1);
  forward(x: Tensor): Tensor {
    return this.fc.call(x);
  }
}

/** Runs S4 and returns the loss and output of every step (read asynchronously: any backend). */
export async function runS4(log: (s: string) => void = console.log, steps = 100): Promise<{ losses: number[]; outputs: number[] }> {
  const model = new Net();
  const criterion = new MSELoss();
  const optimizer = new SGD(model.parameters(), { lr: 0.01 });
  const input = tensor([[1.0]]);
  const target = tensor([[2.0]]);
  const losses: number[] = [];
  const outputs: number[] = [];
  try {
    for (let i = 0; i < steps; i++) {
      const [loss, output] = tidy(() => {
        const out = model.call(input);
        const l = criterion.call(out, target);
        optimizer.zeroGrad();
        l.backward();
        optimizer.step();
        return [l.detach(), out.detach()];
      });
      losses.push(await loss.itemAsync());
      outputs.push(await output.itemAsync());
      loss.dispose();
      output.dispose();
      if (i % 10 === 0 || i === steps - 1) log(`iteration ${String(i).padStart(3)}  output ${outputs[i]!.toFixed(4)}  loss ${losses[i]!.toFixed(6)}`);
    }
  } finally {
    optimizer.dispose();
    model.dispose();
    input.dispose();
    target.dispose();
  }
  return { losses, outputs };
}
