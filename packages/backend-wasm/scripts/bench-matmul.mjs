// Measures WasmBackend.matmul GFLOP/s (single thread) on n×n×n products, contiguous and with
// both operands transposed views, then on the five products of the MNIST MLP's training step at
// batch 32 (784-128-10: forward, weight and input gradients, in the layouts the step passes).
// Run after a build:
//   pnpm --filter @axon/backend-wasm build && node packages/backend-wasm/scripts/bench-matmul.mjs [sizes…] [--baseline] [--mlp] [--compare other/dist/index.js]
// --mlp: only the MLP products. --compare: another build of this package (e.g. one built from an
// older commit) measured in the same process, its calls alternating with this build's, so both
// see the same machine load. Node 20 needs --experimental-wasm-relaxed-simd before the script for
// the FMA matmul.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createWasmBackendSync } from '../dist/index.js';

const args = process.argv.slice(2);
const cmpAt = args.indexOf('--compare');
const cmpPath = cmpAt >= 0 ? args[cmpAt + 1] : undefined;
const sizes = args.filter((a, i) => i !== cmpAt + 1 || cmpAt < 0).map(Number).filter((n) => n > 0);
// --baseline: never use the relaxed-SIMD (FMA) matmul, even where the engine supports it
const relaxedSimd = !args.includes('--baseline');
const be = createWasmBackendSync({ relaxedSimd });
const other = cmpPath ? (await import(pathToFileURL(resolve(cmpPath)).href)).createWasmBackendSync({ relaxedSimd }) : undefined;

function view(buf, shape, strides) {
  return { buf, dtype: 'float32', shape, strides, offset: 0 };
}

function bench(n, transposed) {
  const a = be.alloc('float32', n * n);
  const b = be.alloc('float32', n * n);
  const data = new Float32Array(n * n).map(() => Math.random() - 0.5);
  be.write(a, data);
  be.write(b, data);
  const out = be.alloc('float32', n * n);
  const st = transposed ? [n * n, 1, n] : [n * n, n, 1];
  const va = view(a, [1, n, n], st);
  const vb = view(b, [1, n, n], st);
  const flops = 2 * n * n * n;
  // warm up (V8 tiers up after the first calls) for at least 0.3 s
  const t0 = performance.now();
  while (performance.now() - t0 < 300) be.matmul(va, vb, out);
  // many short samples: on a shared machine the best one shows the unloaded speed
  const times = [];
  const reps = Math.max(1, Math.ceil(2e7 / flops));
  for (let r = 0; r < 41; r++) {
    const s = performance.now();
    for (let i = 0; i < reps; i++) be.matmul(va, vb, out);
    times.push((performance.now() - s) / reps);
  }
  times.sort((x, y) => x - y);
  const ms = times[20];
  be.free(a);
  be.free(b);
  be.free(out);
  return { ms, gflops: flops / ms / 1e6, best: flops / times[0] / 1e6 };
}

/**
 * a·b with a [M, K] and b [K, N], each stored row-major or as its transpose (`ta`, `tb`: the
 * operand is then a transposed view, as autograd passes it), on each backend in `bes`: samples
 * alternate between them for 2 s after a warm-up. Returns per backend the median and best µs.
 */
function benchShape(bes, M, N, K, ta, tb) {
  const flops = 2 * M * N * K;
  const ga = new Float32Array(M * K).map(() => Math.random() - 0.5);
  const gb = new Float32Array(K * N).map(() => Math.random() - 0.5);
  const runs = bes.map((x) => {
    const a = x.alloc('float32', M * K);
    const b = x.alloc('float32', K * N);
    x.write(a, ga);
    x.write(b, gb);
    const out = x.alloc('float32', M * N);
    const va = view(a, [1, M, K], ta ? [M * K, 1, M] : [M * K, K, 1]);
    const vb = view(b, [1, K, N], tb ? [K * N, 1, K] : [K * N, N, 1]);
    return { x, a, b, out, call: () => x.matmul(va, vb, out), times: [] };
  });
  for (const r of runs) {
    const t0 = performance.now();
    while (performance.now() - t0 < 300) r.call();
  }
  const reps = Math.max(1, Math.ceil(2e6 / flops));
  const t0 = performance.now();
  while (performance.now() - t0 < 2000) {
    for (const r of runs) {
      const s = performance.now();
      for (let i = 0; i < reps; i++) r.call();
      r.times.push((performance.now() - s) / reps);
    }
  }
  return runs.map((r) => {
    for (const buf of [r.a, r.b, r.out]) r.x.free(buf);
    r.times.sort((x, y) => x - y);
    const med = r.times[r.times.length >> 1] * 1000;
    const best = r.times[0] * 1000;
    return { med, best, gflops: flops / med / 1e3, bestGflops: flops / best / 1e3 };
  });
}

console.log(`relaxed SIMD (FMA): ${be.features.relaxedSimd}`);
if (!args.includes('--mlp')) {
  console.log('n     layout       ms/op   GFLOP/s (median of 41)  best');
  for (const n of sizes.length ? sizes : [256, 512, 1024]) {
    for (const t of [false, true]) {
      const r = bench(n, t);
      console.log(`${String(n).padEnd(5)} ${(t ? 'transposed' : 'contiguous').padEnd(12)} ${r.ms.toFixed(2).padStart(7)}   ${r.gflops.toFixed(1).padStart(6)}                  ${r.best.toFixed(1)}`);
    }
  }
}
const fmt = (r) => `${r.med.toFixed(1).padStart(6)} µs ${r.gflops.toFixed(1).padStart(5)}  best ${r.best.toFixed(1).padStart(6)} µs ${r.bestGflops.toFixed(1).padStart(5)}`;
console.log(`\nMNIST MLP training step, batch 32: µs per call and GFLOP/s, median and best sample over 2 s${other ? `; this build, then ${cmpPath} (alternating)` : ''}`);
for (const [name, M, N, K, ta, tb] of [
  ['forward  [32,784]·[784,128]', 32, 128, 784, false, false],
  ['dW1      [784,32]ᵀ·[32,128]', 784, 128, 32, true, false],
  ['forward  [32,128]·[128,10]', 32, 10, 128, false, false],
  ['dh       [32,10]·[10,128]ᵀ', 32, 128, 10, false, true],
  ['dW2      [128,32]ᵀ·[32,10]', 128, 10, 32, true, false],
]) {
  const r = benchShape(other ? [be, other] : [be], M, N, K, ta, tb);
  console.log(`${name.padEnd(28)} ${r.map(fmt).join('  |  ')}`);
}
