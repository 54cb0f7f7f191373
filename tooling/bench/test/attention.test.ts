import { describe, expect, it, vi } from 'vitest';

// The attention suite reaches the WebGPU peers' module (Dawn through `navigator.gpu`) but never
// tfjs: keep TensorFlow.js out (see harness.test.ts).
vi.mock('../src/peers/tfjs.js', () => ({ tf: {}, tfLiveTensors: () => 0, useTfBackend: async () => undefined }));
import { getBackend, memory, type Backend, scaledDotProductAttention, setBackend, tensor, type Tensor } from '@axon/core';
import { grad } from '@axon/autograd';
import { attentionReference, checkAttention } from '../src/attention-ref.js';
import { attentionGrads, attentionSuite, compositeAttention, sdpaAttention } from '../src/suites/attention.js';
import { startAxon, useAxonThreads } from '../src/axon.js';
import { uniformArray } from '../src/data.js';
import { isSkipped, renderResult, type Measurement, type SuiteResult } from '../src/harness.js';
import type { SuiteOptions } from '../src/suite.js';

const opts = (o: Partial<SuiteOptions>): SuiteOptions => ({ minSampleMs: 0, backend: 'wasm', cpuMaxSize: 512, runs: 2, warmup: 1, log: () => {}, ...o });

const [H, D] = [4, 32];

/** Peak MiB parsed from a cell's extra text (`peak 1.25 MiB`). */
function peakMiB(r: SuiteResult, label: string, id: string): number {
  const extra = r.cases.find((c) => c.label === label)?.extra?.[id];
  const m = /^peak (\d+\.\d\d) MiB$/.exec(extra ?? '');
  if (!m) throw new Error(`no peak for ${label} ${id}: ${extra}`);
  return Number(m[1]);
}

/** Every row and every cell present, measured (no skipped cell) with a sane time, a peak beside it. */
function expectRows(r: SuiteResult, sizes: number[], ids: string[]): void {
  expect(r.cases.map((c) => c.label)).toEqual(sizes.flatMap((T) => [`T = ${T} forward`, `T = ${T} forward + backward`]));
  for (const c of r.cases) {
    for (const id of ids) {
      const cell = c.cells[id];
      expect(cell, `${c.label} ${id}`).toBeDefined();
      expect(isSkipped(cell), `${c.label} ${id}: ${JSON.stringify(cell)}`).toBe(false);
      const m = cell as Measurement;
      expect(m.samples.length).toBe(2);
      expect(m.median).toBeGreaterThan(0);
      expect(m.median).toBeLessThan(10);
      expect(c.extra?.[id]).toMatch(/^peak \d+\.\d\d MiB$/);
    }
  }
  expect(r.contenders.filter((c) => c.axon).map((c) => c.id)).toEqual(ids.filter((id) => !id.startsWith('composite')));
}

describe('the float64 reference and the check every cell passes before it is timed', () => {
  const T = 24;
  const n = H * T * D;
  const [q, k, v, g] = [1, 2, 3, 4].map((s) => uniformArray(n, s)) as [Float32Array, Float32Array, Float32Array, Float32Array];
  const ref = attentionReference(q, k, v, g, H, T, D);

  it("accepts Axon's sdpa and composite gradients, on the backend's kernels and through the ops", async () => {
    await startAxon('wasm');
    const shape = [1, H, T, D];
    const [tq, tk, tv, tg] = [q, k, v, g].map((a) => tensor(a, shape, 'float32')) as Tensor[];
    for (const way of [sdpaAttention, compositeAttention]) {
      const o = way(tq!, tk!, tv!);
      expect(checkAttention(o.dataSync() as Float32Array, ref.out)).toBeUndefined();
      o.dispose();
      const gs = attentionGrads(way, tg!)(tq!, tk!, tv!);
      gs.forEach((x, i) => expect(checkAttention(x.dataSync() as Float32Array, [ref.dq, ref.dk, ref.dv][i]!), `${way.name} d${'qkv'[i]}`).toBeUndefined());
      for (const x of gs) x.dispose();
    }
    for (const t of [tq, tk, tv, tg]) t!.dispose();
  });

  it('flags a wrong attention: the gradients without the causal mask, one element off by 0.01, a NaN, a wrong length', async () => {
    await startAxon('wasm');
    const shape = [1, H, T, D];
    const [tq, tk, tv, tg] = [q, k, v, g].map((a) => tensor(a, shape, 'float32')) as Tensor[];
    const gs = grad((a, b, c) => scaledDotProductAttention(a!, b!, c!).mul(tg!).sum())(tq!, tk!, tv!);
    const dq = gs[0]!.dataSync() as Float32Array;
    expect(checkAttention(dq, ref.dq)).toMatch(/elements out of tolerance/);
    for (const t of [tq, tk, tv, tg, ...gs]) t!.dispose();
    const exact = Float32Array.from(ref.dk.values);
    expect(checkAttention(exact, ref.dk)).toBeUndefined();
    const off = Float32Array.from(exact);
    off[7] = off[7]! + 1e-2;
    expect(checkAttention(off, ref.dk)).toMatch(/^1 of \d+ elements out of tolerance; worst at 7:/);
    const nan = Float32Array.from(exact);
    nan[3] = NaN;
    expect(checkAttention(nan, ref.dk)).toMatch(/worst at 3: got NaN/);
    expect(checkAttention(exact.subarray(1), ref.dk)).toMatch(/elements, expected/);
  });

  it('computes the causal output: row 0 attends only to key 0', () => {
    for (let e = 0; e < D; e++) expect(ref.out.values[e]).toBeCloseTo(v[e]!, 6);
    // the last key gets gradient only from the last query row: dv[T-1] = p[T-1, T-1] · dOut[T-1]
    expect(ref.dv.values.slice((T - 1) * D, T * D).every((x, e) => Math.sign(x) === Math.sign(g[(T - 1) * D + e]!))).toBe(true);
  });
});

describe('the attention suite at tiny sizes', () => {
  it('WASM at 1 and 2 threads: forward and forward + backward rows for sdpa and the composite, checked, with times and peaks', async () => {
    const live = memory().numTensors;
    const r = await attentionSuite.run(opts({ sizes: [8, 64], threads: [1, 2] }));
    expect(r.warnings).toEqual([]);
    expect(r.id).toBe('attention');
    expectRows(r, [8, 64], ['axon-1t', 'axon-2t', 'composite-1t', 'composite-2t']);
    // the composite holds the [4, 64, 64] scores (64 KiB), more than once in its backward
    expect(peakMiB(r, 'T = 64 forward + backward', 'composite-1t')).toBeGreaterThanOrEqual(0.1);
    // the flash forward holds no scores: the output (32 KiB) and small rows
    expect(peakMiB(r, 'T = 64 forward', 'axon-1t')).toBeLessThan(peakMiB(r, 'T = 64 forward', 'composite-1t'));
    expect(r.notes.join('\n')).toMatch(/has `attention`, \*\*lacks\*\* `attentionBackward`/);
    expect(renderResult(r)).toMatch(/\| T = 64 forward \+ backward \|.* peak \d+\.\d\d MiB/);
    expect(memory().numTensors).toBe(live);
  }, 120_000);

  it('reports a wrong kernel as wrong, not fast: its cells read "wrong result" with a warning, and are not timed', async () => {
    await useAxonThreads(1);
    const b = getBackend() as Backend & { attention: NonNullable<Backend['attention']> };
    const own = Object.prototype.hasOwnProperty.call(b, 'attention');
    const orig = b.attention;
    // a flash kernel that writes 0.5 everywhere: the forward and (through the saved output) dq, dk are wrong
    b.attention = (q, k, v, bias, scale, causal, out, lse) => {
      orig.call(b, q, k, v, bias, scale, causal, out, lse);
      b.fill(out, 0.5);
    };
    try {
      const r = await attentionSuite.run(opts({ sizes: [16], threads: [1] }));
      for (const label of ['T = 16 forward', 'T = 16 forward + backward']) {
        const c = r.cases.find((x) => x.label === label)!;
        expect(c.cells['axon-1t']).toEqual({ skipped: 'wrong result' });
        expect(isSkipped(c.cells['composite-1t'])).toBe(false);
      }
      expect(r.warnings).toHaveLength(2);
      expect(r.warnings[0]).toMatch(/^T = 16 forward, axon-wasm 1t sdpa: wrong result \(conformance attention tolerance\): out: \d+ of 2048 elements out of tolerance/);
      expect(r.warnings[1]).toMatch(/^T = 16 forward \+ backward, axon-wasm 1t sdpa: wrong result .*dq: \d+ of 2048 elements/);
      expect(renderResult(r)).toMatch(/\| T = 16 forward +\| +— \(wrong result\) \|/);
    } finally {
      if (own) b.attention = orig;
      else delete (b as { attention?: unknown }).attention;
    }
  }, 60_000);

  it('WebGPU (lavapipe): the flash forward and backward against the composite, checked, with times and peaks', async () => {
    const live = memory().numTensors;
    const r = await attentionSuite.run(opts({ backend: 'webgpu', sizes: [8, 128] }));
    expect(r.warnings).toEqual([]);
    expect(r.id).toBe('attention-webgpu');
    expect(getBackend().name).toBe('webgpu');
    expectRows(r, [8, 128], ['axon', 'composite']);
    expect(r.notes.join('\n')).toMatch(/has `attention`, has `attentionBackward`/);
    // at T = 128 the composite's backward holds [4, 128, 128] scores (256 KiB) several times; the
    // flash backward a few q-sized (64 KiB) buffers
    const flash = peakMiB(r, 'T = 128 forward + backward', 'axon');
    const comp = peakMiB(r, 'T = 128 forward + backward', 'composite');
    expect(comp).toBeGreaterThanOrEqual(0.5);
    expect(flash).toBeLessThan(comp);
    expect(memory().numTensors).toBe(live);
    await setBackend('wasm');
  }, 300_000);
});
