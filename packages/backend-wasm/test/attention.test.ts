// The attention kernel (Backend.attention): against a float64 reference on seeded inputs, over
// head sizes that are not multiples of 4, block edges (32 query rows, 64 keys), strided and
// permuted views, every kind of bias, causal masks, fully masked rows, empty shapes, fewer than 4
// query rows (the dot-product path: generation); 1 vs 2
// threads bit for bit; the relaxed-SIMD kernel against the SIMD128 one (child process).
//
// Tolerance (relative to the float64 reference computed from the same float32 inputs): every
// element of `out` and `lse` within 1e-5 + 1e-4·|reference| (the project's float32 rtol/atol; the
// inputs are O(1), so the scores' float32 dot products are within ~D·2⁻²⁴ of exact).
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AxonError, contiguousStrides } from '@axon/core';
import type { Backend, BackendBuffer, View } from '@axon/core';
import { describe, expect, it } from 'vitest';
import { createWasmBackendSync, type WasmBackend } from '../src/index.js';
import { relaxedKernelBytes } from '../src/loader.js';
import { LAYOUTS, SEED, makeView, rng, type Layout, type TestView } from './helpers.js';

const RTOL = 1e-4;
const ATOL = 1e-5;

interface Case {
  B: number;
  Tq: number;
  Tk: number;
  D: number;
  Dv: number;
  causal: boolean;
  bias: 'none' | 'full' | 'broadcast' | 'masked';
  layout?: Layout;
  scale?: number;
}

/** softmax(scale·q·kᵀ + bias, causal)·v and log Σ exp in float64. */
function reference(c: Case, q: Float64Array, k: Float64Array, v: Float64Array, bias: Float64Array | null, scale: number): { out: Float64Array; lse: Float64Array } {
  const { B, Tq, Tk, D, Dv, causal } = c;
  const out = new Float64Array(B * Tq * Dv);
  const lse = new Float64Array(B * Tq);
  const s = new Float64Array(Tk);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < Tq; i++) {
      let m = -Infinity;
      for (let j = 0; j < Tk; j++) {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q[(b * Tq + i) * D + d]! * k[(b * Tk + j) * D + d]!;
        let x = scale * dot + (bias ? bias[(b * Tq + i) * Tk + j]! : 0);
        if (causal && j > i) x = -Infinity;
        s[j] = x;
        m = Math.max(m, x);
      }
      const row = (b * Tq + i) * Dv;
      if (m === -Infinity) {
        out.fill(NaN, row, row + Dv);
        lse[b * Tq + i] = -Infinity;
        continue;
      }
      let sum = 0;
      for (let j = 0; j < Tk; j++) {
        const p = Math.exp(s[j]! - m);
        sum += p;
        for (let e = 0; e < Dv; e++) out[row + e] += p * v[(b * Tk + j) * Dv + e]!;
      }
      for (let e = 0; e < Dv; e++) out[row + e] /= sum;
      lse[b * Tq + i] = m + Math.log(sum);
    }
  }
  return { out, lse };
}

/** Checks `got` against `want` within the stated tolerance; NaN and ±∞ must match exactly. */
function expectNear(got: Float32Array, want: Float64Array, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (Number.isNaN(w) || !Number.isFinite(w)) {
      if (!Object.is(g, w)) expect.fail(`${what}: element ${i} is ${g}, expected ${w} (seed ${SEED})`);
    } else if (!(Math.abs(g - w) <= ATOL + RTOL * Math.abs(w))) {
      expect.fail(`${what}: element ${i} is ${g}, expected ${w} ± ${ATOL + RTOL * Math.abs(w)} (seed ${SEED})`);
    }
  }
}

const gen = (): number => rng() * 2 - 1;

interface Inputs {
  q: TestView;
  k: TestView;
  v: TestView;
  bias: TestView | null;
  scale: number;
  bufs: BackendBuffer[];
}

function inputs(be: Backend, c: Case): Inputs {
  const layout = c.layout ?? 'contiguous';
  const q = makeView(be, 'float32', [c.B, c.Tq, c.D], layout, gen);
  const k = makeView(be, 'float32', [c.B, c.Tk, c.D], layout, gen);
  const v = makeView(be, 'float32', [c.B, c.Tk, c.Dv], layout, gen);
  let bias: TestView | null = null;
  if (c.bias === 'full') bias = makeView(be, 'float32', [c.B, c.Tq, c.Tk], 'sliced', gen);
  if (c.bias === 'broadcast') {
    // a [Tq, Tk] mask broadcast over B (stride 0), as core passes one
    const m = makeView(be, 'float32', [c.Tq, c.Tk], 'contiguous', gen);
    bias = { view: { ...m.view, shape: [c.B, c.Tq, c.Tk], strides: [0, ...m.view.strides] }, values: new Float64Array(c.B * c.Tq * c.Tk).map((_, i) => m.values[i % (c.Tq * c.Tk)]!) };
  }
  if (c.bias === 'masked') {
    // −∞ entries (a padding mask), some rows fully masked
    bias = makeView(be, 'float32', [c.B, c.Tq, c.Tk], 'contiguous', () => (rng() < 0.3 ? -Infinity : gen()));
  }
  const scale = c.scale ?? 1 / Math.sqrt(Math.max(c.D, 1));
  const bufs = [q.view.buf, k.view.buf, v.view.buf];
  if (bias) bufs.push(bias.view.buf);
  return { q, k, v, bias, scale, bufs };
}

/** Runs the kernel; returns out and lse (the buffers are freed). */
function run(be: WasmBackend, c: Case, x: Inputs): { out: Float32Array; lse: Float32Array } {
  const out = be.alloc('float32', c.B * c.Tq * c.Dv);
  const lse = be.alloc('float32', c.B * c.Tq);
  try {
    be.attention(x.q.view, x.k.view, x.v.view, x.bias?.view ?? null, x.scale, c.causal, out, lse);
    return { out: be.readSync(out) as Float32Array, lse: be.readSync(lse) as Float32Array };
  } finally {
    be.free(out);
    be.free(lse);
  }
}

function check(be: WasmBackend, c: Case, x?: Inputs): void {
  const { bytes, buffers } = be.memory();
  const ins = x ?? inputs(be, c);
  const want = reference(c, ins.q.values, ins.k.values, ins.v.values, ins.bias?.values ?? null, ins.scale);
  const got = run(be, c, ins);
  const what = `attention ${JSON.stringify(c)}`;
  expectNear(got.out, want.out, `${what} out`);
  expectNear(got.lse, want.lse, `${what} lse`);
  if (x === undefined) {
    for (const b of ins.bufs) be.free(b);
    expect(be.memory(), `${what}: nothing left allocated`).toMatchObject({ bytes, buffers });
  }
}

const base: Case = { B: 2, Tq: 5, Tk: 7, D: 3, Dv: 5, causal: false, bias: 'none' };

describe(`attention (seed ${SEED}; tolerance ${ATOL} + ${RTOL}·|float64 reference|)`, () => {
  it('head sizes D, Dv of 1, 3, 5, 32, 64, 65 (not multiples of 4 included), Tq ≠ Tk', () => {
    const be = createWasmBackendSync({ threads: 1 });
    for (const D of [1, 3, 5, 32, 64, 65]) {
      for (const Dv of [1, 5, 32, 65]) check(be, { ...base, D, Dv, Tq: 6, Tk: 9 });
      check(be, { ...base, D, Dv: D, Tq: 9, Tk: 4 });
    }
    be.dispose();
  });

  it('block edges: Tq around 32 query rows, Tk around 64 keys (±1), generation (Tq = 1)', () => {
    const be = createWasmBackendSync({ threads: 1 });
    for (const Tq of [1, 3, 4, 31, 32, 33]) {
      for (const Tk of [1, 8, 63, 64, 65, 129]) check(be, { ...base, B: 1, Tq, Tk, D: 5, Dv: 3, causal: Tq > 4 && Tk > 60 });
    }
    check(be, { ...base, B: 3, Tq: 1, Tk: 200, D: 32, Dv: 32 });
    be.dispose();
  });

  it('strided views: transposed, sliced, broadcast (0 strides) and heads permuted from [1, T, H, D]', () => {
    const be = createWasmBackendSync({ threads: 1 });
    for (const layout of LAYOUTS) {
      for (const bias of ['none', 'full'] as const) check(be, { ...base, B: 3, Tq: 11, Tk: 70, D: 5, Dv: 7, layout, bias, causal: bias === 'full' });
      // fewer than 4 query rows: dot products and AXPYs over K and V in place
      for (const bias of ['none', 'broadcast'] as const) check(be, { ...base, B: 3, Tq: 2, Tk: 70, D: 6, Dv: 9, layout, bias, causal: bias === 'none' });
    }
    // q, k, v as [1, T, H, D] tensors viewed as [H, T, D] (strides [D, H·D, 1]): no copy needed
    const H = 3;
    for (const [T, D] of [[37, 8], [65, 5]] as const) {
      const c: Case = { B: H, Tq: T, Tk: T, D, Dv: D, causal: true, bias: 'none' };
      const heads = (): TestView => {
        const flat = makeView(be, 'float32', [T * H * D], 'contiguous', gen);
        const values = new Float64Array(H * T * D);
        for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) values[(h * T + t) * D + d] = flat.values[(t * H + h) * D + d]!;
        return { view: { ...flat.view, shape: [H, T, D], strides: [D, H * D, 1] }, values };
      };
      const [q, k, v] = [heads(), heads(), heads()];
      const x: Inputs = { q, k, v, bias: null, scale: 0.4, bufs: [q.view.buf, k.view.buf, v.view.buf] };
      check(be, c, x);
      for (const b of x.bufs) be.free(b);
    }
    be.dispose();
  });

  it('bias: none, full, broadcast over B with a 0 stride, with −∞ entries', () => {
    const be = createWasmBackendSync({ threads: 1 });
    for (const bias of ['none', 'full', 'broadcast', 'masked'] as const) {
      for (const causal of [false, true]) check(be, { ...base, B: 2, Tq: 33, Tk: 66, D: 6, Dv: 9, bias, causal });
    }
    be.dispose();
  });

  it('causal, top-left aligned, with Tq < Tk and Tq > Tk', () => {
    const be = createWasmBackendSync({ threads: 1 });
    for (const [Tq, Tk] of [[3, 70], [40, 130], [70, 3], [130, 40], [1, 9], [9, 1]] as const) check(be, { ...base, Tq, Tk, D: 4, Dv: 4, causal: true });
    be.dispose();
  });

  it('a fully masked row gives NaN in out and −∞ in lse; NaN scores propagate', () => {
    const be = createWasmBackendSync({ threads: 1 });
    const c: Case = { B: 1, Tq: 3, Tk: 70, D: 2, Dv: 3, causal: false, bias: 'none' };
    const x = inputs(be, c);
    // row 1 fully masked; row 2 masked except one key in the second block of keys
    const bias = new Float32Array(3 * 70).map(() => gen());
    for (let j = 0; j < 70; j++) bias[70 + j] = -Infinity;
    for (let j = 0; j < 70; j++) if (j !== 66) bias[140 + j] = -Infinity;
    const bbuf = be.alloc('float32', bias.length);
    be.write(bbuf, bias);
    x.bias = { view: { buf: bbuf, dtype: 'float32', shape: [1, 3, 70], strides: contiguousStrides([1, 3, 70]), offset: 0 }, values: Float64Array.from(bias) };
    x.bufs.push(bbuf);
    const got = run(be, c, x);
    expect(Array.from(got.out.subarray(3, 6)), `seed ${SEED}`).toEqual([NaN, NaN, NaN]);
    expect(got.lse[1]).toBe(-Infinity);
    check(be, c, x);
    // key 66 alone: out is v's row 66 exactly and lse its score
    const v66 = x.v.values.subarray(66 * 3, 67 * 3);
    expectNear(got.out.subarray(6, 9), Float64Array.from(v66), 'single key');
    // a NaN in q makes its row NaN (out and lse), the other rows unaffected
    const qn = be.readSync(x.q.view.buf) as Float32Array;
    const c2: Case = c;
    const at = x.q.view.offset + 2 * x.q.view.strides[1]!;
    qn[at] = NaN;
    be.write(x.q.view.buf, qn);
    const got2 = run(be, c2, { ...x, bias: null });
    expect(Number.isNaN(got2.lse[2]!) && got2.out.subarray(6, 9).every(Number.isNaN), `seed ${SEED}`).toBe(true);
    expect(Number.isFinite(got2.lse[0]!) && Number.isFinite(got2.lse[1]!)).toBe(true);
    for (const b of x.bufs) be.free(b);
    be.dispose();
  });

  it('empty shapes: B, Tq, D, Dv or Tk of 0 (D = 0: every score is 0, a uniform average of v)', () => {
    const be = createWasmBackendSync({ threads: 1 });
    for (const dims of [{ B: 0 }, { Tq: 0 }, { D: 0 }, { Dv: 0 }, { D: 0, Dv: 0 }, { D: 0, causal: true, bias: 'full' as const }, { Tq: 2, D: 0 }, { Tq: 1, Dv: 0 }]) check(be, { ...base, ...dims });
    // Tk = 0 (core never passes it): every row is fully masked, NaN and −∞
    for (const Tq of [1, 5]) check(be, { ...base, Tq, Tk: 0 });
    be.dispose();
  });

  it('lse is log Σ exp of the scores, including large ones (no overflow)', () => {
    const be = createWasmBackendSync({ threads: 1 });
    check(be, { ...base, Tq: 9, Tk: 100, D: 16, Dv: 4, scale: 40 });
    check(be, { ...base, Tq: 9, Tk: 100, D: 16, Dv: 4, scale: -25, bias: 'full', causal: true });
    be.dispose();
  });

  it('a head size too large for a thread workspace runs with its own scratch, freed after', () => {
    const be = createWasmBackendSync({ threads: 1 });
    check(be, { ...base, B: 1, Tq: 5, Tk: 3, D: 40000, Dv: 3, scale: 0.01 });
    be.dispose();
  });

  it('rejects bad input with an AxonError naming the op and shapes, before any work', () => {
    const be = createWasmBackendSync({ threads: 1 });
    const x = inputs(be, base);
    const out = be.alloc('float32', base.B * base.Tq * base.Dv);
    const lse = be.alloc('float32', base.B * base.Tq);
    be.fill(lse, 7);
    const call = (q: View, k: View, v: View, bias: View | null, o: BackendBuffer = out, l: BackendBuffer = lse): void => be.attention(q, k, v, bias, 1, false, o, l);
    const err = (f: () => void, text: string): void => {
      expect(f).toThrow(AxonError);
      expect(f).toThrow(text);
    };
    err(() => call(x.q.view, x.v.view, x.v.view, null), 'expected q [B, Tq, D], k [B, Tk, D], v [B, Tk, Dv] and bias null or [B, Tq, Tk], got [2,5,3], [2,7,5], [2,7,5]');
    err(() => call(x.q.view, x.k.view, { ...x.v.view, shape: [2, 6, 5] }, null), 'got [2,5,3], [2,7,3], [2,6,5]');
    err(() => call(x.q.view, x.k.view, x.v.view, { ...x.k.view, shape: [2, 7, 5], strides: [0, 0, 0] }), 'got [2,5,3], [2,7,3], [2,7,5], [2,7,5]');
    err(() => call(x.q.view, x.k.view, x.v.view, null, lse), 'output buffer holds 10 elements, expected 50');
    err(() => call(x.q.view, x.k.view, x.v.view, null, out, out), 'output buffer holds 50 elements, expected 10');
    err(() => call({ ...x.q.view, shape: [2, 5], strides: [5, 1] }, x.k.view, x.v.view, null), 'expected a rank-3 view');
    err(() => be.attention(x.q.view, x.k.view, x.v.view, null, '1' as unknown as number, false, out, lse), 'expected a number scale and a boolean causal');
    // nothing was written
    expect(Array.from(be.readSync(lse) as Float32Array)).toEqual(new Array(10).fill(7));
    for (const b of [...x.bufs, out, lse]) be.free(b);
    be.dispose();
  });

  it('1 and 2 threads give the same bits (split by batch and by blocks of 32 query rows)', async () => {
    const one = createWasmBackendSync({ threads: 1 });
    const two = createWasmBackendSync({ threads: 2, threadThreshold: 0 });
    expect(await two.startThreads()).toBe(2);
    for (const c of [
      { ...base, B: 1, Tq: 100, Tk: 90, D: 5, Dv: 7, causal: true, bias: 'broadcast' },
      { ...base, B: 5, Tq: 33, Tk: 65, D: 32, Dv: 32, bias: 'masked' },
      { ...base, B: 3, Tq: 1, Tk: 40, D: 3, Dv: 1 },
    ] as Case[]) {
      const x = inputs(one, c);
      // the same inputs on the other backend, in the same layout
      const copy = (t: TestView): TestView => {
        const buf = two.alloc('float32', t.view.buf.size);
        two.write(buf, one.readSync(t.view.buf) as Float32Array);
        return { view: { ...t.view, buf }, values: t.values };
      };
      const y: Inputs = { q: copy(x.q), k: copy(x.k), v: copy(x.v), bias: x.bias ? copy(x.bias) : null, scale: x.scale, bufs: [] };
      const before = two.parallelRuns.attention ?? 0;
      const a = run(one, c, x);
      const b = run(two, c, y);
      expect((two.parallelRuns.attention ?? 0) - before, 'split over 2 threads').toBe(1);
      const bits = (f: Float32Array): Uint32Array => new Uint32Array(f.buffer, f.byteOffset, f.length);
      expect(bits(b.out), `out ${JSON.stringify(c)} (seed ${SEED})`).toEqual(bits(a.out));
      expect(bits(b.lse), `lse ${JSON.stringify(c)} (seed ${SEED})`).toEqual(bits(a.lse));
      check(one, c, x);
      for (const bf of x.bufs) one.free(bf);
    }
    one.dispose();
    two.dispose();
  });

  it('the relaxed-SIMD (FMA) kernel is within the tolerance of the reference and of the SIMD128 one (child process with the flag)', () => {
    const child = join(dirname(fileURLToPath(import.meta.url)), 'attention-relaxed-child.mjs');
    let out: string;
    try {
      out = execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', child, String(SEED)], { encoding: 'utf8' });
    } catch {
      // an engine that no longer knows the flag has relaxed SIMD on by default
      out = execFileSync(process.execPath, [child, String(SEED)], { encoding: 'utf8' });
    }
    const r = JSON.parse(out.trim().split('\n').pop()!) as { supported: boolean; checked?: number; differ?: number; failed?: number; failures?: string[] };
    if (!r.supported) return; // this engine has no relaxed SIMD even with the flag
    expect(r.failed, `relaxed attention (seed ${SEED}): ${(r.failures ?? []).join('; ')}`).toBe(0);
    expect(r.checked).toBeGreaterThan(1000);
    expect(r.differ, 'the FMA kernel is another kernel than the SIMD128 one').toBeGreaterThan(0);
  });

  it('the relaxed-SIMD module (matmul and attention) stays within the 4 KB a browser main thread compiles synchronously', () => {
    expect(relaxedKernelBytes().length).toBeLessThanOrEqual(4096);
  });
});
