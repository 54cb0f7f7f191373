import { describe, expect, it } from 'vitest';
import { AxonError } from '@axon/core';
import { MinMaxScaler, StandardScaler, minMaxScale, normalize, oneHot, standardize, trainTestSplit } from '../src/index.js';

const close = (a: ArrayLike<number>, b: number[], eps = 1e-6) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < b.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(eps);
};

describe('transforms', () => {
  it('normalize with scalar and per-channel statistics', () => {
    close(normalize(new Float32Array([1, 2, 3]), { mean: 2, std: 0.5 }), [-2, 0, 2]);
    close(normalize([[1, 10], [3, 30]], { mean: [2, 20], std: [1, 10] }), [-1, -1, 1, 1]);
    expect(() => normalize([1, 2, 3], { mean: [1, 2], std: 1 })).toThrow(/normalize: 3 values do not split into rows of 2 features/);
    expect(() => normalize([1], { mean: 0, std: 0 })).toThrow(/normalize: expected every std to be finite and non-zero/);
    expect(() => normalize([1], {} as { mean: number; std: number })).toThrow(/expected options \{ mean, std \}/);
  });

  it('standardize fits on train and applies the same statistics to test', () => {
    const train = [[1, 100], [3, 300], [5, 500]];
    const { data, scaler } = standardize(train);
    expect(Array.from(scaler.mean)).toEqual([3, 300]);
    const s = Math.sqrt(8 / 3);
    close(data, [-2 / s, -2 / s, 0, 0, 2 / s, 2 / s]);
    close(scaler.transform([[3, 300 + 100 * s]]), [0, 1], 1e-5);
    close(scaler.inverseTransform(data), [1, 100, 3, 300, 5, 500], 1e-3);
    const flat = standardize(new Float32Array([1, 100, 3, 300]), { features: 2 });
    close(flat.data, [-1, -1, 1, 1]);
    const constant = standardize([[2], [2]]);
    close(constant.data, [0, 0]);
    expect(() => new StandardScaler().transform([1])).toThrow(/StandardScaler.transform: the scaler is not fitted/);
    expect(() => scaler.transform([1, 2, 3])).toThrow(/do not split into rows of 2 features/);
    const host = standardize({ data: new Float32Array([0, 10, 2, 20]), shape: [2, 2], dtype: 'float32' });
    close(host.data, [-1, -1, 1, 1]);
  });

  it('minMaxScale into [0,1] and custom ranges', () => {
    const { data, scaler } = minMaxScale([[0, 10], [5, 20], [10, 30]]);
    close(data, [0, 0, 0.5, 0.5, 1, 1]);
    close(scaler.transform([[20, 0]]), [2, -0.5]);
    close(scaler.inverseTransform(data), [0, 10, 5, 20, 10, 30], 1e-4);
    const r = minMaxScale([1, 3], { range: [-1, 1] });
    close(r.data, [-1, 1]);
    close(new MinMaxScaler().fit([[4], [4]]).transform([[4]]), [0]);
    expect(() => new MinMaxScaler([1, 0])).toThrow(/MinMaxScaler: expected a range/);
  });

  it('oneHot', () => {
    expect(Array.from(oneHot([0, 2], 3))).toEqual([1, 0, 0, 0, 0, 1]);
    expect(Array.from(oneHot(new Int32Array([1]), 2))).toEqual([0, 1]);
    expect(() => oneHot([0, 3], 3)).toThrow(/oneHot: label 1 is 3; expected an integer in \[0, 2\]/);
    expect(() => oneHot([0.5], 3)).toThrow(AxonError);
    expect(() => oneHot([0], 0)).toThrow(/numClasses/);
  });

  it('trainTestSplit', () => {
    const x = Array.from({ length: 10 }, (_, i) => [i, i]);
    const y = Array.from({ length: 10 }, (_, i) => i);
    const { train, test } = trainTestSplit({ x, y }, { testSize: 0.3, seed: 1 });
    expect(train.x.shape).toEqual([7, 2]);
    expect(test.y.shape).toEqual([3]);
    const all = [...train.y.data, ...test.y.data].sort((a, b) => a - b);
    expect(all).toEqual(y);
    for (let i = 0; i < 3; i++) expect(test.x.data[2 * i]).toBe(test.y.data[i]);
    const again = trainTestSplit({ x, y }, { testSize: 0.3, seed: 1 });
    expect(Array.from(again.test.y.data)).toEqual(Array.from(test.y.data));
    const ordered = trainTestSplit({ x, y }, { testSize: 2, shuffle: false });
    expect(Array.from(ordered.test.y.data)).toEqual([8, 9]);
    expect(() => trainTestSplit({ x, y }, { testSize: 11 })).toThrow(/trainTestSplit: testSize 11/);
  });
});
