// Measures WasmBackend.matmul GFLOP/s (single thread) on n×n×n products, contiguous and with
// both operands transposed views. Run after a build:
//   pnpm --filter @axon/backend-wasm build && node packages/backend-wasm/scripts/bench-matmul.mjs [sizes…] [--baseline]
// Node 20 needs --experimental-wasm-relaxed-simd before the script for the FMA matmul.
import { createWasmBackendSync } from '../dist/index.js';

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
// --baseline: never use the relaxed-SIMD (FMA) matmul, even where the engine supports it
const be = createWasmBackendSync({ relaxedSimd: !process.argv.includes('--baseline') });

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

console.log(`relaxed SIMD (FMA): ${be.features.relaxedSimd}`);
console.log('n     layout       ms/op   GFLOP/s (median of 41)  best');
for (const n of sizes.length ? sizes : [256, 512, 1024]) {
  for (const t of [false, true]) {
    const r = bench(n, t);
    console.log(`${String(n).padEnd(5)} ${(t ? 'transposed' : 'contiguous').padEnd(12)} ${r.ms.toFixed(2).padStart(7)}   ${r.gflops.toFixed(1).padStart(6)}                  ${r.best.toFixed(1)}`);
  }
}
