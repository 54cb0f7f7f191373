import { describe, expect, it } from 'vitest';
import { AxonError, broadcastShapes, contiguousStrides, normAxes, sizeOf, validateShape } from '../src/index.js';

describe('shapes', () => {
  it('sizes and strides', () => {
    expect(sizeOf([])).toBe(1);
    expect(sizeOf([2, 0, 3])).toBe(0);
    expect(contiguousStrides([2, 3, 4])).toEqual([12, 4, 1]);
  });
  it('broadcasts like NumPy', () => {
    expect(broadcastShapes([3, 1], [4])).toEqual([3, 4]);
    expect(broadcastShapes([], [2, 2])).toEqual([2, 2]);
    expect(broadcastShapes([0, 1], [1, 5])).toEqual([0, 5]);
    expect(() => broadcastShapes([2, 3], [4, 3], 'add')).toThrow(/add: shapes \[2,3\] and \[4,3\]/);
  });
  it('rejects NaN and negative sizes', () => {
    expect(() => validateShape('zeros', [2, NaN])).toThrow(AxonError);
    expect(() => validateShape('zeros', [2, NaN])).toThrow(/zeros: shape \[2,NaN\]/);
    expect(() => validateShape('zeros', [-1])).toThrow(/non-negative/);
    expect(() => validateShape('zeros', [1.5])).toThrow(AxonError);
  });
  it('normalises axes', () => {
    expect(normAxes('sum', -1, 3)).toEqual([2]);
    expect(normAxes('sum', undefined, 2)).toEqual([0, 1]);
    expect(() => normAxes('sum', 3, 3)).toThrow(/sum: axis 3 is out of range/);
    expect(() => normAxes('sum', [0, 0], 3)).toThrow(/duplicates/);
  });
});
