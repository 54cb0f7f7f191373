// S4 — the PyTorch training loop
//
// Seed scenario S4, written the way PyTorch users write it: a `Module` subclass holding one
// `Linear(1, 1)`, `MSELoss`, `SGD(lr 0.01)`, and 100 iterations of forward on [[1.0]], loss
// against [[2.0]], `zeroGrad()`, `backward()`, `step()`. The output approaches 2.0 and the loss
// falls at every iteration.
//
// Run it from the repository (after `pnpm exec turbo run build --filter=@axon/examples...`):
//   node examples/run.mjs s4-pytorch-loop
import { ready, setSeed, tensor, tidy, type Tensor } from '@axon/core';
import '@axon/backend-wasm';
import { Linear, MSELoss, Module } from '@axon/layers';
import { SGD } from '@axon/optimizers';

await ready();
setSeed(4); // Linear's initial weight and bias come from core's seeded stream

class Net extends Module {
  // Assigning a module to a property registers it: its parameters are fc.weight and fc.bias.
  readonly fc = new Linear(1, 1);

  forward(x: Tensor): Tensor {
    return this.fc.call(x);
  }
}

const net = new Net();
const criterion = new MSELoss();
const optimizer = new SGD(net.parameters(), { lr: 0.01 });
const input = tensor([[1.0]]);
const target = tensor([[2.0]]);

const losses: number[] = [];
const outputs: number[] = [];
for (let i = 0; i < 100; i++) {
  // One tidy per iteration: the graph's intermediates are freed when it returns.
  const [loss, output] = tidy(() => {
    const out = net.call(input);
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
  if (i % 10 === 0 || i === 99) console.log(`iteration ${String(i).padStart(3)}  output ${outputs[i]!.toFixed(4)}  loss ${losses[i]!.toFixed(6)}`);
}

const fallsEachStep = losses.every((l, i) => i === 0 || l < losses[i - 1]!);
console.log(`final output ${outputs.at(-1)!.toFixed(4)} (target 2.0); the loss fell at every iteration: ${fallsEachStep}`);
for (const [name, p] of net.namedParameters()) console.log(`${name} = ${(await p.data())[0]!.toFixed(4)}`);

optimizer.dispose();
net.dispose();
input.dispose();
target.dispose();

console.log(`RESULT ${JSON.stringify({ firstOutput: outputs[0], finalOutput: outputs.at(-1), firstLoss: losses[0], finalLoss: losses.at(-1), fallsEachStep })}`);
