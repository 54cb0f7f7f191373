// WebGPU in Node — choosing the GPU backend, falling back to WebAssembly
//
// Importing @axon/backend-webgpu registers the backend 'webgpu'. In Node it runs on the optional
// npm package `webgpu` (Dawn) and needs a Vulkan driver: a real GPU's, or a software one (Mesa's
// lavapipe, SwiftShader) on machines without a GPU — see scripts/install-webgpu-deps.sh and the
// backend's README; Dawn reads VK_ICD_FILENAMES when it loads, so set it in the environment.
// This program asks for WebGPU explicitly with `setBackend('webgpu')` and, when that fails (no
// `webgpu` package, no driver, no adapter), prints why and continues on WASM. It then runs the
// same small program on whichever backend it got: a matrix product checked against the WASM
// backend, and a few hundred steps of logistic regression, reading values asynchronously
// (`await t.data()`), which works on every backend. (`await ready()` would choose by itself and
// prefers WASM over a software-emulated GPU; `setBackend` takes what you ask for.)
//
// Run it from the repository (after `pnpm exec turbo run build --filter=@axon/examples...`):
//   VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.json node examples/run.mjs webgpu-node
//   node examples/run.mjs webgpu-node        # on a machine with a GPU driver, or to see the fallback
// In a project of your own: npm install @axon/core @axon/autograd @axon/backend-wasm @axon/backend-webgpu @axon/optimizers webgpu
import { backends, randn, setBackend, tidy, type Backend } from '@axon/core';
import '@axon/autograd';
import '@axon/backend-wasm';
import { WebGPUBackend } from '@axon/backend-webgpu';
import { SGD } from '@axon/optimizers';

let backend: Backend;
let fallbackReason: string | null = null;
try {
  backend = await setBackend('webgpu');
  const gpu = backend instanceof WebGPUBackend ? backend : null;
  console.log(`using WebGPU: ${gpu?.adapterDescription ?? 'unknown adapter'}${backend.emulated ? ' (software-emulated)' : ''}`);
} catch (e) {
  fallbackReason = e instanceof Error ? e.message : String(e);
  console.log(`WebGPU is not available, falling back to WASM. Reason: ${fallbackReason}`);
  backend = await setBackend('wasm');
}
for (const b of backends()) console.log(`  ${b.active ? '*' : ' '} ${b.name.padEnd(7)} ${b.status}${b.reason ? ` — ${b.reason.split('\n')[0]}` : ''}`);

// 1. A matrix product on the chosen backend, compared with the same product on WASM.
const a = randn([128, 64], { seed: 1 });
const b = randn([64, 32], { seed: 2 });
const product = a.matmul(b);
const aWasm = await a.toBackend('wasm'); // a copy on another backend
const bWasm = await b.toBackend('wasm');
const reference = aWasm.matmul(bWasm);
const [p, r] = await Promise.all([product.data(), reference.data()]);
let maxDiff = 0;
for (let i = 0; i < p.length; i++) maxDiff = Math.max(maxDiff, Math.abs(p[i]! - r[i]!));
console.log(`matmul [128,64]·[64,32] on ${backend.name}: largest difference from WASM ${maxDiff.toExponential(2)}`);
for (const t of [a, b, product, reference, aWasm, bWasm]) t.dispose();

// 2. Logistic regression with autograd: separate two Gaussian blobs.
const n = 256;
const [x, y] = tidy(() => {
  const labels = randn([n, 1], { seed: 3 }).gt(0).astype('float32'); // 0 or 1
  const centres = labels.mul(2).sub(1).mul(1.5); // −1.5 or +1.5
  return [randn([n, 2], { seed: 4 }).add(centres), labels];
});
const w = randn([2, 1], { seed: 5 }).mul(0.01).requireGrad();
const bias = randn([1], { seed: 6 }).mul(0.01).requireGrad();
const optimizer = new SGD([w, bias], { lr: 0.5 });
const losses: number[] = [];
const started = performance.now();
for (let step = 0; step < 200; step++) {
  const loss = tidy(() => {
    const p1 = x.matmul(w).add(bias).sigmoid().clip(1e-6, 1 - 1e-6);
    const l = y.mul(p1.log()).add(y.neg().add(1).mul(p1.neg().add(1).log())).mean().neg();
    optimizer.zeroGrad();
    l.backward();
    optimizer.step(); // the update runs as backend ops: nothing is read back
    return l.detach();
  });
  if (step % 50 === 0 || step === 199) {
    losses.push(await loss.itemAsync()); // a read waits for the GPU; reading every step would too
    console.log(`step ${String(step).padStart(3)}  loss ${losses.at(-1)!.toFixed(4)}`);
  }
  loss.dispose();
}
const accuracyT = tidy(() => x.matmul(w).add(bias).gt(0).astype('float32').eq(y).astype('float32').mean());
const accuracy = await accuracyT.itemAsync();
console.log(`accuracy ${(accuracy * 100).toFixed(1)}% after 200 steps on ${backend.name} in ${((performance.now() - started) / 1000).toFixed(2)} s`);
for (const t of [x, y, w, bias, accuracyT]) t.dispose();
optimizer.dispose();

console.log(`RESULT ${JSON.stringify({ backend: backend.name, fallbackReason, emulated: backend.emulated === true, matmulMaxDiff: maxDiff, losses, accuracy })}`);
