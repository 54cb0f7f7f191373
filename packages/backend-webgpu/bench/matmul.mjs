// Matmul throughput of the WebGPU backend: `pnpm --filter @axon/backend-webgpu build && node bench/matmul.mjs [sizes…]`.
// Set VK_ICD_FILENAMES first in Node (see README). Prints GFLOP/s (median of 5) for contiguous and transposed-B operands.
import { createWebGPUBackend } from '../dist/index.js';

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const b = await createWebGPUBackend();
console.log(`adapter: ${b.adapterDescription} (${b.source})`);
for (const n of sizes.length ? sizes : [256, 512]) {
  const A = b.alloc('float32', n * n);
  const B = b.alloc('float32', n * n);
  const C = b.alloc('float32', n * n);
  b.write(A, Float32Array.from({ length: n * n }, () => Math.random()));
  b.write(B, Float32Array.from({ length: n * n }, () => Math.random()));
  const row = (buf) => ({ buf, dtype: 'float32', shape: [1, n, n], strides: [0, n, 1], offset: 0 });
  const col = (buf) => ({ buf, dtype: 'float32', shape: [1, n, n], strides: [0, 1, n], offset: 0 });
  for (const [label, va, vb] of [
    ['contiguous', row(A), row(B)],
    ['A transposed', col(A), row(B)],
    ['B transposed', row(A), col(B)],
  ]) {
    b.matmul(va, vb, C);
    await b.sync(); // warm-up (pipeline compile)
    const times = [];
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      b.matmul(va, vb, C);
      await b.sync();
      times.push(performance.now() - t0);
    }
    times.sort((x, y) => x - y);
    const ms = times[2];
    console.log(`n=${n} ${label}: ${ms.toFixed(1)} ms, ${((2 * n * n * n) / ms / 1e6).toFixed(2)} GFLOP/s`);
  }
  b.free(A);
  b.free(B);
  b.free(C);
}
b.dispose();
