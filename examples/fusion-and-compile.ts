// Fused kernels and compiled steps — fewer kernels, less JavaScript per step
//
// Axon's engine is lazy: elementwise ops record an expression and a chain of them runs as one
// kernel when its value is needed. `profile()` shows it: part 1 counts the kernels of an MLP
// training step written PyTorch-style, with fusion on and off (`setFlags({ fusion })`). Part 2
// compiles the step with `compile()`: traced once, then replayed without running its JavaScript
// (the way `jax.jit` works); everything it reads is an argument, and the gradients come back as
// results. `fit` does this for you (`fit(x, y, { compile: true })` is the default); part 3 uses an
// op from the op table (`silu`), which is one kernel on every backend.
//
// Run it from the repository (after `pnpm exec turbo run build --filter=@axon/examples...`):
//   node examples/run.mjs fusion-and-compile
import { compile, profile, randint, randn, ready, setFlags, setSeed, silu, tidy, type Tensor } from '@axon/core';
import { gradients } from '@axon/autograd';
import '@axon/backend-wasm';
import { Adam } from '@axon/optimizers';
import { Linear, ReLU, Sequential, crossEntropy } from '@axon/layers';

await ready();
setSeed(0);
const quick = process.env.AXON_EXAMPLE_QUICK === '1';

const net = new Sequential(new Linear(784, 128), new ReLU(), new Linear(128, 10));
const opt = new Adam(net.parameters(), { lr: 1e-3 });
const x = randn([32, 784]);
const y = randint(0, 10, [32]);

// ---------------------------------------------------------------- Part 1: fused kernels
const step = (): void => {
  tidy(() => crossEntropy(net.forward(x), y).backward());
  opt.step(); // each parameter and its Adam state: one fused kernel
  opt.zeroGrad();
};
step(); // warm-up
const fused = profile(step).report;
const before = setFlags({ fusion: false });
const eager = profile(step).report;
setFlags(before);
console.log(`kernels per step: ${fused.kernels} with fusion (${fused.byKind['fused']?.count ?? 0} fused, running ${fused.fusedOps} elementwise ops), ${eager.kernels} without`);

// ---------------------------------------------------------------- Part 2: a compiled step
const params = net.parameters();
const lossAndGrads = compile((xb: Tensor, yb: Tensor, ...ps: Tensor[]): Tensor[] => {
  const loss = crossEntropy(net.forward(xb), yb);
  return [loss.detach(), ...gradients(loss, ps).map((g) => g!)];
});
const steps = quick ? 20 : 200;
let last = 0;
for (let i = 0; i < steps; i++) {
  const [loss, ...grads] = lossAndGrads(x, y, ...params); // traced on the first call, replayed after
  params.forEach((p, k) => (p.grad = grads[k]!));
  opt.step();
  opt.zeroGrad();
  last = loss!.item();
  loss!.dispose();
}
console.log(`compiled step: ${lossAndGrads.traces} trace for ${steps} calls; loss on the batch ${last.toFixed(4)}`);

// ---------------------------------------------------------------- Part 3: an op from the op table
const a = randn([4]);
console.log(`silu: one kernel — ${profile(() => silu(a)).report.kernels}`);

// What the example shows, for its test (examples/test): one line of JSON.
console.log(`RESULT ${JSON.stringify({ fusedKernels: fused.kernels, eagerKernels: eager.kernels, fusedGroups: fused.byKind['fused']?.count ?? 0, traces: lossAndGrads.traces, steps, lastLoss: last, siluKernels: profile(() => silu(a)).report.kernels })}`);
