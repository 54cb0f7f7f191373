// Compares matmul kernel configurations (tuning aid): node bench/matmul-configs.mjs n
import { createWebGPUBackend } from '../dist/index.js';
const n = Number(process.argv[2] ?? 512);
const b = await createWebGPUBackend();
const A = b.alloc('float32', n * n), B = b.alloc('float32', n * n), C = b.alloc('float32', n * n);
b.write(A, Float32Array.from({ length: n * n }, () => Math.random()));
b.write(B, Float32Array.from({ length: n * n }, () => Math.random()));
const row = (buf) => ({ buf, dtype: 'float32', shape: [1, n, n], strides: [0, n, 1], offset: 0 });
const col = (buf) => ({ buf, dtype: 'float32', shape: [1, n, n], strides: [0, 1, n], offset: 0 });
const configs = [{ tx: 8, ty: 8, tk: 0 }, { tx: 8, ty: 8, tk: 0, unroll: 4 }, { tx: 16, ty: 4, tk: 0 }, { tx: 8, ty: 8, tk: 16 }];
for (let round = 0; round < 3; round++) for (const cfg of configs) {
  b.matmulConfig = cfg;
  const out = [];
  for (const [label, va, vb] of [['NN', row(A), row(B)], ['TN', col(A), row(B)], ['NT', row(A), col(B)]]) {
    b.matmul(va, vb, C); await b.sync();
    const ts = [];
    const cs = [];
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      b.matmul(va, vb, C);
      await b.sync();
      const c1 = process.cpuUsage(c0);
      ts.push(performance.now() - t0);
      cs.push((c1.user + c1.system) / 1000);
    }
    ts.sort((x, y) => x - y);
    cs.sort((x, y) => x - y);
    // wall-clock GFLOP/s, and GFLOP per CPU-second (stable when other jobs share the cores)
    out.push(`${label} ${((2 * n ** 3) / ts[1] / 1e6).toFixed(2)} (${((2 * n ** 3) / cs[1] / 1e6).toFixed(2)}/cpu-s)`);
  }
  console.log(JSON.stringify(cfg), out.join('  '));
}
b.dispose();
