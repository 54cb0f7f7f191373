/**
 * Forward + backward time of a PyTorch-front LSTM(64 → 128) over B 16, T 100 on WASM (one thread):
 * the per-step costs of the recurrent loop. Not a test: run by lstm-step-cost.sh, which bundles this
 * file twice (the layers source at two revisions) and interleaves their samples. Prints one JSON
 * line: the per-iteration times in ms, the live tensors before/after (must be equal), and one
 * step's kernel launches, fill kernels and bytes written (deterministic, unlike the times).
 */
import { memory, profile, randn, setBackend, setNumThreads, setSeed, tidy } from '@axon/core';
import '@axon/autograd';
import '@axon/backend-wasm';
import { LSTM } from '../../src/index.js';

const iters = Number(process.env['ITERS'] ?? 5);
await setBackend('wasm');
setNumThreads(1);
setSeed(0);
const lstm = new LSTM(64, 128);
const x = randn([100, 16, 64]).requireGrad();
const before = memory().numTensors;
const step = async (): Promise<number> => {
  const t0 = performance.now();
  const loss = tidy(() => {
    const [out] = lstm.forward(x);
    const l = out.square().mean();
    l.backward();
    return l;
  });
  await loss.data();
  const ms = performance.now() - t0;
  loss.dispose();
  lstm.zeroGrad();
  x.grad?.dispose();
  x.grad = null;
  return ms;
};
await step(); // warm-up: kernels compiled, buffers allocated
const times: number[] = [];
for (let i = 0; i < iters; i++) times.push(await step());
const { report } = await profile(step);
console.log(JSON.stringify({ times, leaked: memory().numTensors - before, kernels: report.kernels, fills: report.byKind['fill']?.count ?? 0, bytesWritten: report.bytesWritten }));
