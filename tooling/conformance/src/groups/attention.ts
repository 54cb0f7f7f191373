/**
 * Scaled dot-product attention: `scaledDotProductAttention` against a float64 reference (batch and
 * head broadcasting, permuted [N, T, H, D] views, bool and float masks, causal with Tq ≠ Tk, fully
 * masked rows, empty and size-1 dims, sizes across kernel block edges), and its memory: the forward
 * pass at context 1024 never holds a [B, H, T, T] buffer where the backend has the fused kernel.
 * The backward pass: gradients of q, k, v through `Backend.attentionBackward` (where present) and
 * through the composite ops (createGraph) against float64, gradcheck, grad of grad, its memory at
 * T = 1024 (no scores with the kernel; the composite materialises them) and compile replay.
 */
import { gradcheckAsync, gradients } from '@axon/autograd';
import * as ax from '@axon/core';
import type { Tensor } from '@axon/core';
import { checkClose, type Expected, ensure } from '../check.js';
import { evaluate, evaluate1, group, it, type Suite } from '../harness.js';
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
  return a.data[offAt(a, batch, b, i, j)]!;
}

/** The flat offset in `a` of the broadcast batch index `b` and trailing (i, j). */
function offAt(a: Arr, batch: readonly number[], b: number, i: number, j: number): number {
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
  return off;
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
function batchOf(c: Case): number[] {
  const bshape = (a: Arr): number[] => a.shape.slice(0, -2);
  const nb = Math.max(c.q.shape.length, c.k.shape.length, c.v.shape.length, c.mask?.shape.length ?? 0) - 2;
  const batch: number[] = [];
  for (let d = 0; d < nb; d++) {
    const dims = [c.q, c.k, c.v, ...(c.mask ? [c.mask] : [])].map((a) => bshape(a)[bshape(a).length - nb + d] ?? 1);
    batch.push(Math.max(...dims));
  }
  return batch;
}

function reference(c: Case): Expected {
  const [Tq, D] = c.q.shape.slice(-2) as [number, number];
  const [Tk] = c.k.shape.slice(-2) as [number];
  const Dv = c.v.shape[c.v.shape.length - 1]!;
  const batch = batchOf(c);
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

/** The float64 gradients of q, k, v (summed to their shapes) for the output gradient `G`, with the error bound's magnitudes. */
function referenceGrad(c: Case, G: Arr): [Expected, Expected, Expected] {
  const [Tq, D] = c.q.shape.slice(-2) as [number, number];
  const [Tk] = c.k.shape.slice(-2) as [number];
  const Dv = c.v.shape[c.v.shape.length - 1]!;
  const batch = batchOf(c);
  const scale = c.scale ?? (D > 0 ? 1 / Math.sqrt(D) : 1);
  const B = size(batch);
  const zero = (a: Arr): { v: Float64Array; m: Float64Array } => ({ v: new Float64Array(a.data.length), m: new Float64Array(a.data.length) });
  const [gq, gk, gv] = [zero(c.q), zero(c.k), zero(c.v)];
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
      if (mx === -Infinity) continue; // every key masked: the row contributes nothing (backend.ts)
      const p = new Float64Array(Tk);
      let den = 0;
      let amax = 0;
      for (let j = 0; j < Tk; j++) {
        p[j] = Math.exp(s[j]! - mx);
        den += p[j]!;
        if (s[j] !== -Infinity) amax = Math.max(amax, a[j]!);
      }
      for (let j = 0; j < Tk; j++) p[j]! /= den;
      const g = (e: number): number => G.data[(b * Tq + i) * Dv + e]!;
      let Di = 0;
      let w = 0;
      for (let e = 0; e < Dv; e++) {
        let o = 0;
        for (let j = 0; j < Tk; j++) o += p[j]! * at(c.v, batch, b, j, e);
        Di += g(e) * o;
        w += Math.abs(g(e) * o);
      }
      const grow = 1 + 2 * amax;
      for (let j = 0; j < Tk; j++) {
        if (p[j] === 0) continue;
        let dp = 0;
        let m = 0;
        for (let e = 0; e < Dv; e++) {
          dp += g(e) * at(c.v, batch, b, j, e);
          m += Math.abs(g(e) * at(c.v, batch, b, j, e));
        }
        const ds = p[j]! * (dp - Di);
        // dS's error: the weight's (relative, ≤ grow·ε) times |dP − D|, plus the two dot products'
        const e = p[j]! * (Math.abs(dp) + Math.abs(Di) + m + w) * grow;
        for (let d = 0; d < D; d++) {
          const oq = offAt(c.q, batch, b, i, d);
          const ok = offAt(c.k, batch, b, j, d);
          gq.v[oq] += scale * ds * c.k.data[ok]!;
          gq.m[oq] += Math.abs(scale) * e * Math.abs(c.k.data[ok]!);
          gk.v[ok] += scale * ds * c.q.data[oq]!;
          gk.m[ok] += Math.abs(scale) * e * Math.abs(c.q.data[oq]!);
        }
        for (let e2 = 0; e2 < Dv; e2++) {
          const ov = offAt(c.v, batch, b, j, e2);
          gv.v[ov] += p[j]! * g(e2);
          gv.m[ov] += p[j]! * Math.abs(g(e2)) * grow;
        }
      }
    }
  }
  const n = D + Dv + Tk + Tq + 4;
  return [
    { shape: c.q.shape, values: gq.v, mag: gq.m, n },
    { shape: c.k.shape, values: gk.v, mag: gk.m, n },
    { shape: c.v.shape, values: gv.v, mag: gv.m, n },
  ];
}

/** Leaf tensors of q, k, v (requiring grad) and the tensors the gradients are taken for (permuted views where asked). */
function gradInputs(c: Case): { leaves: Tensor[]; targets: Tensor[] } {
  const leaves: Tensor[] = [];
  const targets = [c.q, c.k, c.v].map((a) => {
    if (!(c.permuted ?? false) || a.shape.length !== 4) {
      const t = ax.tensor(Float32Array.from(a.data), a.shape).requireGrad();
      leaves.push(t);
      return t;
    }
    // a permuted view of [N, T, H, D] storage: differentiate through the permute (the storage is the leaf)
    const [N, H, T, D] = a.shape as [number, number, number, number];
    const base = ax.tensor(nthd(a), [N, T, H, D]).requireGrad();
    leaves.push(base);
    return base.permute([0, 2, 1, 3]);
  });
  return { leaves, targets };
}

/** The [N, T, H, D] storage of a logical [N, H, T, D] array. */
function nthd(a: Arr): Float32Array {
  const [N, H, T, D] = a.shape as [number, number, number, number];
  const st = new Float32Array(a.data.length);
  for (let n = 0; n < N; n++) for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) st[((n * T + t) * H + h) * D + d] = a.data[((n * H + h) * T + t) * D + d]!;
  return st;
}

/** A tensor of `a`, optionally stored as [N, T, H, D] and viewed as [N, H, T, D]. */
function build(a: Arr, permuted: boolean): Tensor {
  if (!permuted || a.shape.length !== 4) return ax.tensor(Float32Array.from(a.data), a.shape);
  const [N, H, T, D] = a.shape as [number, number, number, number];
  return ax.tensor(nthd(a), [N, T, H, D]).permute([0, 2, 1, 3]);
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

/** The backward pass's cases: shapes across the kernels' tile edges, masks, views, a fully masked row. */
function gradCases(r: Rng): Case[] {
  const keyPad = (N: number, Tk: number, masked: number[][]): Arr & { bool: boolean } => {
    const data = new Float64Array(N * Tk).fill(1);
    masked.forEach((js, n) => js.forEach((j) => (data[n * Tk + j] = 0)));
    return { shape: [N, 1, 1, Tk], data, bool: true };
  };
  const floatMask = (Tq: number, Tk: number): Arr & { bool: boolean } => {
    const m = rand(r, [Tq, Tk], -2, 2);
    for (let i = 0; i < m.data.length; i += 5) m.data[i] = -Infinity;
    for (let i = 0; i < Tq; i++) m.data[i * Tk] = 0.5;
    return { ...m, bool: false };
  };
  const qkv = (b: number[], Tq: number, Tk: number, D: number, Dv: number): Pick<Case, 'q' | 'k' | 'v'> => ({ q: rand(r, [...b, Tq, D]), k: rand(r, [...b, Tk, D]), v: rand(r, [...b, Tk, Dv]) });
  return [
    { name: 'batch [2, 3], Tq = Tk = 5, D 4', ...qkv([2, 3], 5, 5, 4, 4) },
    { name: 'permuted [N, T, H, D] views, Tq 7 ≠ Tk 9, D 5 ≠ Dv 3', ...qkv([2, 2], 7, 9, 5, 3), permuted: true },
    { name: 'k/v shared over heads ([N, 1, T, D]), causal, T 17', q: rand(r, [2, 3, 17, 8]), k: rand(r, [2, 1, 17, 8]), v: rand(r, [2, 1, 17, 8]), causal: true },
    { name: 'causal, Tq 3 < Tk 8', ...qkv([2], 3, 8, 4, 4), causal: true },
    { name: 'causal, Tq 8 > Tk 3', ...qkv([2], 8, 3, 4, 4), causal: true },
    { name: 'bool key-padding mask [N, 1, 1, Tk], permuted, a fully masked query row', ...qkv([2, 2], 3, 5, 6, 6), mask: keyPad(2, 5, [[4], [0, 1, 2, 3, 4]]), permuted: true },
    { name: 'float mask [Tq, Tk] without grad, −Infinity entries, scale 0.3', ...qkv([3], 6, 7, 4, 2), mask: floatMask(6, 7), scale: 0.3 },
    { name: 'T 1', ...qkv([2], 1, 1, 3, 2) },
    { name: 'T 15, causal', ...qkv([1, 2], 15, 15, 8, 8), causal: true },
    { name: 'T 16, causal', ...qkv([1, 2], 16, 16, 8, 8), causal: true },
    { name: 'T 17, D 9, Dv 7', ...qkv([2], 17, 17, 9, 7) },
    { name: 'T 65, D 32, causal, permuted', ...qkv([1, 2], 65, 65, 32, 32), causal: true, permuted: true },
    { name: 'Tq 63, Tk 129, D 33, Dv 31', ...qkv([2], 63, 129, 33, 31) },
    { name: 'D 160 > Dv 130 (head dims past one tile), Tq 9, Tk 21', ...qkv([1], 9, 21, 160, 130) },
    { name: 'generation: Tq 1, Tk 33, D 64, large scores', q: rand(r, [2, 1, 64], -3, 3), k: rand(r, [2, 33, 64], -3, 3), v: rand(r, [2, 33, 64]) },
    { name: 'D 0 (every score 0)', ...qkv([2], 3, 4, 0, 3) },
    { name: 'rank 2 (no batch), D 1', ...qkv([], 4, 6, 1, 3) },
  ];
}

/** `Σ x ⊙ w` for a fixed weight of x's shape: a scalar whose gradient is w. */
function wsum(x: Tensor, w: Tensor): Tensor {
  return ax.sum(ax.mul(x, w));
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

    it('backward: gradients of q, k, v — the fused kernel (Backend.attentionBackward, where present) and the composite ops (createGraph) — against float64', async () => {
      const r = s.rng('attention-backward');
      const fused = ax.getBackend().attentionBackward !== undefined;
      for (const c of gradCases(r)) {
        const [Tq] = c.q.shape.slice(-2) as [number];
        const G = rand(r, [...batchOf(c), Tq, c.v.shape[c.v.shape.length - 1]!]);
        const want = referenceGrad(c, G);
        for (const createGraph of [false, true]) {
          const ctx = s.ctx('scaledDotProductAttention backward', `${c.name} (${createGraph ? 'composite: createGraph' : fused ? 'fused kernel' : 'composite: no kernel'})`);
          const got = await evaluate(ctx, () => {
            const { leaves, targets } = gradInputs(c);
            const mask = c.mask ? (c.mask.bool ? ax.tensor(Array.from(c.mask.data, (x) => x !== 0), c.mask.shape) : ax.tensor(Float32Array.from(c.mask.data), c.mask.shape)) : null;
            const [q, k, v] = targets as [Tensor, Tensor, Tensor];
            const out = ax.scaledDotProductAttention(q, k, v, { mask, causal: c.causal ?? false, ...(c.scale === undefined ? {} : { scale: c.scale }) });
            const g = ax.tensor(Float32Array.from(G.data), G.shape);
            const gs = gradients(out, targets, g, createGraph);
            const r2 = gs.map((t, i) => (t === null ? ax.zeros(targets[i]!.shape) : ax.noGrad(() => t.contiguous())));
            void leaves;
            return r2;
          });
          got.forEach((x, i) => checkClose(x, want[i]!, 'float32', TOLERANCES.attention, { ...ctx, op: `${ctx.op}: d${'qkv'[i]}` }));
        }
      }
    });

    it('backward: gradcheck (finite differences) of q, k, v — causal, bool mask, permuted views, Tq ≠ Tk, D ≠ Dv', async () => {
      const r = s.rng('attention-gradcheck');
      const keyPad: Arr & { bool: boolean } = { shape: [2, 1, 1, 4], data: Float64Array.from([1, 1, 0, 1, 0, 1, 1, 1]), bool: true };
      const all: Case[] = [
        { name: 'causal, Tq 4, Tk 5, D 3, Dv 2', q: rand(r, [2, 4, 3]), k: rand(r, [2, 5, 3]), v: rand(r, [2, 5, 2]), causal: true },
        { name: 'bool key-padding mask, permuted [N, T, H, D]', q: rand(r, [2, 2, 3, 3]), k: rand(r, [2, 2, 4, 3]), v: rand(r, [2, 2, 4, 2]), mask: keyPad, permuted: true },
      ];
      for (const c of all) {
        const ctx = s.ctx('scaledDotProductAttention gradcheck', c.name);
        const before = ax.memory().numTensors;
        const { leaves } = ax.tidy(() => {
          const x = gradInputs(c);
          return { leaves: x.leaves.map((t) => ax.keep(t)) };
        });
        const W = ax.tensor(Float32Array.from(rand(r, [...batchOf(c), c.q.shape[c.q.shape.length - 2]!, c.v.shape[c.v.shape.length - 1]!]).data), [...batchOf(c), c.q.shape[c.q.shape.length - 2]!, c.v.shape[c.v.shape.length - 1]!]);
        const mask = c.mask ? ax.tensor(Array.from(c.mask.data, (x) => x !== 0), c.mask.shape) : null;
        const view = (t: Tensor): Tensor => (c.permuted ?? false ? t.permute([0, 2, 1, 3]) : t);
        try {
          const res = await gradcheckAsync((q, k, v) => wsum(ax.scaledDotProductAttention(view(q!), view(k!), view(v!), { mask, causal: c.causal ?? false }), W), leaves);
          ensure(res.ok, ctx, () => `${res.message} (tolerances: ${TOLERANCES.gradcheck.why})`);
        } finally {
          for (const t of [...leaves, W, ...(mask ? [mask] : [])]) t.dispose();
        }
        ensure(ax.memory().numTensors === before, ctx, () => `leaked ${ax.memory().numTensors - before} tensors`);
      }
    });

    it('backward: grad of grad through attention (the composite ops under createGraph) matches finite differences', async () => {
      const r = s.rng('attention-grad-of-grad');
      const ctx = s.ctx('scaledDotProductAttention second order', 'causal, q [2, 4, 3], k/v [2, 4, 3]');
      const before = ax.memory().numTensors;
      const arrs = [rand(r, [2, 4, 3]), rand(r, [2, 4, 3]), rand(r, [2, 4, 3])];
      const xs = arrs.map((a) => ax.tensor(Float32Array.from(a.data), a.shape));
      const [W, W1, W2, W3] = [0, 1, 2, 3].map(() => ax.tensor(Float32Array.from(rand(r, [2, 4, 3]).data), [2, 4, 3])) as [Tensor, Tensor, Tensor, Tensor];
      const f = (q: Tensor, k: Tensor, v: Tensor): Tensor =>
        ax.enableGrad(() => {
          const ins = [q, k, v].map((t) => (t.requiresGrad ? t : t.clone().requireGrad()));
          const loss = wsum(ax.scaledDotProductAttention(ins[0]!, ins[1]!, ins[2]!, { causal: true }), W);
          const [gq, gk, gv] = gradients(loss, ins, undefined, true) as [Tensor, Tensor, Tensor];
          return ax.add(ax.add(wsum(gq, W1), wsum(gk, W2)), wsum(gv, W3));
        });
      try {
        const res = await gradcheckAsync((q, k, v) => f(q!, k!, v!), xs);
        ensure(res.ok, ctx, () => `${res.message} (tolerances: ${TOLERANCES.gradcheck.why})`);
      } finally {
        for (const t of [...xs, W, W1, W2, W3]) t.dispose();
      }
      ensure(ax.memory().numTensors === before, ctx, () => `leaked ${ax.memory().numTensors - before} tensors`);
    });

    it('the backward pass holds no [B, H, T, T] buffer where the backend has the fused backward kernel, and the composite does (memory().peakBytes)', async () => {
      const ctx = s.ctx('scaledDotProductAttention backward (memory at T = 1024)');
      const b = ax.getBackend();
      const fused = b.attentionBackward !== undefined && b.attention !== undefined;
      // T = 1024 (4 heads); the plain-JavaScript reference backend checks the same at T = 512
      const [N, H, T, D] = [1, 4, b.name === 'reference' ? 512 : 1024, 16];
      const before = ax.memory().numTensors;
      const q = ax.randn([N, T, H, D], { seed: 3 }).requireGrad();
      const kv = ax.randn([N, T, H, D], { seed: 4 }).requireGrad();
      let peak = 0;
      const grads = ax.tidy(() => {
        const out = ax.scaledDotProductAttention(q.permute([0, 2, 1, 3]), kv.permute([0, 2, 1, 3]), kv.permute([0, 2, 1, 3]), { causal: true });
        const g = ax.randn(out.shape, { seed: 5 });
        ax.resetPeakMemory();
        const base = ax.memory().peakBytes;
        const gs = gradients(out, [q, kv], g);
        peak = ax.memory().peakBytes - base;
        return gs.map((x) => x!);
      });
      const scores = N * H * T * T * 4;
      const qkv = N * H * T * D * 4;
      // with the kernel: a few q/k/v-sized buffers (the kernel's outputs, their sums) and rows of D;
      // the composite recomputes the weights: [B, H, T, T] (and more) are materialised
      ensure(fused ? peak <= 8 * qkv && peak < scores / 4 : peak >= scores, ctx, () => `backward peak ${peak} bytes above the forward for ${T}×${T} scores of ${scores} bytes, q ${qkv} bytes (fused backward: ${fused})`);
      const vals = await Promise.all(grads.map((x) => x.data()));
      ensure(vals.every((v) => v.every((x) => Number.isFinite(x))) && vals.every((v) => v.some((x) => x !== 0)), ctx, 'the gradients are finite and nonzero');
      for (const t of [...grads, q, kv]) t.dispose();
      ensure(ax.memory().numTensors === before, ctx, () => `leaked ${ax.memory().numTensors - before} tensors (the kept log-sum-exp rows are freed with the graph's scope)`);
    });

    it('backward under compile: a compiled forward + backward step equals the uncompiled one on new inputs', async () => {
      const r = s.rng('attention-compile-backward');
      const ctx = s.ctx('scaledDotProductAttention backward under compile');
      const f = (q: Tensor, k: Tensor, v: Tensor): Tensor[] =>
        ax.tidy(() => {
          const ins = [q, k, v].map((t) => t.clone().requireGrad());
          const out = ax.scaledDotProductAttention(ins[0]!, ins[1]!, ins[2]!, { causal: true });
          return gradients(ax.sum(ax.mul(out, out)), ins).map((x) => x!);
        });
      const cf = ax.compile(f);
      const mk = () => [rand(r, [2, 3, 5, 4]), rand(r, [2, 3, 5, 4]), rand(r, [2, 3, 5, 4])].map((a) => ax.tensor(Float32Array.from(a.data), a.shape)) as [Tensor, Tensor, Tensor];
      for (let call = 0; call < 3; call++) {
        const xs = mk();
        const got = cf(...xs);
        const want = f(...xs);
        try {
          for (let i = 0; i < 3; i++) {
            const [g, w] = [await got[i]!.data(), await want[i]!.data()];
            ensure(g.every((x, j) => x === w[j]), ctx, () => `call ${call}, d${'qkv'[i]}: compiled ${Array.from(g.slice(0, 4))}… ≠ uncompiled ${Array.from(w.slice(0, 4))}… (compile replays only the primitives it records: core's PRIMITIVES must list attentionBackward)`);
          }
        } finally {
          for (const t of [...got, ...want, ...xs]) t.dispose();
        }
      }
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
