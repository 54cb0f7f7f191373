// attentionBackward (the flash-attention backward kernels): against a float64 evaluation of
// backend.ts's formulas on the forward kernel's own out and lse (read back), on seeded random inputs —
// head sizes across the staged tile width (D, Dv ≤ and > the chunk), D ≠ Dv, D = 0, Dv = 0, Tq ≠ Tk,
// tile edges of the default and of small kernel shapes, random / broadcast / contiguous views, bias
// full / broadcast over B / with −Infinity, causal with Tq < Tk and Tq > Tk, fully masked rows (their
// gradients are 0 and nothing else turns NaN), zero sizes, bad calls, pipelines and memory.
//
// Tolerance: |got − expected| ≤ 1e-5 + 1e-4·|expected| + n·2⁻²³·Σ|terms| with n = D + Dv + Tq + Tk —
// the project's float32 comparison tolerance plus float32 accumulation over the products each
// gradient sums (Σ|terms|: the same sums of absolute values, computed alongside).
import { describe, expect, it } from 'vitest';
import type { BackendBuffer, View } from '@axon/core';
import { createWebGPUBackend, type AttentionBackwardPlan, type WebGPUBackend } from '../src/index.js';
import { defaultLimitsBackend, expectAxonErrors, expectClose, freeAll, type Layout, makeView, type Rng, rng, upload, useBackend, viewOf } from './helpers.js';

const getB = useBackend();
const TOL = { rtol: 1e-4, atol: 1e-5 };
const EPS32 = 2 ** -23;

interface Case {
  B: number;
  Tq: number;
  Tk: number;
  D: number;
  Dv: number;
  layout?: Layout;
  bias?: 'none' | 'full' | 'bcast' | 'inf' | 'masked-row';
  causal?: boolean;
  scale?: number;
}

/** float64 gradients from backend.ts's formulas, given the (float32) out and lse; with Σ|terms| per element. */
function backwardRef(c: Case, q: number[], k: number[], v: number[], bias: number[] | null, out: ArrayLike<number>, g: number[], lse: ArrayLike<number>, scale: number) {
  const { B, Tq, Tk, D, Dv } = c;
  const dq = new Array<number>(B * Tq * D).fill(0);
  const dk = new Array<number>(B * Tk * D).fill(0);
  const dv = new Array<number>(B * Tk * Dv).fill(0);
  const mq = dq.map(() => 0);
  const mk = dk.map(() => 0);
  const mv = dv.map(() => 0);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < Tq; i++) {
      const l = lse[b * Tq + i]!;
      if (l === -Infinity) continue; // a fully masked row contributes nothing
      let Di = 0;
      let aD = 0;
      for (let c2 = 0; c2 < Dv; c2++) {
        Di += g[(b * Tq + i) * Dv + c2]! * out[(b * Tq + i) * Dv + c2]!;
        aD += Math.abs(g[(b * Tq + i) * Dv + c2]! * out[(b * Tq + i) * Dv + c2]!);
      }
      for (let j = 0; j < Tk; j++) {
        if (c.causal && j > i) continue;
        let dot = 0;
        let adot = 0;
        for (let d = 0; d < D; d++) {
          dot += q[(b * Tq + i) * D + d]! * k[(b * Tk + j) * D + d]!;
          adot += Math.abs(q[(b * Tq + i) * D + d]! * k[(b * Tk + j) * D + d]!);
        }
        const s = scale * dot + (bias ? bias[(b * Tq + i) * Tk + j]! : 0);
        const p = Math.exp(s - l);
        if (p === 0) continue;
        let dp = 0;
        let adp = 0;
        for (let c2 = 0; c2 < Dv; c2++) {
          dp += g[(b * Tq + i) * Dv + c2]! * v[(b * Tk + j) * Dv + c2]!;
          adp += Math.abs(g[(b * Tq + i) * Dv + c2]! * v[(b * Tk + j) * Dv + c2]!);
        }
        const ds = p * (dp - Di);
        // dS's terms: p (relative error ≈ the score's, |scale|·Σ|q·k| + |lse|) times |dP − D|, and the two sums
        const ads = p * ((Math.abs(scale) * adot + Math.abs(s) + Math.abs(l)) * Math.abs(dp - Di) + adp + aD);
        for (let d = 0; d < D; d++) {
          dq[(b * Tq + i) * D + d] += scale * ds * k[(b * Tk + j) * D + d]!;
          mq[(b * Tq + i) * D + d] += Math.abs(scale * k[(b * Tk + j) * D + d]!) * ads;
          dk[(b * Tk + j) * D + d] += scale * ds * q[(b * Tq + i) * D + d]!;
          mk[(b * Tk + j) * D + d] += Math.abs(scale * q[(b * Tq + i) * D + d]!) * ads;
        }
        for (let c2 = 0; c2 < Dv; c2++) {
          dv[(b * Tk + j) * Dv + c2] += p * g[(b * Tq + i) * Dv + c2]!;
          mv[(b * Tk + j) * Dv + c2] += p * Math.abs(g[(b * Tq + i) * Dv + c2]!) * (1 + Math.abs(scale) * adot + Math.abs(s) + Math.abs(l));
        }
      }
    }
  }
  return { dq, dk, dv, mq, mk, mv };
}

function makeBias(b: WebGPUBackend, r: Rng, c: Case): { view: View; values: number[]; buf: BackendBuffer } | null {
  const kind = c.bias ?? 'none';
  if (kind === 'none') return null;
  const shape = [c.B, c.Tq, c.Tk];
  if (kind === 'bcast') {
    const base = Array.from({ length: c.Tq * c.Tk }, () => (r.next() < 0.3 ? -Infinity : Math.fround(r.normal())));
    const buf = upload(b, 'float32', base.length > 0 ? base : [0]);
    const values: number[] = [];
    for (let bi = 0; bi < c.B; bi++) values.push(...base);
    return { view: { buf, dtype: 'float32', shape, strides: [0, c.Tk, 1], offset: 0 }, values, buf };
  }
  if (kind === 'masked-row') {
    // row 1 of every batch fully masked (lse −Infinity, NaN out), the rest finite
    const values = Array.from({ length: c.B * c.Tq * c.Tk }, (_, e) => (Math.floor(e / c.Tk) % c.Tq === 1 ? -Infinity : Math.fround(r.normal())));
    const buf = upload(b, 'float32', values.length > 0 ? values : [0]);
    return { view: viewOf(buf, shape), values, buf };
  }
  const gen = kind === 'inf' ? () => (r.next() < 0.35 ? -Infinity : r.normal()) : () => r.normal();
  const t = makeView(b, r, 'float32', shape, c.layout ?? 'random', gen);
  return { view: t.view, values: t.values, buf: t.buf };
}

/** Runs the forward kernel, then the backward kernels, and compares dq, dk, dv with the reference. */
async function check(b: WebGPUBackend, c: Case, what = ''): Promise<{ dq: Float32Array; dk: Float32Array; dv: Float32Array }> {
  const r = rng();
  const layout = c.layout ?? 'random';
  const scale = Math.fround(c.scale ?? 1 / Math.sqrt(Math.max(c.D, 1)));
  const q = makeView(b, r, 'float32', [c.B, c.Tq, c.D], layout);
  const k = makeView(b, r, 'float32', [c.B, c.Tk, c.D], layout);
  const v = makeView(b, r, 'float32', [c.B, c.Tk, c.Dv], layout);
  const g = makeView(b, r, 'float32', [c.B, c.Tq, c.Dv], layout);
  const bias = makeBias(b, r, c);
  const out = b.alloc('float32', c.B * c.Tq * c.Dv);
  const lse = b.alloc('float32', c.B * c.Tq);
  b.attention(q.view, k.view, v.view, bias?.view ?? null, scale, c.causal ?? false, out, lse);
  const outV = (await b.read(out)) as Float32Array;
  const lseV = (await b.read(lse)) as Float32Array;
  const [dq, dk, dv] = [b.alloc('float32', c.B * c.Tq * c.D), b.alloc('float32', c.B * c.Tk * c.D), b.alloc('float32', c.B * c.Tk * c.Dv)];
  b.attentionBackward(q.view, k.view, v.view, bias?.view ?? null, scale, c.causal ?? false, viewOf(out, [c.B, c.Tq, c.Dv]), g.view, viewOf(lse, [c.B, c.Tq]), dq, dk, dv);
  const got = { dq: (await b.read(dq)) as Float32Array, dk: (await b.read(dk)) as Float32Array, dv: (await b.read(dv)) as Float32Array };
  const ref = backwardRef(c, q.values, k.values, v.values, bias?.values ?? null, outV, g.values, lseV, scale);
  const n = c.D + c.Dv + c.Tq + c.Tk;
  const name = `attentionBackward ${what}B=${c.B} Tq=${c.Tq} Tk=${c.Tk} D=${c.D} Dv=${c.Dv} ${layout} bias=${c.bias ?? 'none'} causal=${c.causal ?? false}`;
  expectClose(`${name}: dq`, got.dq, ref.dq, TOL, ref.mq.map((m) => n * EPS32 * m));
  expectClose(`${name}: dk`, got.dk, ref.dk, TOL, ref.mk.map((m) => n * EPS32 * m));
  expectClose(`${name}: dv`, got.dv, ref.dv, TOL, ref.mv.map((m) => n * EPS32 * m));
  freeAll(b, q.buf, k.buf, v.buf, g.buf, out, lse, dq, dk, dv, ...(bias ? [bias.buf] : []));
  return got;
}

async function withPlan(b: WebGPUBackend, plan: AttentionBackwardPlan, fn: () => Promise<void>): Promise<void> {
  b.attentionBackwardConfig = plan;
  try {
    await fn();
  } finally {
    b.attentionBackwardConfig = null;
  }
}

/** A small kernel shape: 8 rows per workgroup, blocks of 4 rows of the other side, columns in chunks of 4. */
const SMALL: AttentionBackwardPlan = { wg: 8, bq: 4, ch: 4 };

describe('attentionBackward', () => {
  it('head sizes 1 … 160 (across the 64-column tile), D ≠ Dv, Tq ≠ Tk, T = 1', async () => {
    const b = getB();
    for (const D of [1, 3, 32, 64, 65]) await check(b, { B: 2, Tq: 5, Tk: 7, D, Dv: D });
    await check(b, { B: 2, Tq: 3, Tk: 9, D: 3, Dv: 32 });
    await check(b, { B: 1, Tq: 6, Tk: 4, D: 64, Dv: 1 });
    await check(b, { B: 1, Tq: 4, Tk: 5, D: 160, Dv: 3 });
    await check(b, { B: 1, Tq: 3, Tk: 5, D: 2, Dv: 130 });
    for (const Tk of [1, 2, 19]) await check(b, { B: 3, Tq: 1, Tk, D: 8, Dv: 5 });
  });

  it('tile edges of the default shape (64 rows per workgroup, blocks of 16): T = 15, 16, 17, 63, 65', async () => {
    const b = getB();
    for (const [Tq, Tk] of [[15, 16], [16, 17], [17, 15], [65, 63], [1, 65]] as const) await check(b, { B: 2, Tq, Tk, D: 4, Dv: 3 });
    await check(b, { B: 1, Tq: 65, Tk: 65, D: 5, Dv: 4, causal: true, bias: 'full' });
  });

  it('tile edges, several column chunks (D, Dv > ch) of a small kernel shape, and one invocation', async () => {
    const b = getB();
    await withPlan(b, SMALL, async () => {
      for (const [Tq, Tk] of [[3, 5], [4, 4], [5, 3], [9, 8], [17, 9]] as const) {
        for (const [D, Dv] of [[3, 3], [4, 4], [5, 9], [9, 1], [0, 5]] as const) await check(b, { B: 2, Tq, Tk, D, Dv }, 'small shape ');
      }
      await check(b, { B: 2, Tq: 9, Tk: 7, D: 5, Dv: 6, causal: true, bias: 'inf' }, 'small shape ');
      await check(b, { B: 2, Tq: 5, Tk: 11, D: 5, Dv: 6, causal: true, bias: 'bcast' }, 'small shape ');
      await check(b, { B: 2, Tq: 11, Tk: 5, D: 5, Dv: 6, causal: true }, 'small shape ');
    });
    await withPlan(b, { wg: 1, bq: 1, ch: 4 }, async () => void (await check(b, { B: 2, Tq: 3, Tk: 4, D: 6, Dv: 5, bias: 'full', causal: true }, 'one invocation ')));
  });

  it('views (random layouts, broadcast stride 0, contiguous); bias full / broadcast / −Infinity; causal Tq < Tk and Tq > Tk', async () => {
    const b = getB();
    for (const layout of ['random', 'broadcast', 'contiguous'] as const) {
      for (let t = 0; t < 2; t++) await check(b, { B: 3, Tq: 4 + t, Tk: 6 - t, D: 5, Dv: 4, layout, bias: 'full' });
    }
    for (const bias of ['none', 'bcast', 'inf'] as const) {
      for (const causal of [false, true]) {
        await check(b, { B: 2, Tq: 3, Tk: 7, D: 6, Dv: 5, bias, causal });
        await check(b, { B: 2, Tq: 7, Tk: 3, D: 6, Dv: 5, bias, causal });
      }
    }
    await check(b, { B: 1, Tq: 70, Tk: 67, D: 3, Dv: 3, causal: true });
  });

  it('a fully masked row (lse −Infinity, NaN out) gets zero gradients and no NaN reaches other rows', async () => {
    const b = getB();
    for (const causal of [false, true]) {
      const got = await check(b, { B: 2, Tq: 4, Tk: 5, D: 3, Dv: 2, bias: 'masked-row', causal, layout: 'contiguous' }, 'masked row ');
      for (const x of [got.dq, got.dk, got.dv]) expect([...x].every(Number.isFinite)).toBe(true);
      expect([...got.dq.slice(3, 6)].every((x) => x === 0)).toBe(true);
      expect([...got.dq.slice(4 * 3 + 3, 4 * 3 + 6)].every((x) => x === 0)).toBe(true);
    }
  });

  it('zero sizes: B = 0, Tq = 0 (dk, dv zeros), D = 0 (dv only), Dv = 0 (dq, dk zeros)', async () => {
    const b = getB();
    await check(b, { B: 0, Tq: 3, Tk: 4, D: 2, Dv: 2 });
    const z = await check(b, { B: 2, Tq: 0, Tk: 4, D: 2, Dv: 2 });
    expect([...z.dk, ...z.dv].every((x) => x === 0)).toBe(true);
    await check(b, { B: 2, Tq: 3, Tk: 4, D: 0, Dv: 3, bias: 'full' });
    const d0 = await check(b, { B: 2, Tq: 3, Tk: 4, D: 2, Dv: 0, causal: true });
    expect([...d0.dq, ...d0.dk].every((x) => x === 0)).toBe(true);
  });

  it('one pipeline per kernel and bias presence (sizes, strides, scale, causal are parameters); the temporary is freed', async () => {
    const b = getB();
    await check(b, { B: 1, Tq: 2, Tk: 2, D: 2, Dv: 2 });
    await check(b, { B: 1, Tq: 2, Tk: 2, D: 2, Dv: 2, bias: 'full' });
    const before = b.pipelineCount;
    const mem = b.memory();
    await check(b, { B: 3, Tq: 9, Tk: 4, D: 7, Dv: 3, causal: true });
    await check(b, { B: 2, Tq: 5, Tk: 6, D: 130, Dv: 1, bias: 'bcast' });
    expect(b.pipelineCount - before).toBe(0);
    expect(b.memory().bytes).toBe(mem.bytes);
    expect(b.memory().buffers).toBe(mem.buffers);
  });

  it('bad calls throw an AxonError naming attentionBackward before dispatching', async () => {
    const b = getB();
    const made: BackendBuffer[] = [];
    const f = (n: number, dtype: 'float32' | 'int32' = 'float32'): BackendBuffer => {
      made.push(b.alloc(dtype, n));
      return made[made.length - 1]!;
    };
    const [q, k, v, out, g, lse, dq, dk, dv] = [f(12), f(16), f(8), f(6), f(6), f(6), f(12), f(16), f(8)];
    const qv = viewOf(q, [2, 3, 2]);
    const kv = viewOf(k, [2, 4, 2]);
    const vv = viewOf(v, [2, 4, 1]);
    const ov = viewOf(out, [2, 3, 1]);
    const gv = viewOf(g, [2, 3, 1]);
    const lv = viewOf(lse, [2, 3]);
    const before = b.pipelineCount;
    expectAxonErrors('attentionBackward', [
      ['int32 q', () => b.attentionBackward(viewOf(f(12, 'int32'), [2, 3, 2]), kv, vv, null, 1, false, ov, gv, lv, dq, dk, dv), /q must be a float32 view, got a int32 view/],
      ['k of another D', () => b.attentionBackward(qv, viewOf(k, [2, 2, 4]), vv, null, 1, false, ov, gv, lv, dq, dk, dv), /expected \[B, Tq, D\], \[B, Tk, D\], \[B, Tk, Dv\]/],
      ['dOut of another shape', () => b.attentionBackward(qv, kv, vv, null, 1, false, ov, viewOf(g, [2, 1, 3]), lv, dq, dk, dv), /dOut \[2,1,3\]/],
      ['rank-3 lse', () => b.attentionBackward(qv, kv, vv, null, 1, false, ov, gv, viewOf(lse, [2, 3, 1]), dq, dk, dv), /lse must be a rank-2 view/],
      ['bias of the wrong shape', () => b.attentionBackward(qv, kv, vv, viewOf(f(12), [2, 3, 2]), 1, false, ov, gv, lv, dq, dk, dv), /bias is \[2,3,2\], expected \[B, Tq, Tk\] = \[2,3,4\]/],
      ['dk too small', () => b.attentionBackward(qv, kv, vv, null, 1, false, ov, gv, lv, dq, f(15), dv), /dk must be a float32 buffer of 16 elements/],
      ['dq is q', () => b.attentionBackward(qv, kv, vv, null, 1, false, ov, gv, lv, q, dk, dv), /dq is also an input's buffer/],
      ['dk is dq', () => b.attentionBackward(viewOf(f(16), [2, 4, 2]), kv, vv, null, 1, false, viewOf(f(8), [2, 4, 1]), viewOf(f(8), [2, 4, 1]), viewOf(f(8), [2, 4]), dk, dk, dv), /distinct buffers/],
      ['scale not a number', () => b.attentionBackward(qv, kv, vv, null, '1' as unknown as number, false, ov, gv, lv, dq, dk, dv), /scale must be a number/],
      ['causal not a boolean', () => b.attentionBackward(qv, kv, vv, null, 1, 1 as unknown as boolean, ov, gv, lv, dq, dk, dv), /causal must be a boolean/],
    ]);
    expect(b.pipelineCount).toBe(before);
    b.attentionBackwardConfig = { wg: 8, bq: 0, ch: 4 };
    try {
      expectAxonErrors('attentionBackward', [['bad attentionBackwardConfig', () => b.attentionBackward(qv, kv, vv, null, 1, false, ov, gv, lv, dq, dk, dv), /attentionBackwardConfig .* cannot run: every size must be a positive integer/]]);
    } finally {
      b.attentionBackwardConfig = null;
    }
    freeAll(b, ...made);
  });

  it('grids beyond maxComputeWorkgroupsPerDimension take several dispatches', async () => {
    const b = await createWebGPUBackend({ maxWorkgroupsPerDimension: 2 });
    try {
      b.attentionBackwardConfig = SMALL;
      await check(b, { B: 5, Tq: 40, Tk: 19, D: 3, Dv: 2, causal: true, bias: 'full' }, 'split grid ');
    } finally {
      b.dispose();
    }
  });

  it("WebGPU's default limits (16 KiB of workgroup memory, 256 invocations) run the default shape", async () => {
    const b = await defaultLimitsBackend();
    try {
      expect(b.limits.maxComputeWorkgroupStorageSize).toBe(16384);
      await check(b, { B: 2, Tq: 17, Tk: 9, D: 65, Dv: 130, causal: true, bias: 'inf' }, 'default limits ');
    } finally {
      b.dispose();
    }
  });
});
