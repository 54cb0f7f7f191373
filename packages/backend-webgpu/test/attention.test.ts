// attention (flash-attention kernel): against a float64 reference (scores, max-subtracted softmax,
// weighted sum; lse = max + log Σ exp) on seeded random inputs — head sizes 1 … 160, Tq ≠ Tk,
// tile edges of the default and of small kernel shapes (several D chunks and Dv passes), permuted,
// sliced, broadcast and packed-QKV views, bias null / full / broadcast / with −Infinity / NaN,
// causal with Tq < Tk and Tq > Tk, fully masked rows, zero sizes, bad calls, pipelines and memory.
//
// Tolerance (stated once, for out and lse): |got − expected| ≤ 1e-5 + 1e-4·|expected| — the
// project's float32 tolerance for comparisons with a float64 reference. NaN must be NaN and ±∞ exact.
import { describe, expect, it } from 'vitest';
import type { BackendBuffer, View } from '@axon/core';
import { createWebGPUBackend, type AttentionPlan, type WebGPUBackend } from '../src/index.js';
import { defaultLimitsBackend, expectAxonErrors, expectClose, freeAll, type Layout, makeView, type Rng, rng, upload, useBackend, viewOf } from './helpers.js';

const getB = useBackend();
const TOL = { rtol: 1e-4, atol: 1e-5 };

/** float64 reference of `Backend.attention` on logical (row-major) values. */
function attentionRef(
  q: readonly number[],
  k: readonly number[],
  v: readonly number[],
  bias: readonly number[] | null,
  B: number,
  Tq: number,
  Tk: number,
  D: number,
  Dv: number,
  scale: number,
  causal: boolean,
): { out: number[]; lse: number[] } {
  const out: number[] = [];
  const lse: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < Tq; i++) {
      const s: number[] = [];
      for (let j = 0; j < Tk; j++) {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q[(b * Tq + i) * D + d]! * k[(b * Tk + j) * D + d]!;
        let x = scale * dot + (bias ? bias[(b * Tq + i) * Tk + j]! : 0);
        if (causal && j > i) x = -Infinity;
        s.push(x);
      }
      const m = s.some(Number.isNaN) ? NaN : Math.max(-Infinity, ...s);
      if (m === -Infinity) {
        for (let c = 0; c < Dv; c++) out.push(NaN);
        lse.push(-Infinity);
        continue;
      }
      const p = s.map((x) => Math.exp(x - m));
      const l = p.reduce((a, x) => a + x, 0);
      for (let c = 0; c < Dv; c++) {
        let acc = 0;
        for (let j = 0; j < Tk; j++) acc += p[j]! * v[(b * Tk + j) * Dv + c]!;
        out.push(acc / l);
      }
      lse.push(m + Math.log(l));
    }
  }
  return { out, lse };
}

type BiasKind = 'none' | 'full' | 'bcast' | 'inf' | 'nan';

interface Case {
  B: number;
  Tq: number;
  Tk: number;
  D: number;
  Dv: number;
  layout?: Layout;
  bias?: BiasKind;
  causal?: boolean;
  scale?: number;
}

/** The bias of a case as a view plus its logical values (null for 'none'). */
function makeBias(b: WebGPUBackend, r: Rng, c: Case): { view: View; values: number[]; buf: BackendBuffer } | null {
  const kind = c.bias ?? 'none';
  if (kind === 'none') return null;
  const shape = [c.B, c.Tq, c.Tk];
  if (kind === 'bcast') {
    // a [Tq, Tk] mask broadcast over B (stride 0), with −Infinity entries
    const base = Array.from({ length: c.Tq * c.Tk }, () => (r.next() < 0.3 ? -Infinity : Math.fround(r.normal())));
    const buf = upload(b, 'float32', base.length > 0 ? base : [0]);
    const values: number[] = [];
    for (let bi = 0; bi < c.B; bi++) values.push(...base);
    return { view: { buf, dtype: 'float32', shape, strides: [0, c.Tk, 1], offset: 0 }, values, buf };
  }
  const gen = kind === 'inf' ? () => (r.next() < 0.35 ? -Infinity : r.normal()) : kind === 'nan' ? () => (r.next() < 0.05 ? NaN : r.normal()) : () => r.normal();
  const t = makeView(b, r, 'float32', shape, c.layout ?? 'random', gen);
  return { view: t.view, values: t.values, buf: t.buf };
}

/** Runs one case on `b` (its current kernel shape) and compares out and lse with the reference. */
async function check(b: WebGPUBackend, c: Case, what = ''): Promise<void> {
  const r = rng();
  const layout = c.layout ?? 'random';
  const scale = c.scale ?? 1 / Math.sqrt(Math.max(c.D, 1));
  const q = makeView(b, r, 'float32', [c.B, c.Tq, c.D], layout);
  const k = makeView(b, r, 'float32', [c.B, c.Tk, c.D], layout);
  const v = makeView(b, r, 'float32', [c.B, c.Tk, c.Dv], layout);
  const bias = makeBias(b, r, c);
  await compare(b, c, q.view, k.view, v.view, bias?.view ?? null, [q.values, k.values, v.values, bias?.values ?? null], scale, what);
  freeAll(b, q.buf, k.buf, v.buf, ...(bias ? [bias.buf] : []));
}

async function compare(
  b: WebGPUBackend,
  c: Case,
  q: View,
  k: View,
  v: View,
  bias: View | null,
  vals: [number[], number[], number[], number[] | null],
  scale: number,
  what: string,
): Promise<{ out: Float32Array; lse: Float32Array }> {
  const out = b.alloc('float32', c.B * c.Tq * c.Dv);
  const lse = b.alloc('float32', c.B * c.Tq);
  b.attention(q, k, v, bias, scale, c.causal ?? false, out, lse);
  const got = (await b.read(out)) as Float32Array;
  const gotLse = (await b.read(lse)) as Float32Array;
  const ref = attentionRef(vals[0], vals[1], vals[2], vals[3], c.B, c.Tq, c.Tk, c.D, c.Dv, Math.fround(scale), c.causal ?? false);
  const name = `attention ${what}B=${c.B} Tq=${c.Tq} Tk=${c.Tk} D=${c.D} Dv=${c.Dv} ${c.layout ?? 'random'} bias=${c.bias ?? 'none'} causal=${c.causal ?? false} q strides [${q.strides}]+${q.offset} k [${k.strides}]+${k.offset} v [${v.strides}]+${v.offset}${bias ? ` bias [${bias.strides}]+${bias.offset}` : ''}`;
  expectClose(`${name}: out`, got, ref.out, TOL);
  expectClose(`${name}: lse`, gotLse, ref.lse, TOL);
  freeAll(b, out, lse);
  return { out: got, lse: gotLse };
}

/** Runs `fn` with the kernel shape `plan`, then restores the default. */
async function withPlan(b: WebGPUBackend, plan: AttentionPlan, fn: () => Promise<void>): Promise<void> {
  b.attentionConfig = plan;
  try {
    await fn();
  } finally {
    b.attentionConfig = null;
  }
}

/** A small kernel shape: 4 query rows, key tiles of 4, D in chunks of 4, 4 output columns per pass. */
const SMALL: AttentionPlan = { wg: 8, bq: 4, bk: 4, dq: 4, cv: 4 };

describe('attention', () => {
  it('head sizes D/Dv = 1, 3, 32, 64, 65 and > 128, Tq ≠ Tk, Tq = 1', async () => {
    const b = getB();
    for (const D of [1, 3, 32, 64, 65]) await check(b, { B: 2, Tq: 5, Tk: 7, D, Dv: D });
    await check(b, { B: 2, Tq: 3, Tk: 9, D: 3, Dv: 32 });
    await check(b, { B: 1, Tq: 6, Tk: 4, D: 64, Dv: 1 });
    // D > 128: two chunks of the head dimension; Dv > 128: two sweeps over the keys
    await check(b, { B: 1, Tq: 4, Tk: 5, D: 160, Dv: 3 });
    await check(b, { B: 1, Tq: 3, Tk: 5, D: 2, Dv: 130 });
    await check(b, { B: 1, Tq: 2, Tk: 3, D: 129, Dv: 257 });
    for (const Tk of [1, 2, 19]) await check(b, { B: 3, Tq: 1, Tk, D: 8, Dv: 5 });
  });

  it('tile edges of the default kernel (16 query rows, key tiles of 16): T = 15, 16, 17, 33', async () => {
    const b = getB();
    for (const [Tq, Tk] of [[15, 16], [16, 17], [17, 15], [33, 16], [1, 33]] as const) await check(b, { B: 2, Tq, Tk, D: 4, Dv: 3 });
    await check(b, { B: 1, Tq: 17, Tk: 17, D: 5, Dv: 4, causal: true, bias: 'full' });
  });

  it('tile edges, several D chunks and Dv passes of a small kernel shape', async () => {
    const b = getB();
    await withPlan(b, SMALL, async () => {
      for (const [Tq, Tk] of [[3, 5], [4, 4], [5, 3], [9, 8]] as const) {
        for (const [D, Dv] of [[3, 3], [4, 4], [5, 9], [9, 1], [0, 5]] as const) await check(b, { B: 2, Tq, Tk, D, Dv }, 'small shape ');
      }
      await check(b, { B: 2, Tq: 9, Tk: 7, D: 5, Dv: 6, causal: true, bias: 'inf' }, 'small shape ');
      await check(b, { B: 2, Tq: 5, Tk: 11, D: 5, Dv: 6, causal: true, bias: 'bcast' }, 'small shape ');
    });
    await withPlan(b, { wg: 1, bq: 1, bk: 1, dq: 4, cv: 4 }, () => check(b, { B: 2, Tq: 3, Tk: 4, D: 6, Dv: 5, bias: 'full', causal: true }, 'one invocation '));
  });

  it('views: random layouts (permuted, gaps, offsets), broadcast (stride 0), contiguous', async () => {
    const b = getB();
    for (const layout of ['random', 'broadcast', 'contiguous'] as const) {
      for (let t = 0; t < 3; t++) await check(b, { B: 3, Tq: 4 + t, Tk: 6 - t, D: 5, Dv: 4, layout, bias: 'full' });
    }
  });

  it('views: permuted [batch, T, heads, D] (B = heads), K transposed, packed QKV in one buffer', async () => {
    const b = getB();
    const r = rng();
    const [H, T, D] = [3, 5, 4];
    // one [T, 3, H, D] buffer holding q, k and v (a fused QKV projection), each a permuted view [H, T, D]
    const base = Array.from({ length: T * 3 * H * D }, () => Math.fround(r.normal() * 2));
    const buf = upload(b, 'float32', base);
    const part = (which: number): View => ({ buf, dtype: 'float32', shape: [H, T, D], strides: [D, 3 * H * D, 1], offset: which * H * D });
    const logicalOf = (which: number): number[] => {
      const out: number[] = [];
      for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) out.push(base[t * 3 * H * D + which * H * D + h * D + d]!);
      return out;
    };
    const c: Case = { B: H, Tq: T, Tk: T, D, Dv: D };
    await compare(b, c, part(0), part(1), part(2), null, [logicalOf(0), logicalOf(1), logicalOf(2), null], 0.5, 'packed qkv ');
    await compare(b, { ...c, causal: true }, part(0), part(1), part(2), null, [logicalOf(0), logicalOf(1), logicalOf(2), null], 0.5, 'packed qkv ');
    // k stored transposed ([B, D, Tk] contiguous), read as [B, Tk, D]
    const [B, Tq, Tk] = [2, 3, 6];
    const qv = makeView(b, r, 'float32', [B, Tq, D], 'contiguous');
    const kt = Array.from({ length: B * D * Tk }, () => Math.fround(r.normal()));
    const kbuf = upload(b, 'float32', kt);
    const kLogical: number[] = [];
    for (let bi = 0; bi < B; bi++) for (let j = 0; j < Tk; j++) for (let d = 0; d < D; d++) kLogical.push(kt[(bi * D + d) * Tk + j]!);
    const vv = makeView(b, r, 'float32', [B, Tk, 2], 'random');
    const kView: View = { buf: kbuf, dtype: 'float32', shape: [B, Tk, D], strides: [D * Tk, 1, Tk], offset: 0 };
    await compare(b, { B, Tq, Tk, D, Dv: 2 }, qv.view, kView, vv.view, null, [qv.values, kLogical, vv.values, null], 0.7, 'k transposed ');
    freeAll(b, buf, kbuf, qv.buf, vv.buf);
  });

  it('bias: null, full, broadcast over B, with −Infinity; causal with Tq < Tk and Tq > Tk', async () => {
    const b = getB();
    for (const bias of ['none', 'full', 'bcast', 'inf'] as const) {
      for (const causal of [false, true]) {
        await check(b, { B: 2, Tq: 3, Tk: 7, D: 6, Dv: 5, bias, causal });
        await check(b, { B: 2, Tq: 7, Tk: 3, D: 6, Dv: 5, bias, causal });
      }
    }
    await check(b, { B: 1, Tq: 20, Tk: 18, D: 3, Dv: 3, causal: true });
    await check(b, { B: 1, Tq: 18, Tk: 37, D: 3, Dv: 3, causal: true, bias: 'bcast' });
  });

  it('a fully masked row gives NaN out and lse −Infinity; NaN scores propagate; infinite scale', async () => {
    const b = getB();
    const r = rng();
    const [B, Tq, Tk, D, Dv] = [2, 3, 4, 2, 3];
    const q = makeView(b, r, 'float32', [B, Tq, D], 'contiguous');
    const k = makeView(b, r, 'float32', [B, Tk, D], 'contiguous');
    const v = makeView(b, r, 'float32', [B, Tk, Dv], 'contiguous');
    // row 1 of batch 0 fully masked by the bias; row 0 of batch 1 masked everywhere but j = 2 — with
    // causal, that row (i = 0) is then fully masked too; one NaN in row 2 of batch 1
    const bias = Array.from({ length: B * Tq * Tk }, () => Math.fround(r.normal()));
    for (let j = 0; j < Tk; j++) bias[(0 * Tq + 1) * Tk + j] = -Infinity;
    for (let j = 0; j < Tk; j++) if (j !== 2) bias[(1 * Tq + 0) * Tk + j] = -Infinity;
    bias[(1 * Tq + 2) * Tk + 1] = NaN;
    const bb = upload(b, 'float32', bias);
    const vals: [number[], number[], number[], number[]] = [q.values, k.values, v.values, bias];
    const c: Case = { B, Tq, Tk, D, Dv };
    for (const causal of [false, true]) {
      const got = await compare(b, { ...c, causal }, q.view, k.view, v.view, viewOf(bb, [B, Tq, Tk]), vals, 0.9, 'masked ');
      // explicit, beyond the comparison: the masked rows' values
      expect([...got.out.slice(Dv, 2 * Dv)].every(Number.isNaN)).toBe(true);
      expect(got.lse[1]).toBe(-Infinity);
      expect(Number.isNaN(got.lse[Tq + 2]!)).toBe(true);
      expect([...got.out.slice((Tq + 2) * Dv, (Tq + 3) * Dv)].every(Number.isNaN)).toBe(true);
      expect(got.lse[Tq]).toBe(causal ? -Infinity : got.lse[Tq]);
      if (!causal) expect(Number.isFinite(got.lse[Tq]!)).toBe(true);
      expect(got.out.slice(0, Dv).every(Number.isFinite)).toBe(true);
    }
    // every entry masked by causal alone never happens (j = 0 ≤ i); a bias of all −Infinity masks every row
    const all = upload(b, 'float32', new Array<number>(Tq * Tk).fill(-Infinity));
    const allVals = new Array<number>(B * Tq * Tk).fill(-Infinity);
    const got = await compare(b, c, q.view, k.view, v.view, { buf: all, dtype: 'float32', shape: [B, Tq, Tk], strides: [0, Tk, 1], offset: 0 }, [q.values, k.values, v.values, allVals], 1, 'all masked ');
    expect([...got.out].every(Number.isNaN)).toBe(true);
    expect([...got.lse].every((x) => x === -Infinity)).toBe(true);
    freeAll(b, q.buf, k.buf, v.buf, bb, all);
  });

  it('zero sizes: B = 0, Tq = 0, Dv = 0 (lse still written), D = 0 (scores are the bias)', async () => {
    const b = getB();
    await check(b, { B: 0, Tq: 3, Tk: 4, D: 2, Dv: 2 });
    await check(b, { B: 2, Tq: 0, Tk: 4, D: 2, Dv: 2 });
    await check(b, { B: 2, Tq: 3, Tk: 4, D: 2, Dv: 0, bias: 'full' });
    await check(b, { B: 2, Tq: 3, Tk: 4, D: 0, Dv: 3, bias: 'full' });
    await check(b, { B: 2, Tq: 3, Tk: 4, D: 0, Dv: 3, causal: true });
  });

  it('one pipeline per kernel shape, register tile and bias presence; no buffer allocated or leaked', async () => {
    const b = getB();
    await check(b, { B: 1, Tq: 2, Tk: 2, D: 2, Dv: 2 });
    await check(b, { B: 1, Tq: 2, Tk: 2, D: 2, Dv: 2, bias: 'full' });
    const before = b.pipelineCount;
    const mem = b.memory();
    await check(b, { B: 3, Tq: 9, Tk: 4, D: 7, Dv: 3, causal: true });
    await check(b, { B: 2, Tq: 5, Tk: 6, D: 130, Dv: 1, bias: 'bcast' });
    expect(b.pipelineCount - before, 'sizes, strides, scale and causal are parameters').toBe(0);
    expect(b.memory().bytes).toBe(mem.bytes);
    expect(b.memory().buffers).toBe(mem.buffers);
    // Dv = 20 and Dv = 30 share a register tile of 32 output columns (at most one new pipeline)
    await check(b, { B: 1, Tq: 2, Tk: 3, D: 2, Dv: 20 });
    const mid = b.pipelineCount;
    expect(mid - before).toBeLessThanOrEqual(1);
    await check(b, { B: 2, Tq: 3, Tk: 2, D: 5, Dv: 30, causal: true });
    expect(b.pipelineCount).toBe(mid);
  });

  it('bad calls throw an AxonError naming attention before dispatching', async () => {
    const b = getB();
    const made: BackendBuffer[] = [];
    const f = (n: number, dtype: 'float32' | 'int32' = 'float32'): BackendBuffer => {
      made.push(b.alloc(dtype, n));
      return made[made.length - 1]!;
    };
    const q = f(12);
    const k = f(16);
    const v = f(8);
    const out = f(6);
    const lse = f(6);
    const iq = f(12, 'int32');
    const q6 = f(6);
    const qv = viewOf(q, [2, 3, 2]);
    const kv = viewOf(k, [2, 4, 2]);
    const vv = viewOf(v, [2, 4, 1]);
    const before = b.pipelineCount;
    expectAxonErrors('attention', [
      ['int32 q', () => b.attention(viewOf(iq, [2, 3, 2]), kv, vv, null, 1, false, out, lse), /q must be a float32 view, got a int32 view/],
      ['k of another D', () => b.attention(qv, viewOf(k, [2, 2, 4]), vv, null, 1, false, out, lse), /expected \[B, Tq, D\], \[B, Tk, D\] and \[B, Tk, Dv\]/],
      ['v of another Tk', () => b.attention(qv, kv, viewOf(v, [2, 2, 2]), null, 1, false, f(12), lse), /expected \[B, Tq, D\]/],
      ['rank-2 q', () => b.attention(viewOf(q, [6, 2]), kv, vv, null, 1, false, out, lse), /q must be a rank-3 view/],
      ['q past its buffer', () => b.attention({ ...qv, offset: 1 }, kv, vv, null, 1, false, out, lse), /q \(shape \[2,3,2\].*reaches element 12 of a 12-element buffer/],
      ['bias of the wrong shape', () => b.attention(qv, kv, vv, viewOf(f(12), [2, 3, 2]), 1, false, out, lse), /bias is \[2,3,2\], expected \[B, Tq, Tk\] = \[2,3,4\]/],
      ['out too small', () => b.attention(qv, kv, vv, null, 1, false, f(5), lse), /out must be a float32 buffer of 6 elements \(\[2,3,1\]\), got a float32 buffer of 5/],
      ['lse int32', () => b.attention(qv, kv, vv, null, 1, false, out, f(6, 'int32')), /lse must be a float32 buffer of 6 elements/],
      ['out is q', () => b.attention(viewOf(q6, [2, 3, 1]), viewOf(f(8), [2, 4, 1]), vv, null, 1, false, q6, lse), /out is also an input's buffer/],
      ['lse is the bias', () => b.attention(viewOf(q6, [2, 3, 1]), viewOf(f(8), [2, 4, 1]), vv, { buf: lse, dtype: 'float32', shape: [2, 3, 4], strides: [3, 1, 0], offset: 0 }, 1, false, out, lse), /lse is also an input's buffer/],
      ['out is lse', () => b.attention(qv, kv, vv, null, 1, false, out, out), /out and lse are the same buffer/],
      ['scale not a number', () => b.attention(qv, kv, vv, null, '1' as unknown as number, false, out, lse), /scale must be a number, got '1'/],
      ['causal not a boolean', () => b.attention(qv, kv, vv, null, 1, 1 as unknown as boolean, out, lse), /causal must be a boolean, got 1/],
      ['not a webgpu buffer', () => b.attention({ ...qv, buf: { size: 12, dtype: 'float32' } }, kv, vv, null, 1, false, out, lse), /does not belong to the webgpu backend/],
    ]);
    expect(b.pipelineCount).toBe(before);
    b.attentionConfig = { wg: 8, bq: 3, bk: 4, dq: 4, cv: 4 };
    try {
      expectAxonErrors('attention', [['bad attentionConfig', () => b.attention(qv, kv, vv, null, 1, false, out, lse), /attentionConfig .* cannot run: wg must be a multiple of bq/]]);
    } finally {
      b.attentionConfig = null;
    }
    freeAll(b, ...made);
  });

  it('grids beyond maxComputeWorkgroupsPerDimension take several dispatches', async () => {
    const b = await createWebGPUBackend({ maxWorkgroupsPerDimension: 2 });
    try {
      await check(b, { B: 5, Tq: 40, Tk: 9, D: 3, Dv: 2, causal: true, bias: 'full' }, 'split grid ');
    } finally {
      b.dispose();
    }
  });

  it("WebGPU's default limits (16 KiB of workgroup memory) take a smaller kernel shape", async () => {
    const b = await defaultLimitsBackend();
    try {
      expect(b.limits.maxComputeWorkgroupStorageSize).toBe(16384);
      await check(b, { B: 2, Tq: 17, Tk: 9, D: 65, Dv: 130, causal: true, bias: 'inf' }, 'default limits ');
    } finally {
      b.dispose();
    }
  });
});
