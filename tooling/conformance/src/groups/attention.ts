/**
 * Scaled dot-product attention: `scaledDotProductAttention` against a float64 reference (batch and
 * head broadcasting, permuted [N, T, H, D] views, bool and float masks, causal with Tq ≠ Tk, fully
 * masked rows, empty and size-1 dims, sizes across kernel block edges), and its memory: the forward
 * pass at context 1024 never holds a [B, H, T, T] buffer where the backend has the fused kernel.
 */
import * as ax from '@axon/core';
import type { Tensor } from '@axon/core';
import { checkClose, type Expected, ensure } from '../check.js';
import { evaluate1, group, it, type Suite } from '../harness.js';
import type { Rng } from '../rng.js';
import { TOLERANCES } from '../tolerances.js';

/** A logical [..., T, D] array (row-major) with its shape. */
interface Arr {
  readonly shape: number[];
  readonly data: Float64Array;
}

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

function rand(r: Rng, shape: number[], lo = -1, hi = 1): Arr {
  const data = new Float64Array(size(shape));
  for (let i = 0; i < data.length; i++) data[i] = Math.fround(r.uniform(lo, hi));
  return { shape, data };
}

/** Index into `a` for the broadcast batch index `b` (row-major over `batch`) and trailing (i, j). */
function at(a: Arr, batch: readonly number[], b: number, i: number, j: number): number {
  const r = a.shape.length;
  let off = 0;
  let mul = 1;
  let rem = b;
  const idx: number[] = [];
  for (let d = batch.length - 1; d >= 0; d--) {
    idx[d] = rem % batch[d]!;
    rem = Math.floor(rem / batch[d]!);
  }
  const dims = [...idx, i, j];
  for (let d = r - 1; d >= 0; d--) {
    const n = a.shape[d]!;
    const k = dims[dims.length - r + d]!;
    off += (n === 1 ? 0 : k) * mul;
    mul *= n;
  }
  return a.data[off]!;
}

interface Case {
  readonly name: string;
  readonly q: Arr;
  readonly k: Arr;
  readonly v: Arr;
  /** bool (0/1) or float mask, broadcastable to the scores. */
  readonly mask?: Arr & { readonly bool: boolean };
  readonly causal?: boolean;
  readonly scale?: number;
  /** Build q/k/v as permuted views of [N, T, H, D] storage (rank-4 inputs only). */
  readonly permuted?: boolean;
}

/** The float64 reference, with the error bound's magnitudes (see TOLERANCES.attention). */
function reference(c: Case): Expected {
  const [Tq, D] = c.q.shape.slice(-2) as [number, number];
  const [Tk] = c.k.shape.slice(-2) as [number];
  const Dv = c.v.shape[c.v.shape.length - 1]!;
  const bshape = (a: Arr): number[] => a.shape.slice(0, -2);
  const nb = Math.max(c.q.shape.length, c.k.shape.length, c.v.shape.length, c.mask?.shape.length ?? 0) - 2;
  const batch: number[] = [];
  for (let d = 0; d < nb; d++) {
    const dims = [c.q, c.k, c.v, ...(c.mask ? [c.mask] : [])].map((a) => bshape(a)[bshape(a).length - nb + d] ?? 1);
    batch.push(Math.max(...dims));
  }
  const scale = c.scale ?? (D > 0 ? 1 / Math.sqrt(D) : 1);
  const B = size(batch);
  const values = new Float64Array(B * Tq * Dv);
  const mag = new Float64Array(B * Tq * Dv);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < Tq; i++) {
      const s = new Float64Array(Tk);
      const a = new Float64Array(Tk);
      for (let j = 0; j < Tk; j++) {
        let dot = 0;
        let abs = 0;
        for (let d = 0; d < D; d++) {
          const p = at(c.q, batch, b, i, d) * at(c.k, batch, b, j, d);
          dot += p;
          abs += Math.abs(p);
        }
        s[j] = scale * dot;
        a[j] = Math.abs(scale) * abs;
        if (c.mask) {
          const m = at(c.mask, batch, b, i, j);
          if (c.mask.bool) s[j] = m ? s[j]! : -Infinity;
          else {
            s[j] += m;
            a[j] += Math.abs(m);
          }
        }
        if (c.causal && j > i) s[j] = -Infinity;
      }
      let mx = -Infinity;
      for (let j = 0; j < Tk; j++) mx = Math.max(mx, s[j]!);
      const p = new Float64Array(Tk);
      let den = 0;
      let amax = 0;
      for (let j = 0; j < Tk; j++) {
        p[j] = Math.exp(s[j]! - mx);
        den += p[j]!;
        if (s[j] !== -Infinity) amax = Math.max(amax, a[j]!);
      }
      for (let e = 0; e < Dv; e++) {
        let o = 0;
        let m = 0;
        for (let j = 0; j < Tk; j++) {
          const w = p[j]! / den;
          const x = at(c.v, batch, b, j, e);
          o += w * x;
          m += w * Math.abs(x);
        }
        const idx = (b * Tq + i) * Dv + e;
        values[idx] = Tk === 0 ? 0 : mx === -Infinity ? NaN : o;
        mag[idx] = m * (1 + 2 * amax);
      }
    }
  }
  return { shape: [...batch, Tq, Dv], values, mag, n: D + Tk + 4 };
}

/** A tensor of `a`, optionally stored as [N, T, H, D] and viewed as [N, H, T, D]. */
function build(a: Arr, permuted: boolean): Tensor {
  if (!permuted || a.shape.length !== 4) return ax.tensor(Float32Array.from(a.data), a.shape);
  const [N, H, T, D] = a.shape as [number, number, number, number];
  const st = new Float32Array(a.data.length);
  for (let n = 0; n < N; n++) for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) st[((n * T + t) * H + h) * D + d] = a.data[((n * H + h) * T + t) * D + d]!;
  return ax.tensor(st, [N, T, H, D]).permute([0, 2, 1, 3]);
}

function run(c: Case): Tensor {
  const mask = c.mask ? (c.mask.bool ? ax.tensor(Array.from(c.mask.data, (x) => x !== 0), c.mask.shape) : ax.tensor(Float32Array.from(c.mask.data), c.mask.shape)) : null;
  return ax.scaledDotProductAttention(build(c.q, c.permuted ?? false), build(c.k, c.permuted ?? false), build(c.v, c.permuted ?? false), {
    mask,
    causal: c.causal ?? false,
    ...(c.scale === undefined ? {} : { scale: c.scale }),
  });
}

function cases(r: Rng): Case[] {
  const keyPad = (N: number, Tk: number, masked: number[][]): Arr & { bool: boolean } => {
    const data = new Float64Array(N * Tk).fill(1);
    masked.forEach((js, n) => js.forEach((j) => (data[n * Tk + j] = 0)));
    return { shape: [N, 1, 1, Tk], data, bool: true };
  };
  const floatMask = (Tq: number, Tk: number): Arr & { bool: boolean } => {
    const m = rand(r, [Tq, Tk], -2, 2);
    for (let i = 0; i < m.data.length; i += 5) m.data[i] = -Infinity;
    for (let i = 0; i < Tq; i++) m.data[i * Tk] = 0.5; // every row keeps key 0
    return { ...m, bool: false };
  };
  return [
    { name: 'batch [2, 3], Tq = Tk = 5, D 4', q: rand(r, [2, 3, 5, 4]), k: rand(r, [2, 3, 5, 4]), v: rand(r, [2, 3, 5, 4]) },
    { name: 'permuted [N, T, H, D] views, Tq 7 ≠ Tk 9, D 5, Dv 3', q: rand(r, [2, 2, 7, 5]), k: rand(r, [2, 2, 9, 5]), v: rand(r, [2, 2, 9, 3]), permuted: true },
    { name: 'k/v shared over heads ([N, 1, T, D]), causal, T 17', q: rand(r, [2, 3, 17, 8]), k: rand(r, [2, 1, 17, 8]), v: rand(r, [2, 1, 17, 8]), causal: true },
    { name: 'causal, Tq 3 < Tk 8', q: rand(r, [2, 3, 4]), k: rand(r, [2, 8, 4]), v: rand(r, [2, 8, 4]), causal: true },
    { name: 'causal, Tq 8 > Tk 3', q: rand(r, [2, 8, 4]), k: rand(r, [2, 3, 4]), v: rand(r, [2, 3, 4]), causal: true },
    { name: 'bool key-padding mask [N, 1, 1, Tk], one query row fully masked (NaN)', q: rand(r, [2, 2, 3, 6]), k: rand(r, [2, 2, 5, 6]), v: rand(r, [2, 2, 5, 6]), mask: keyPad(2, 5, [[4], [0, 1, 2, 3, 4]]), permuted: true },
    { name: 'float mask [Tq, Tk] with −Infinity entries, scale 0.3', q: rand(r, [3, 6, 4]), k: rand(r, [3, 7, 4]), v: rand(r, [3, 7, 2]), mask: floatMask(6, 7), scale: 0.3 },
    { name: 'generation: Tq 1, Tk 33, D 64, large scores', q: rand(r, [2, 2, 1, 64], -3, 3), k: rand(r, [2, 2, 33, 64], -3, 3), v: rand(r, [2, 2, 33, 64]) },
    { name: 'rank 2 (no batch), D 1', q: rand(r, [4, 1]), k: rand(r, [6, 1]), v: rand(r, [6, 3]) },
    { name: 'block edges: T 65 and 130, D 32, causal', q: rand(r, [1, 2, 130, 32]), k: rand(r, [1, 2, 130, 32]), v: rand(r, [1, 2, 130, 32]), causal: true },
    { name: 'block edges: Tq 63, Tk 129, D 33', q: rand(r, [2, 63, 33]), k: rand(r, [2, 129, 33]), v: rand(r, [2, 129, 31]) },
    { name: 'Tk 0 (zeros, as PyTorch)', q: rand(r, [2, 3, 4]), k: rand(r, [2, 0, 4]), v: rand(r, [2, 0, 5]) },
    { name: 'Tq 0 and batch 0 (empty)', q: rand(r, [0, 3, 4]), k: rand(r, [0, 2, 4]), v: rand(r, [0, 2, 4]) },
    { name: 'D 0 (every score 0: the mean of v)', q: rand(r, [2, 3, 0]), k: rand(r, [2, 4, 0]), v: rand(r, [2, 4, 3]) },
  ];
}

export function attentionTests(s: Suite): void {
  group(s, 'attention', () => {
    it('scaledDotProductAttention: masks, causal, broadcasting, views, edges (float64 reference)', async () => {
      for (const c of cases(s.rng('attention'))) {
        const ctx = s.ctx('scaledDotProductAttention', c.name);
        const got = await evaluate1(ctx, () => run(c));
        checkClose(got, reference(c), 'float32', TOLERANCES.attention, ctx);
      }
    });

    it('gradients flow to a float mask that requires grad, and a bool mask gets none', async () => {
      const r = s.rng('attention-grad');
      const q = rand(r, [2, 3, 4]);
      const k = rand(r, [2, 5, 4]);
      const v = rand(r, [2, 5, 2]);
      const ctx = s.ctx('scaledDotProductAttention (mask gradient)');
      const before = ax.memory().numTensors;
      const [dm, dq] = ax.tidy(() => {
        const m = ax.zeros([3, 5]).requireGrad();
        const qt = ax.tensor(Float32Array.from(q.data), q.shape).requireGrad();
        const o = ax.scaledDotProductAttention(qt, ax.tensor(Float32Array.from(k.data), k.shape), ax.tensor(Float32Array.from(v.data), v.shape), { mask: m });
        o.sum().backward();
        return [m.grad!.clone(), qt.grad!.clone()];
      });
      // Σ over outputs of softmax weights' gradient: Σ_j dS_ij = 0 for every row (softmax is shift-invariant)
      const rows = ax.tidy(() => dm.sum(1));
      const vals = await rows.data();
      ensure(vals.every((x) => Math.abs(x) < 1e-5), ctx, () => `row sums of the mask gradient should be 0, got ${Array.from(vals)}`);
      ensure((await dq.data()).some((x) => x !== 0), ctx, 'q gets a nonzero gradient');
      ax.tidy(() => {
        const qt = ax.tensor(Float32Array.from(q.data), q.shape).requireGrad();
        const bm = ax.tensor([true, true, false, true, true], [5]);
        ax.scaledDotProductAttention(qt, ax.tensor(Float32Array.from(k.data), k.shape), ax.tensor(Float32Array.from(v.data), v.shape), { mask: bm }).sum().backward();
        ensure(bm.grad == null, ctx, 'a bool mask has no gradient');
      });
      rows.dispose();
      dm.dispose();
      dq.dispose();
      ensure(ax.memory().numTensors === before, ctx, () => `leaked ${ax.memory().numTensors - before} tensors`);
    });

    it('compile replays attention (a second call with new inputs equals the uncompiled run), and profile counts it', async () => {
      const r = s.rng('attention-compile');
      const ctx = s.ctx('scaledDotProductAttention under compile');
      const f = (q: Tensor, k: Tensor, v: Tensor): Tensor => ax.tidy(() => ax.scaledDotProductAttention(q, k, v, { causal: true }).mul(2));
      const cf = ax.compile(f);
      const mk = () => [rand(r, [2, 3, 5, 4]), rand(r, [2, 3, 5, 4]), rand(r, [2, 3, 5, 4])].map((a) => ax.tensor(Float32Array.from(a.data), a.shape)) as [Tensor, Tensor, Tensor];
      for (let call = 0; call < 3; call++) {
        const xs = mk();
        const got = cf(...xs);
        const want = f(...xs);
        const [g, w] = [await got.data(), await want.data()];
        ensure(g.every((x, i) => x === w[i]), ctx, () => `call ${call}: compiled ${Array.from(g.slice(0, 4))}… ≠ uncompiled ${Array.from(w.slice(0, 4))}…`);
        got.dispose();
        want.dispose();
        xs.forEach((x) => x.dispose());
      }
      const xs = mk();
      const rep = ax.profile(() => ax.tidy(() => void ax.scaledDotProductAttention(...xs)));
      const fused = ax.getBackend().attention !== undefined;
      ensure(fused === (rep.report.byKind.attention?.count === 1), ctx, () => `profile: ${JSON.stringify(Object.keys(rep.report.byKind))} (fused kernel: ${fused})`);
      xs.forEach((x) => x.dispose());
    });

    it('the forward pass at context 1024 holds no [B, H, T, T] buffer where the backend has the fused kernel (memory().peakBytes)', () => {
      const ctx = s.ctx('scaledDotProductAttention (memory at T = 1024)');
      const fused = ax.getBackend().attention !== undefined;
      // T = 1024 where the fused kernel runs; a backend without it checks the composite at T = 128
      const [N, H, T, D] = [1, 4, fused ? 1024 : 128, 16];
      const q = ax.randn([N, T, H, D], { seed: 1 });
      const kv = ax.randn([N, T, H, D], { seed: 2 });
      const before = ax.memory().numTensors;
      ax.resetPeakMemory();
      const base = ax.memory().peakBytes;
      const out = ax.tidy(() => {
        const qh = q.permute([0, 2, 1, 3]);
        const kh = kv.permute([0, 2, 1, 3]);
        return ax.scaledDotProductAttention(qh, kh, kh, { causal: true });
      });
      out.dispose();
      const peak = ax.memory().peakBytes - base;
      const scores = N * H * T * T * 4;
      // with the fused kernel: the output and the kernel's log-sum-exp rows at most; without it the
      // composite materialises the scores (and the check says so)
      ensure(fused ? peak < scores / 8 : peak >= scores, ctx, () => `peak ${peak} bytes above the inputs for ${T}×${T} scores of ${scores} bytes (fused kernel: ${fused})`);
      q.dispose();
      kv.dispose();
      ensure(ax.memory().numTensors === before - 2, ctx, 'no tensor leaked');
    });
  });
}
