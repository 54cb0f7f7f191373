// Memory — dispose, tidy, keep, `using`, and memory()
//
// JavaScript's garbage collector does not see the memory behind a tensor (WebAssembly linear
// memory, GPU buffers), so Axon frees tensors deterministically: `t.dispose()`; `tidy(fn)`, which
// frees every tensor made inside `fn` except what it returns (and what `keep` marks); and
// TypeScript's `using` declaration, which disposes a tensor when its block ends. `memory()`
// counts live tensors, distinct storages (views share their base's) and bytes: this program
// prints it after each step, shows a training loop that holds memory flat for 200 steps, and
// finds a deliberate leak with leak tracking (`setLeakTracking` / `leakReport`).
//
// Run it from the repository (after `pnpm exec turbo run build --filter=@axon/examples...`):
//   node examples/run.mjs memory
import { keep, leakReport, memory, ones, randn, ready, setLeakTracking, tensor, tidy, zeros, type Tensor } from '@axon/core';
import '@axon/autograd';
import '@axon/backend-wasm';

await ready();
const show = (what: string): void => {
  const m = memory();
  console.log(`${what.padEnd(58)} tensors ${String(m.numTensors).padStart(3)}  storages ${String(m.numStorages).padStart(3)}  bytes ${String(m.numBytes).padStart(7)}`);
};
const start = memory();
show('at start');

// 1. dispose(): every tensor you make is yours to free.
const a = randn([100, 100]); // 40,000 bytes of float32
show('a = randn([100, 100])');
const rows = a.slice([0, 0], [10, 100]); // views: new tensors over the same storage
const flat = rows.reshape([1000]);
show('two views of a (slice, reshape): no new storage');
for (const t of [flat, rows, a]) t.dispose();
show('after disposing them');

// 2. tidy(): intermediates are freed, the returned value survives.
const w = tensor([[1, 2], [3, 4]]);
const result = tidy(() => {
  const t = w.matmul(w).add(1).relu(); // three intermediate tensors
  return t.sum();
});
show('tidy(() => w·w + 1 → relu → sum): only the sum is left');
console.log(`  sum = ${await result.itemAsync()}`);
result.dispose();

// keep(): something made inside a tidy that must outlive it, besides the return value.
let cache: Tensor | null = null;
const doubled = tidy(() => {
  cache = keep(w.mul(10)); // not freed by this tidy: the caller owns it now
  return w.mul(2);
});
show('tidy with keep(): the kept tensor and the result are left');
for (const t of [doubled, cache!, w]) t.dispose();

// 3. `using`: disposed automatically at the end of the block, even when it throws.
const before = memory().numTensors;
{
  using big = ones([1000, 1000]); // 4 MB
  using total = big.sum();
  show('inside a block with `using big`, `using total`');
  console.log(`  total = ${await total.itemAsync()}`);
}
const usingFreed = memory().numTensors === before;
show('after the block: both disposed');

// 4. A training loop: one tidy per step keeps memory flat.
const x = randn([64, 8], { seed: 1 });
const y = randn([64, 1], { seed: 2 });
const wt = zeros([8, 1]).requireGrad();
const loopStart = memory();
for (let step = 0; step < 200; step++) {
  const loss = tidy(() => {
    const l = x.matmul(wt).sub(y).square().mean();
    l.backward(); // the graph's saved intermediates are freed by this tidy
    wt.assign(wt.detach().sub(wt.grad!.mul(0.1)));
    return l.detach();
  });
  wt.grad!.dispose();
  wt.grad = null;
  if (step === 199) console.log(`  loss after 200 steps ${(await loss.itemAsync()).toFixed(4)}`);
  loss.dispose();
}
const loopGrowth = memory().numTensors - loopStart.numTensors;
show(`after 200 training steps (growth: ${loopGrowth} tensors)`);
for (const t of [x, y, wt]) t.dispose();

// 5. Finding a leak: leak tracking records where each live tensor was made.
setLeakTracking(true);
const forgotten: Tensor[] = [];
function leakySquare(t: Tensor): Tensor {
  const tmp = t.mul(t); // never disposed: a leak
  forgotten.push(tmp);
  return tmp.detach();
}
const input = tensor([1, 2, 3]);
for (let i = 0; i < 5; i++) leakySquare(input).dispose();
const [worst] = leakReport(); // live tensors grouped by creation site, most first
console.log(`  leak report: ${worst!.count} live tensors made at ${worst!.site.split('\n')[0]!.trim().replace(/^at /, '')}`);
show('with the leak');
for (const t of [...forgotten, input]) t.dispose();
setLeakTracking(false);

const end = memory();
show('at the end');
console.log(`RESULT ${JSON.stringify({ leakedTensors: end.numTensors - start.numTensors, leakedBytes: end.numBytes - start.numBytes, usingFreed, loopGrowth, leakSiteCount: worst!.count })}`);
