/**
 * Normalisation and global pooling layers: outputs and running statistics against plain float64
 * references, gradcheck, eval-mode batch independence, state dicts and saving, memory, and a small
 * CNN with BatchNorm2d trained with `fit`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gradcheck } from '@axon/autograd';
import { AxonError, memory, noGrad, ones, randn, setSeed, slice, tensor, tidy, zeros, type Tensor } from '@axon/core';
import { SGD } from '@axon/optimizers';
import {
  BatchNorm1d, BatchNorm2d, BatchNormalization, Conv2d, Dense, Flatten, GlobalAvgPool2d, LayerNorm, Linear, Module, ReLU, Sequential,
  batchNorm, crossEntropy, deserializeModel, input, layerNorm, model, loadModel, modelFromJson, modelToJson, registeredLayers, save, sequential, serializeModel, serializeSafetensors, toHostTensors, loadWeights,
} from '../src/index.js';
import { expectClose, useTestBackend } from './helpers.js';

let dir = '';
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(join(tmpdir(), 'axon-norm-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const vals = (t: Tensor): number[] => Array.from(t.dataSync());

/** A deterministic float64 sample in about [-2, 3) (LCG), so references see the exact inputs. */
function sample(n: number, seed: number, scale = 1, shift = 0): number[] {
  let s = seed >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(Math.fround(shift + scale * (s / 4294967296 - 0.5) * 4));
  }
  return out;
}

// ------------------------------------------------------------------ float64 references, written plainly

/** Channel of flat index i for a row-major shape with the channel on `axis`. */
function channelOf(i: number, shape: readonly number[], axis: number): number {
  let inner = 1;
  for (let d = axis + 1; d < shape.length; d++) inner *= shape[d]!;
  return Math.floor(i / inner) % shape[axis]!;
}

/** Per-channel mean and biased variance, and the count per channel. */
function channelStats(x: readonly number[], shape: readonly number[], axis: number): { mean: number[]; varB: number[]; n: number } {
  const c = shape[axis]!;
  const n = x.length / c;
  const mean = new Array<number>(c).fill(0);
  const varB = new Array<number>(c).fill(0);
  x.forEach((v, i) => (mean[channelOf(i, shape, axis)]! += v / n));
  x.forEach((v, i) => {
    const k = channelOf(i, shape, axis);
    varB[k]! += (v - mean[k]!) ** 2 / n;
  });
  return { mean, varB, n };
}

/** (x − mean[c]) / √(var[c] + eps) · w[c] + b[c]. */
function normRef(x: readonly number[], shape: readonly number[], axis: number, mean: readonly number[], variance: readonly number[], eps: number, w?: readonly number[], b?: readonly number[]): number[] {
  return x.map((v, i) => {
    const k = channelOf(i, shape, axis);
    return ((v - mean[k]!) / Math.sqrt(variance[k]! + eps)) * (w ? w[k]! : 1) + (b ? b[k]! : 0);
  });
}

/** PyTorch's running update: r ← (1 − m)·r + m·stat, with the unbiased variance. */
function torchRunning(rm: number[], rv: number[], x: readonly number[], shape: readonly number[], axis: number, m: number): void {
  const { mean, varB, n } = channelStats(x, shape, axis);
  for (let k = 0; k < rm.length; k++) {
    rm[k] = (1 - m) * rm[k]! + m * mean[k]!;
    rv[k] = (1 - m) * rv[k]! + m * varB[k]! * (n / (n - 1));
  }
}

function setValues(t: Tensor, values: readonly number[]): void {
  noGrad(() => t.assign(tensor(values, [...t.shape])));
}

/** Runs f with a module's tensor properties temporarily replaced (so gradcheck can perturb them). */
function withSwapped(m: Module, swap: Readonly<Record<string, Tensor>>, f: () => Tensor): Tensor {
  const rec = m as unknown as Record<string, unknown>;
  const saved: [string, unknown][] = Object.keys(swap).map((k) => [k, rec[k]]);
  for (const [k, v] of Object.entries(swap)) rec[k] = v;
  try {
    return f();
  } finally {
    for (const [k, v] of saved) rec[k] = v;
  }
}

// ------------------------------------------------------------------ BatchNorm1d / BatchNorm2d

describe('BatchNorm1d / BatchNorm2d (PyTorch)', () => {
  it("registers weight/bias parameters and PyTorch's running_mean/running_var/num_batches_tracked buffers", () => {
    const bn = new BatchNorm2d(3);
    expect(BatchNorm2d.className).toBe('BatchNorm2d');
    expect(bn.className).toBe('BatchNorm2d');
    expect(bn.namedParameters().map(([n]) => n)).toEqual(['weight', 'bias']);
    expect(bn.namedBuffers().map(([n]) => n)).toEqual(['running_mean', 'running_var', 'num_batches_tracked']);
    expect(Object.keys(bn.stateDict())).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
    expect(bn.stateDict()['running_mean']).toBe(bn.runningMean);
    expect(vals(bn.weight!)).toEqual([1, 1, 1]);
    expect(vals(bn.bias!)).toEqual([0, 0, 0]);
    expect(vals(bn.runningMean!)).toEqual([0, 0, 0]);
    expect(vals(bn.runningVar!)).toEqual([1, 1, 1]);
    expect(bn.numBatchesTracked!.dtype).toBe('int32');
    expect(bn.numBatchesTracked!.shape).toEqual([]);
    expect(bn.runningMean!.requiresGrad).toBe(false);
    expect(bn.countParams()).toBe(6);
    expect(String(bn)).toBe('BatchNorm2d(3, eps=0.00001, momentum=0.1, affine=true, trackRunningStats=true)');
    const plain = new BatchNorm1d(4, { affine: false, trackRunningStats: false });
    expect(plain.parameters()).toEqual([]);
    expect(Object.keys(plain.stateDict())).toEqual([]);
    expect(plain.weight).toBeNull();
    expect(plain.runningMean).toBeNull();
    bn.dispose();
    plain.dispose();
  });

  it('BatchNorm1d on [N, C]: training output, running stats over several steps, eval output (float64 reference)', () => {
    const C = 3;
    const shape = [6, C];
    const bn = new BatchNorm1d(C);
    const w = [0.5, -1.25, 2];
    const b = [0.1, 0, -0.3];
    setValues(bn.weight!, w);
    setValues(bn.bias!, b);
    const rm = [0, 0, 0];
    const rv = [1, 1, 1];
    for (let step = 0; step < 5; step++) {
      const xs = sample(18, 11 + step, 1 + step * 0.5, step - 1);
      const { mean, varB } = channelStats(xs, shape, 1);
      const y = tidy(() => bn.call(tensor(xs, shape)).keep());
      expectClose(vals(y), normRef(xs, shape, 1, mean, varB, 1e-5, w, b), 2e-5, `step ${step} y`);
      y.dispose();
      torchRunning(rm, rv, xs, shape, 1, 0.1);
      expectClose(vals(bn.runningMean!), rm, 2e-6, `step ${step} runningMean`);
      expectClose(vals(bn.runningVar!), rv, 2e-6, `step ${step} runningVar`);
      expect(bn.numBatchesTracked!.item()).toBe(step + 1);
    }
    bn.eval();
    const xe = sample(12, 99, 2);
    const ye = tidy(() => bn.call(tensor(xe, [4, C])).keep());
    expectClose(vals(ye), normRef(xe, [4, C], 1, rm, rv, 1e-5, w, b), 2e-5, 'eval y');
    ye.dispose();
    // eval changes nothing
    expectClose(vals(bn.runningMean!), rm, 2e-6, 'runningMean after eval');
    expect(bn.numBatchesTracked!.item()).toBe(5);
    bn.dispose();
  });

  it('BatchNorm1d on [N, C, L] and BatchNorm2d on [N, C, H, W], custom eps and momentum', () => {
    for (const [ctor, shape] of [
      [BatchNorm1d, [4, 3, 5]],
      [BatchNorm2d, [3, 2, 4, 5]],
    ] as const) {
      const C = shape[1];
      const size = shape.reduce((a, d) => a * d, 1);
      const bn = new ctor(C, { eps: 1e-3, momentum: 0.3 });
      const w = sample(C, 5, 0.5, 1);
      const b = sample(C, 6);
      setValues(bn.weight!, w);
      setValues(bn.bias!, b);
      const rm = new Array<number>(C).fill(0);
      const rv = new Array<number>(C).fill(1);
      for (let step = 0; step < 4; step++) {
        const xs = sample(size, 100 + step, 1.5, 0.5 * step);
        const { mean, varB } = channelStats(xs, shape, 1);
        const y = tidy(() => bn.call(tensor(xs, [...shape])).keep());
        expect(y.shape).toEqual([...shape]);
        expectClose(vals(y), normRef(xs, shape, 1, mean, varB, 1e-3, w, b), 3e-5, `${ctor.className} step ${step}`);
        y.dispose();
        torchRunning(rm, rv, xs, shape, 1, 0.3);
      }
      expectClose(vals(bn.runningMean!), rm, 3e-6, `${ctor.className} runningMean`);
      expectClose(vals(bn.runningVar!), rv, 3e-6, `${ctor.className} runningVar`);
      bn.eval();
      const xe = sample(size, 7, 3);
      const ye = tidy(() => bn.call(tensor(xe, [...shape])).keep());
      expectClose(vals(ye), normRef(xe, shape, 1, rm, rv, 1e-3, w, b), 3e-5, `${ctor.className} eval`);
      ye.dispose();
      bn.dispose();
    }
  });

  it('momentum null is a cumulative average; trackRunningStats false uses batch statistics in eval too', () => {
    const shape = [5, 2];
    const bn = new BatchNorm1d(2, { momentum: null });
    const batches = [sample(10, 1), sample(10, 2, 2, 1), sample(10, 3, 0.5, -1)];
    const means: number[][] = [];
    const vars: number[][] = [];
    for (const xs of batches) {
      tidy(() => {
        bn.call(tensor(xs, shape));
      });
      const st = channelStats(xs, shape, 1);
      means.push(st.mean);
      vars.push(st.varB.map((v) => (v * 5) / 4));
    }
    const avg = (rows: number[][]): number[] => rows[0]!.map((_, k) => rows.reduce((s, r) => s + r[k]!, 0) / rows.length);
    expectClose(vals(bn.runningMean!), avg(means), 3e-6, 'cumulative mean');
    expectClose(vals(bn.runningVar!), avg(vars), 3e-6, 'cumulative var');
    expect(bn.numBatchesTracked!.item()).toBe(3);
    bn.resetRunningStats();
    expect(vals(bn.runningMean!)).toEqual([0, 0]);
    expect(vals(bn.runningVar!)).toEqual([1, 1]);
    expect(bn.numBatchesTracked!.item()).toBe(0);
    bn.dispose();

    const free = new BatchNorm1d(2, { trackRunningStats: false, affine: false });
    free.eval();
    const xs = sample(10, 4, 2);
    const st = channelStats(xs, shape, 1);
    const y = tidy(() => free.call(tensor(xs, shape)).keep());
    expectClose(vals(y), normRef(xs, shape, 1, st.mean, st.varB, 1e-5), 2e-5, 'untracked eval');
    y.dispose();
    free.dispose();
  });

  it('the functional batchNorm matches the module and updates the given running statistics', () => {
    const shape = [4, 3, 2, 2];
    const xs = sample(48, 21, 2);
    const rmT = zeros([3]);
    const rvT = ones([3]);
    const y = tidy(() => batchNorm(tensor(xs, shape), rmT, rvT, { training: true, momentum: 0.2 }).keep());
    const st = channelStats(xs, shape, 1);
    expectClose(vals(y), normRef(xs, shape, 1, st.mean, st.varB, 1e-5), 2e-5, 'functional y');
    const rm = [0, 0, 0];
    const rv = [1, 1, 1];
    torchRunning(rm, rv, xs, shape, 1, 0.2);
    expectClose(vals(rmT), rm, 2e-6, 'functional runningMean');
    expectClose(vals(rvT), rv, 2e-6, 'functional runningVar');
    const ye = tidy(() => batchNorm(tensor(xs, shape), rmT, rvT).keep());
    expectClose(vals(ye), normRef(xs, shape, 1, rm, rv, 1e-5), 2e-5, 'functional eval');
    expect(() => batchNorm(tensor(xs, shape), null, null)).toThrow(/required when training is false/);
    for (const t of [y, ye, rmT, rvT]) t.dispose();
  });

  it('in eval mode a batch of 1 gives the same output as that sample inside a larger batch', () => {
    setSeed(3);
    const cases: [Module, number[]][] = [
      [new BatchNorm2d(3), [5, 3, 4, 4]],
      [new BatchNorm1d(4), [6, 4]],
      [new BatchNorm1d(2), [5, 2, 7]],
      [new BatchNormalization({ axis: 1 }), [5, 3, 4, 4]],
      [new BatchNormalization(), [6, 4]],
    ];
    for (const [layer, shape] of cases) {
      // train a few steps so the running statistics and affine parameters are not trivial
      for (let i = 0; i < 3; i++) tidy(() => void layer.call(randn(shape, { mean: 1, std: 2 })));
      for (const p of layer.parameters()) noGrad(() => p.assign(randn([...p.shape])));
      layer.eval();
      const x = randn(shape);
      const full = tidy(() => layer.call(x).keep());
      const whole = vals(full);
      const per = whole.length / shape[0]!;
      for (let i = 0; i < shape[0]!; i++) {
        const one = tidy(() => {
          const xi = slice(x, [i, ...shape.slice(1).map(() => 0)], [1, ...shape.slice(1)]);
          return vals(layer.call(xi));
        });
        expect(one, `${layer.className} sample ${i}`).toEqual(whole.slice(i * per, (i + 1) * per));
      }
      full.dispose();
      x.dispose();
      layer.dispose();
    }
  });

  it('rejects bad input with an AxonError naming the layer, the shape and what was expected', () => {
    const bn2 = new BatchNorm2d(3, { name: 'bn_a' });
    const bn1 = new BatchNorm1d(4, { name: 'bn_b' });
    const err = (f: () => unknown): AxonError => {
      try {
        tidy(() => void f());
      } catch (e) {
        expect(e).toBeInstanceOf(AxonError);
        return e as AxonError;
      }
      throw new Error('expected an AxonError');
    };
    expect(err(() => bn2.call(zeros([2, 3, 4]))).message).toMatch(/BatchNorm2d 'bn_a'.*expected input NCHW \[N, 3, H, W\].*got \[2,3,4\]/);
    expect(err(() => bn2.call(zeros([2, 4, 5, 5]))).message).toMatch(/BatchNorm2d 'bn_a'.*\[N, 3, H, W\].*got \[2,4,5,5\]/);
    expect(err(() => bn1.call(zeros([2, 3]))).message).toMatch(/BatchNorm1d 'bn_b'.*\[N, 4\] or \[N, 4, L\].*got \[2,3\]/);
    expect(err(() => bn1.call(zeros([2, 4, 1, 1]))).message).toMatch(/BatchNorm1d 'bn_b'.*got \[2,4,1,1\]/);
    expect(err(() => bn1.call(zeros([2, 4], 'int32'))).message).toMatch(/BatchNorm1d 'bn_b'.*float32.*int32 \[2,4\]/);
    expect(err(() => bn1.call(zeros([1, 4]))).message).toMatch(/BatchNorm1d 'bn_b'.*more than 1 value per channel.*\[1,4\]/);
    expect(bn1.numBatchesTracked!.item()).toBe(0);
    expect(() => new BatchNorm2d(0)).toThrow(/BatchNorm2d.*numFeatures must be a positive integer, got 0/);
    expect(() => new BatchNorm2d(3, { momentum: 2 })).toThrow(/momentum must be a number in \[0, 1\]/);
    expect(() => new BatchNorm2d(3, { eps: -1 })).toThrow(/eps must be a finite number >= 0/);
    expect(() => sequential([new Flatten({ inputShape: [2, 3] }), new BatchNorm2d(6)])).toThrow(/BatchNorm2d .*expected input NCHW \[N, 6, H, W\].*got \[null, 6\]/);
    // a batch of 1 is fine in eval mode
    bn1.eval();
    expect(tidy(() => bn1.call(zeros([1, 4])).shape)).toEqual([1, 4]);
    bn1.dispose();
    bn2.dispose();
  });
});

// ------------------------------------------------------------------ Keras BatchNormalization

describe('BatchNormalization (Keras)', () => {
  it('infers its size, uses Keras momentum and the biased variance for the moving statistics', () => {
    for (const [axis, shape, chAxis] of [
      [-1, [6, 3], 1],
      [1, [3, 2, 3, 3], 1],
      [-1, [2, 4, 3], 2],
    ] as const) {
      const bn = new BatchNormalization({ axis, momentum: 0.9, epsilon: 1e-3 });
      expect(bn.built).toBe(false);
      const C: number = shape[chAxis]!;
      const size = (shape as readonly number[]).reduce((a, d) => a * d, 1);
      const mm = new Array<number>(C).fill(0);
      const mv = new Array<number>(C).fill(1);
      for (let step = 0; step < 4; step++) {
        const xs = sample(size, 300 + step, 1 + step, step);
        const st = channelStats(xs, shape, chAxis);
        const y = tidy(() => bn.call(tensor(xs, [...shape])).keep());
        if (step === 0) {
          expect(bn.numFeatures).toBe(C);
          expect(bn.namedParameters().map(([n]) => n)).toEqual(['gamma', 'beta']);
          expect(bn.namedBuffers().map(([n]) => n)).toEqual(['movingMean', 'movingVariance']);
          setValues(bn.gamma!, sample(C, 8, 0.5, 1));
          setValues(bn.beta!, sample(C, 9));
          y.dispose();
          for (let k = 0; k < C; k++) {
            mm[k] = 0.9 * mm[k]! + 0.1 * st.mean[k]!;
            mv[k] = 0.9 * mv[k]! + 0.1 * st.varB[k]!;
          }
          continue;
        }
        expectClose(vals(y), normRef(xs, shape, chAxis, st.mean, st.varB, 1e-3, sample(C, 8, 0.5, 1), sample(C, 9)), 3e-5, `axis ${axis} step ${step}`);
        y.dispose();
        for (let k = 0; k < C; k++) {
          mm[k] = 0.9 * mm[k]! + 0.1 * st.mean[k]!;
          mv[k] = 0.9 * mv[k]! + 0.1 * st.varB[k]!;
        }
      }
      expectClose(vals(bn.movingMean!), mm, 3e-6, `axis ${axis} movingMean`);
      expectClose(vals(bn.movingVariance!), mv, 3e-6, `axis ${axis} movingVariance`);
      bn.eval();
      const xe = sample(size, 17, 2);
      const ye = tidy(() => bn.call(tensor(xe, [...shape])).keep());
      expectClose(vals(ye), normRef(xe, shape, chAxis, mm, mv, 1e-3, sample(C, 8, 0.5, 1), sample(C, 9)), 3e-5, `axis ${axis} eval`);
      ye.dispose();
      bn.dispose();
    }
  });

  it('builds from inputShape in a sequential model, checks its feature count and axis', () => {
    const m = sequential([new Dense(5, { inputShape: [3] }), new BatchNormalization({ name: 'kbn' }), new Dense(2)]);
    const bn = m.layers[1] as BatchNormalization;
    expect(bn.numFeatures).toBe(5);
    expect(m.countParams()).toBe(3 * 5 + 5 + 10 + 5 * 2 + 2);
    expect(m.summary()).toMatch(/kbn \(BatchNormalization\)\s+\[null, 5\]\s+20/);
    expect(m.summary()).toContain('Non-trainable params: 10');
    expect(() => tidy(() => bn.call(zeros([4, 6])))).toThrow(/BatchNormalization 'kbn'.*expected 5 features on axis -1, got input \[4,6\]/);
    expect(() => tidy(() => new BatchNormalization({ axis: 0 }).call(zeros([4, 6])))).toThrow(/BatchNormalization '.*'.*axis 0 is not a feature axis of a rank-2 input/);
    expect(new BatchNormalization({ inputShape: [3, 8, 8], axis: 1 }).numFeatures).toBe(3);
    m.dispose();
  });

  it('works in a functional model: built from the symbolic shape, counted in the summary', () => {
    const x = input({ shape: [2, 6, 6] });
    const h = new Conv2d(2, 3, 3).call(x);
    const n = new BatchNormalization({ axis: 1, name: 'fbn' }).call(h);
    const g = new GlobalAvgPool2d().call(n);
    const y = new Dense(1).call(new LayerNorm(3).call(g));
    const f = model({ inputs: x, outputs: y });
    expect(f.summary()).toMatch(/fbn \(BatchNormalization\)\s+\[null, 3, 4, 4\]\s+12/);
    expect(f.summary()).toContain('Non-trainable params: 6');
    const out = tidy(() => f.call(randn([5, 2, 6, 6])).keep());
    expect(out.shape).toEqual([5, 1]);
    out.dispose();
    f.dispose();
  });
});

// ------------------------------------------------------------------ LayerNorm

describe('LayerNorm', () => {
  /** Normalises each run of `k` trailing elements, then applies elementwise w and b. */
  function layerNormRef(x: readonly number[], k: number, eps: number, w?: readonly number[], b?: readonly number[]): number[] {
    const out: number[] = [];
    for (let r = 0; r < x.length / k; r++) {
      const row = x.slice(r * k, (r + 1) * k);
      const m = row.reduce((s, v) => s + v, 0) / k;
      const v = row.reduce((s, u) => s + (u - m) ** 2, 0) / k;
      row.forEach((u, j) => out.push(((u - m) / Math.sqrt(v + eps)) * (w ? w[j]! : 1) + (b ? b[j]! : 0)));
    }
    return out;
  }

  it('normalises over the trailing dimensions, the same in training and eval', () => {
    const ln = new LayerNorm([3, 4], { eps: 1e-4 });
    expect(ln.namedParameters().map(([n, p]) => `${n} ${p.shape.join('x')}`)).toEqual(['weight 3x4', 'bias 3x4']);
    expect(ln.namedBuffers()).toEqual([]);
    const w = sample(12, 31, 0.5, 1);
    const b = sample(12, 32);
    setValues(ln.weight!, w);
    setValues(ln.bias!, b);
    const shape = [2, 5, 3, 4];
    const xs = sample(120, 33, 3, 1);
    const want = layerNormRef(xs, 12, 1e-4, w, b);
    const y = tidy(() => ln.call(tensor(xs, shape)).keep());
    expect(y.shape).toEqual(shape);
    expectClose(vals(y), want, 2e-5, 'train');
    ln.eval();
    const ye = tidy(() => ln.call(tensor(xs, shape)).keep());
    expectClose(vals(ye), want, 2e-5, 'eval');
    const yf = tidy(() => layerNorm(tensor(xs, shape), [3, 4], { weight: ln.weight, bias: ln.bias, eps: 1e-4 }).keep());
    expect(vals(yf)).toEqual(vals(y));
    for (const t of [y, ye, yf]) t.dispose();

    const plain = new LayerNorm(8, { elementwiseAffine: false });
    expect(plain.parameters()).toEqual([]);
    const xs2 = sample(24, 34, 10, 100);
    const y2 = tidy(() => plain.call(tensor(xs2, [3, 8])).keep());
    expectClose(vals(y2), layerNormRef(xs2, 8, 1e-5), 5e-4, 'large offset');
    y2.dispose();
    const noBias = new LayerNorm(8, { bias: false });
    expect(noBias.namedParameters().map(([n]) => n)).toEqual(['weight']);
    expect(String(ln)).toBe('LayerNorm([3, 4], eps=0.0001, elementwiseAffine=true)');
    for (const m of [ln, plain, noBias]) m.dispose();
  });

  it('rejects bad input and options with an AxonError naming the layer', () => {
    const ln = new LayerNorm([3, 4], { name: 'ln_x' });
    expect(() => tidy(() => ln.call(zeros([2, 4, 3])))).toThrow(/LayerNorm 'ln_x'.*expected input \[\.\.\., 3, 4\].*got \[2,4,3\]/);
    expect(() => tidy(() => ln.call(zeros([4])))).toThrow(/LayerNorm 'ln_x'.*got \[4\]/);
    expect(() => tidy(() => ln.call(zeros([2, 3, 4], 'int32')))).toThrow(/LayerNorm 'ln_x'.*float32/);
    expect(() => new LayerNorm([])).toThrow(/LayerNorm.*normalizedShape must be/);
    expect(() => new LayerNorm(0)).toThrow(/LayerNorm.*normalizedShape must be/);
    expect(() => tidy(() => layerNorm(zeros([2, 4]), [4], { weight: zeros([3]) }))).toThrow(/layerNorm.*weight must have shape \[4\].*got \[3\]/);
    ln.dispose();
  });
});

// ------------------------------------------------------------------ GlobalAvgPool2d

describe('GlobalAvgPool2d', () => {
  it('averages each channel over H and W: [N, C, H, W] → [N, C] (or [N, C, 1, 1])', () => {
    const shape = [2, 3, 4, 5];
    const xs = sample(120, 41, 2);
    const want: number[] = [];
    for (let nc = 0; nc < 6; nc++) want.push(xs.slice(nc * 20, (nc + 1) * 20).reduce((s, v) => s + v, 0) / 20);
    const gap = new GlobalAvgPool2d();
    const y = tidy(() => gap.call(tensor(xs, shape)).keep());
    expect(y.shape).toEqual([2, 3]);
    expectClose(vals(y), want, 1e-6, 'gap');
    const k = new GlobalAvgPool2d({ keepDims: true });
    const yk = tidy(() => k.call(tensor(xs, shape)).keep());
    expect(yk.shape).toEqual([2, 3, 1, 1]);
    expect(vals(yk)).toEqual(vals(y));
    expect(gap.computeOutputShape([null, 3, 4, 5])).toEqual([null, 3]);
    expect(k.computeOutputShape([null, 3, 4, 5])).toEqual([null, 3, 1, 1]);
    expect(() => tidy(() => gap.call(zeros([2, 3, 4])))).toThrow(/GlobalAvgPool2d '.*'.*expected float32 NCHW input \[N, C, H, W\], got float32 \[2,3,4\]/);
    y.dispose();
    yk.dispose();
  });
});

// ------------------------------------------------------------------ gradients

describe('gradcheck through each layer in training mode', () => {
  const tol = { eps: 1e-2, atol: 3e-3, rtol: 3e-2 };

  it('BatchNorm1d, BatchNorm2d (input, weight, bias)', () => {
    setSeed(7);
    for (const [layer, shape] of [
      [new BatchNorm1d(3), [5, 3]],
      [new BatchNorm1d(2), [3, 2, 4]],
      [new BatchNorm2d(2), [3, 2, 3, 2]],
    ] as const) {
      const C = shape[1];
      const x = randn([...shape]);
      const coef = randn([...shape]);
      const w = randn([C], { mean: 1, std: 0.3 });
      const b = randn([C]);
      const f = (xi: Tensor, wi: Tensor, bi: Tensor): Tensor => withSwapped(layer, { weight: wi, bias: bi }, () => layer.call(xi).mul(coef).sum());
      const r = gradcheck(f, [x, w, b], tol);
      expect(r.ok, `${layer.className} ${shape.join('x')}: ${r.message}`).toBe(true);
      for (const t of [x, coef, w, b]) t.dispose();
      layer.dispose();
    }
  });

  it('BatchNormalization (gamma, beta), LayerNorm, GlobalAvgPool2d and the functional forms', () => {
    setSeed(8);
    const kbn = new BatchNormalization({ axis: 1 });
    const x4 = randn([3, 2, 2, 3]);
    const c4 = randn([3, 2, 2, 3]);
    tidy(() => void kbn.call(x4));
    const g = randn([2], { mean: 1, std: 0.3 });
    const be = randn([2]);
    let r = gradcheck((xi, gi, bi) => withSwapped(kbn, { gamma: gi, beta: bi }, () => kbn.call(xi).mul(c4).sum()), [x4, g, be], tol);
    expect(r.ok, `BatchNormalization: ${r.message}`).toBe(true);

    const ln = new LayerNorm([2, 3]);
    const x3 = randn([2, 2, 2, 3]);
    const lw = randn([2, 3], { mean: 1, std: 0.3 });
    const lb = randn([2, 3]);
    const c3 = randn([2, 2, 2, 3]);
    r = gradcheck((xi, wi, bi) => withSwapped(ln, { weight: wi, bias: bi }, () => ln.call(xi).mul(c3).sum()), [x3, lw, lb], tol);
    expect(r.ok, `LayerNorm: ${r.message}`).toBe(true);
    r = gradcheck((xi, wi, bi) => layerNorm(xi, [3], { weight: wi.reshape([6]).slice([0], [3]), bias: bi.reshape([6]).slice([0], [3]) }).square().sum(), [x3, lw, lb], tol);
    expect(r.ok, `layerNorm: ${r.message}`).toBe(true);

    const gap = new GlobalAvgPool2d();
    const cg = randn([3, 2]);
    r = gradcheck((xi) => gap.call(xi).mul(cg).sum(), [x4], tol);
    expect(r.ok, `GlobalAvgPool2d: ${r.message}`).toBe(true);

    const rm = zeros([2]);
    const rv = ones([2]);
    r = gradcheck((xi, wi, bi) => batchNorm(xi, rm, rv, { training: true, weight: wi, bias: bi }).mul(c4).sum(), [x4, g, be], tol);
    expect(r.ok, `batchNorm: ${r.message}`).toBe(true);
    for (const t of [x4, c4, g, be, x3, c3, lw, lb, cg, rm, rv]) t.dispose();
    kbn.dispose();
    ln.dispose();
  });

  it('running statistics never require grad and get no gradient; eval mode differentiates too', () => {
    const bn = new BatchNorm2d(2);
    const x = randn([4, 2, 3, 3]).requireGrad();
    tidy(() => bn.call(x).square().sum().backward());
    expect(bn.runningMean!.requiresGrad).toBe(false);
    expect(bn.runningMean!.grad).toBeNull();
    expect(bn.weight!.grad).not.toBeNull();
    bn.zeroGrad();
    bn.eval();
    const xe = randn([2, 2, 3, 3]);
    const coef = randn([2, 2, 3, 3]);
    const r = gradcheck((xi, wi) => withSwapped(bn, { weight: wi }, () => bn.call(xi).mul(coef).sum()), [xe, randn([2])]);
    expect(r.ok, r.message).toBe(true);
    x.grad?.dispose();
    for (const t of [x, xe, coef]) t.dispose();
    bn.dispose();
  });
});

// ------------------------------------------------------------------ state and saving

class Net extends Module {
  conv = new Conv2d(1, 4, 3, { padding: 1 });
  bn = new BatchNorm2d(4);
  act = new ReLU();
  pool = new GlobalAvgPool2d();
  ln = new LayerNorm(4);
  bn1 = new BatchNorm1d(4, { momentum: null });
  fc = new Linear(4, 2);
  forward(x: Tensor): Tensor {
    return this.fc.call(this.bn1.call(this.ln.call(this.pool.call(this.act.call(this.bn.call(this.conv.call(x)))))));
  }
}

describe('state dict and saving', () => {
  it('stateDict/loadStateDict carry the buffers; parameters() leaves them out', () => {
    setSeed(1);
    const a = new Net();
    expect(a.namedParameters().map(([n]) => n)).toEqual(['conv.weight', 'conv.bias', 'bn.weight', 'bn.bias', 'ln.weight', 'ln.bias', 'bn1.weight', 'bn1.bias', 'fc.weight', 'fc.bias']);
    // module by module, as PyTorch's state_dict()
    expect(Object.keys(a.stateDict())).toEqual([
      'conv.weight', 'conv.bias', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var', 'bn.num_batches_tracked', 'ln.weight', 'ln.bias',
      'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'bn1.num_batches_tracked', 'fc.weight', 'fc.bias',
    ]);
    for (let i = 0; i < 3; i++) tidy(() => void a.call(randn([4, 1, 5, 5])));
    const b = new Net();
    b.loadStateDict(a.stateDict());
    for (const [k, t] of Object.entries(a.stateDict())) expect(vals(b.stateDict()[k]!), k).toEqual(vals(t));
    expect(b.bn.numBatchesTracked!.item()).toBe(3);
    a.eval();
    b.eval();
    const x = randn([2, 1, 5, 5]);
    expect(tidy(() => vals(b.call(x)))).toEqual(tidy(() => vals(a.call(x))));
    const bad = { ...a.stateDict(), 'bn.running_var': zeros([5]) };
    expect(() => b.loadStateDict(bad)).toThrow('size mismatch for bn.running_var: copying a param with shape [5] from checkpoint, the shape in current model is [4].');
    bad['bn.running_var']!.dispose();
    x.dispose();
    a.dispose();
    b.dispose();
  });

  it("accepts the buffer names used before PyTorch's (runningMean, runningVar, numBatchesTracked) on load, from a state dict and from a file", async () => {
    setSeed(4);
    const a = new Net();
    for (let i = 0; i < 2; i++) tidy(() => void a.call(randn([4, 1, 5, 5])));
    // the state dict (and file) as Axon wrote them before the rename
    const legacy: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(a.stateDict())) legacy[k.replace('running_mean', 'runningMean').replace('running_var', 'runningVar').replace('num_batches_tracked', 'numBatchesTracked')] = t;
    expect(Object.keys(legacy)).toContain('bn1.numBatchesTracked');
    const b = new Net();
    expect(b.loadStateDict(legacy)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    for (const [k, t] of Object.entries(a.stateDict())) expect(vals(b.stateDict()[k]!), k).toEqual(vals(t));
    const file = join(dir, 'legacy-bn.safetensors');
    await writeFile(file, serializeSafetensors(await toHostTensors(legacy), { format: 'axon' }));
    const c = new Net();
    await loadWeights(c, file);
    expect(c.bn1.numBatchesTracked!.item()).toBe(2);
    for (const [k, t] of Object.entries(a.stateDict())) expect(vals(c.stateDict()[k]!), k).toEqual(vals(t));
    // a legacy name beside the current one is unexpected, not silently preferred
    expect(() => b.loadStateDict({ ...a.stateDict(), 'bn.runningMean': a.bn.runningMean! })).toThrow('Unexpected key(s) in state_dict: "bn.runningMean".');
    a.dispose();
    b.dispose();
    c.dispose();
  });

  it('save/loadModel and serializeModel round-trip architecture and buffers (Sequential and Keras)', async () => {
    setSeed(2);
    const torchStyle = new Sequential(new Conv2d(1, 3, 3), new BatchNorm2d(3, { eps: 1e-3, momentum: 0.2 }), new ReLU(), new GlobalAvgPool2d(), new LayerNorm(3, { eps: 1e-6 }), new BatchNorm1d(3, { affine: false }), new Linear(3, 2));
    const keras = sequential([new Conv2d(1, 2, 3, { inputShape: [1, 6, 6] }), new BatchNormalization({ axis: 1, momentum: 0.8 }), new ReLU(), new GlobalAvgPool2d({ keepDims: true }), new Flatten(), new Dense(2)]);
    for (const m of [torchStyle, keras]) {
      for (let i = 0; i < 3; i++) tidy(() => void m.call(randn([4, 1, 6, 6], { mean: 0.5, std: 2 })));
      m.eval();
      const x = randn([3, 1, 6, 6]);
      const want = tidy(() => vals(m.call(x)));
      const path = join(dir, m === keras ? 'keras' : 'torch');
      await save(m, path);
      const again = await loadModel(path);
      again.eval();
      expect(modelToJson(again)).toEqual(modelToJson(m));
      for (const [k, t] of Object.entries(m.stateDict())) expect(vals(again.stateDict()[k]!), k).toEqual(vals(t));
      expect(tidy(() => vals(again.call(x)))).toEqual(want);
      const { json, weights } = await serializeModel(m);
      const third = deserializeModel(json, weights);
      third.eval();
      expect(tidy(() => vals(third.call(x)))).toEqual(want);
      for (const d of [again, third, m]) d.dispose();
      x.dispose();
    }
    for (const cls of ['BatchNorm1d', 'BatchNorm2d', 'BatchNormalization', 'LayerNorm', 'GlobalAvgPool2d']) expect(registeredLayers()).toContain(cls);
    const cfg = modelToJson(sequential([new Dense(4, { inputShape: [2] }), new BatchNorm1d(4, { momentum: null, trackRunningStats: false })]));
    const rebuilt = modelFromJson(JSON.parse(JSON.stringify(cfg))) as Sequential;
    const bn = rebuilt.layers[1] as BatchNorm1d;
    expect([bn.momentum, bn.trackRunningStats, bn.runningMean]).toEqual([null, false, null]);
    rebuilt.dispose();
  });
});

// ------------------------------------------------------------------ memory and training

describe('memory and training', () => {
  it('many training steps leak no tensors; a no-grad eval call outside tidy leaves only its output', () => {
    setSeed(4);
    const net = new Net();
    const opt = new SGD(net.parameters(), { lr: 0.05, momentum: 0.9 });
    const x = randn([8, 1, 5, 5]);
    const y = tensor([0, 1, 0, 1, 1, 0, 0, 1], [8], 'int32');
    const step = (): void =>
      tidy(() => {
        const out = net.call(x);
        const loss = crossEntropy(out, y);
        opt.zeroGrad();
        loss.backward();
        opt.step();
      });
    step(); // creates the optimizer's momentum buffers
    const before = memory();
    for (let i = 0; i < 200; i++) step();
    expect(net.bn.numBatchesTracked!.item()).toBe(201);
    const after = memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);

    net.eval();
    const h = noGrad(() => net.conv.call(x));
    const n0 = memory().numTensors;
    const out = noGrad(() => net.bn.call(h));
    // only the output remains: the BN intermediates are freed without a tidy scope
    expect(memory().numTensors).toBe(n0 + 1);
    out.dispose();
    h.dispose();
    const n1 = memory().numTensors;
    const ln = noGrad(() => layerNorm(x, [5]));
    expect(memory().numTensors).toBe(n1 + 1);
    ln.dispose();
    x.dispose();
    y.dispose();
    opt.dispose();
    net.dispose();
  });

  it('a small CNN with BatchNorm2d trains with fit (loss falls) and predicts in eval mode', async () => {
    setSeed(5);
    // 8×8 images: class 0 has a bright vertical bar, class 1 a horizontal one, on noise
    const n = 192;
    const xs = new Float32Array(n * 64);
    const ys = new Int32Array(n);
    const noise = sample(n * 64, 77, 0.15);
    for (let i = 0; i < n; i++) {
      const cls = i % 2;
      const pos = 1 + ((i >> 1) % 6);
      ys[i] = cls;
      for (let r = 0; r < 8; r++) {
        for (let c = 0; c < 8; c++) {
          const on = cls === 0 ? c === pos : r === pos;
          xs[i * 64 + r * 8 + c] = (on ? 1 : 0) + noise[i * 64 + r * 8 + c]!;
        }
      }
    }
    const m = sequential([
      new Conv2d(1, 6, 3, { inputShape: [1, 8, 8], padding: 1 }),
      new BatchNorm2d(6),
      new ReLU(),
      new Conv2d(6, 8, 3),
      new BatchNorm2d(8),
      new ReLU(),
      new GlobalAvgPool2d(),
      new Dense(2, { activation: 'softmax' }),
    ]);
    m.compile({ optimizer: { name: 'adam', learningRate: 0.02 }, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const before = memory().numTensors;
    const h = await m.fit(xs, ys, { epochs: 8, batchSize: 16, verbose: 0, seed: 1 });
    const losses = h.history['loss']!;
    expect(losses.length).toBe(8);
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! * 0.5);
    const bn = m.layers[1] as BatchNorm2d;
    expect(bn.numBatchesTracked!.item()).toBe(8 * (n / 16));
    const ev = await m.evaluate(xs, ys);
    expect(ev['accuracy']!).toBeGreaterThan(0.9);
    expect(m.training).toBe(true); // evaluate restores the mode
    const p = m.predict(xs.subarray(0, 64 * 4));
    expect(p.shape).toEqual([4, 2]);
    p.dispose();
    // fit/evaluate/predict leave only the optimizer's state behind
    const optState = memory().numTensors - before;
    expect(optState).toBeLessThanOrEqual(2 * m.parameters().length + 2);
    m.dispose();
  });
});
