// Measures WasmBackend.attention (one blocked flash-attention kernel) against the composite core
// runs on a backend without it: matmul (q·kᵀ, scaled as its epilogue), softmax, matmul with v —
// at B·H = 16, T = 128 and 1024, D = 32 (and causal). Run after a build:
//   pnpm --filter @axon/backend-wasm build && node packages/backend-wasm/scripts/bench-attention.mjs [--threads N]
// Both run on the registry's backend (1 thread unless --threads), alternating, best of several.
import { getBackend, matmul, permute, randn, ready, setNumThreads, softmax, tidy, mul } from '@axon/core';
import '../dist/index.js';

const args = process.argv.slice(2);
const threads = args.includes('--threads') ? Number(args[args.indexOf('--threads') + 1]) : 1;
setNumThreads(threads);
await ready();
const be = getBackend();
if (threads > 1) await be.startThreads?.();

const view = (buf, shape) => ({ buf, dtype: 'float32', shape, strides: [shape[1] * shape[2], shape[2], 1], offset: 0 });

function time(f, reps) {
  f(); // warm up
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    f();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

for (const [BH, T, D, causal] of [[16, 128, 32, false], [16, 1024, 32, false], [16, 1024, 32, true]]) {
  const reps = T > 500 ? 5 : 30;
  const n = BH * T * D;
  const bufs = [0, 1, 2].map(() => {
    const b = be.alloc('float32', n);
    be.write(b, new Float32Array(n).map(() => Math.random() * 2 - 1));
    return b;
  });
  const out = be.alloc('float32', n);
  const lse = be.alloc('float32', BH * T);
  const [q, k, v] = bufs.map((b) => view(b, [BH, T, D]));
  const scale = 1 / Math.sqrt(D);
  const kernel = time(() => be.attention(q, k, v, null, scale, causal, out, lse), reps);
  // the composite: scores [BH, T, T] materialised (a causal mask would add a bias; timed without)
  const [tq, tk, tv] = [0, 1, 2].map(() => randn([BH, T, D]));
  const composite = causal ? NaN : time(() => tidy(() => matmul(softmax(mul(matmul(tq, permute(tk, [0, 2, 1])), scale), -1), tv).dataSync()), reps);
  const flop = 2 * BH * T * T * 2 * D * (causal ? 0.5 : 1);
  console.log(
    `B·H ${BH}, T ${T}, D ${D}${causal ? ', causal' : ''}, ${threads} thread${threads > 1 ? 's' : ''}: kernel ${kernel.toFixed(2)} ms (${(flop / kernel / 1e6).toFixed(1)} GFLOP/s)` +
      (causal ? '' : `, composite (matmul, softmax, matmul) ${composite.toFixed(2)} ms: ${(composite / kernel).toFixed(2)}× faster`),
  );
  for (const t of [tq, tk, tv]) t.dispose();
  for (const b of [...bufs, out, lse]) be.free(b);
}
