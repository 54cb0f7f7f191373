/**
 * Microbenchmark (a script, not a test): forward + backward of an LSTM-like loop built from core
 * ops — input projection P = x·Wih + b [T, B, 4H] in one matmul, then one step slice of P per
 * step — with the per-step slices taken two ways:
 *   - `slices`: `slice` + `reshape` per step and per gate (what `split` was before it was a group
 *     op): each slice's gradient is padded to the whole of P, O(T²) bytes in the backward pass;
 *   - `unbind`: `unbind(P)` and `split(gates, 4, 1)`: one stack / concatenation in the backward.
 * Run: `pnpm --filter @axon/autograd bench:lstm` (bundles from source; `-- T B H` to resize).
 */
import { getBackend, matmul, memory, randn, reshape, resetPeakMemory, setBackend, sigmoid, slice, split, tanh, tidy, unbind, zeros, type Tensor } from '@axon/core';
import '@axon/backend-wasm';
import '@axon/autograd';

const [T, B, H, I] = [Number(process.argv[2] ?? 100), Number(process.argv[3] ?? 16), Number(process.argv[4] ?? 128), 64];
const REPS = Number(process.env.REPS ?? 5);
const med = (v: number[]): number => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)]!;

type How = 'slices' | 'unbind';

function step(how: How, P: Tensor): Tensor[] {
  if (how === 'unbind') return unbind(P);
  return Array.from({ length: T }, (_, t) => reshape(slice(P, [t, 0, 0], [1, B, 4 * H]), [B, 4 * H]));
}

function gates(how: How, z: Tensor): Tensor[] {
  if (how === 'unbind') return split(z, 4, 1);
  return [0, 1, 2, 3].map((k) => slice(z, [0, k * H], [B, H]));
}

function run(how: How, x: Tensor, wih: Tensor, whh: Tensor, b: Tensor): { ms: number; back: number; peak: number; check: number } {
  return tidy(() => {
    const t0 = performance.now();
    const P = reshape(matmul(reshape(x, [T * B, I]), wih), [T, B, 4 * H]).add(b);
    let h = zeros([B, H]);
    let c = zeros([B, H]);
    let loss: Tensor | null = null;
    for (const p of step(how, P)) {
      const [i, f, g, o] = gates(how, p.add(matmul(h, whh)));
      c = sigmoid(f!).mul(c).add(sigmoid(i!).mul(tanh(g!)));
      h = sigmoid(o!).mul(tanh(c));
      const l = h.square().mean();
      loss = loss ? loss.add(l) : l;
    }
    loss!.item(); // the forward pass has run
    const t1 = performance.now();
    const base = memory().numBytes;
    resetPeakMemory();
    loss!.backward();
    const check = wih.grad!.square().sum().item();
    const ms = performance.now() - t0;
    const back = performance.now() - t1;
    const peak = memory().peakBytes - base;
    for (const w of [wih, whh, b]) { w.grad!.dispose(); w.grad = null; }
    return { ms, back, peak, check };
  });
}

await setBackend('wasm');
const [x, wih, whh, b] = tidy(() => [randn([T, B, I], { seed: 1 }), randn([I, 4 * H], { seed: 2 }).mul(0.1).requireGrad(), randn([H, 4 * H], { seed: 3 }).mul(0.1).requireGrad(), zeros([4 * H]).requireGrad()]);
console.log(`LSTM-like loop, T ${T}, B ${B}, hidden ${H}, input ${I}, backend ${getBackend().name}; forward + backward, median of ${REPS} (alternated) after 1 warm-up each`);
const hows: How[] = ['slices', 'unbind'];
for (const how of hows) run(how, x, wih, whh, b);
// alternated, so a change in the machine's load hits both alike
const rs: Record<How, ReturnType<typeof run>[]> = { slices: [], unbind: [] };
for (let k = 0; k < REPS; k++) for (const how of hows) rs[how].push(run(how, x, wih, whh, b));
for (const how of hows) {
  const r = rs[how];
  console.log(`${how.padEnd(7)} ${med(r.map((q) => q.ms)).toFixed(0).padStart(6)} ms (backward ${med(r.map((q) => q.back)).toFixed(0).padStart(5)} ms)   backward peak ${(r[0]!.peak / 2 ** 20).toFixed(1).padStart(7)} MiB   |dWih|² ${r[0]!.check.toPrecision(7)}`);
}
for (const t of [x, wih, whh, b]) t.dispose();
console.log(`live tensors at the end: ${memory().numTensors}`);
