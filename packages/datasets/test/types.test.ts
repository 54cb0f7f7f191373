import { describe, expectTypeOf, it } from 'vitest';
import type { Tensor } from '@axon/core';
import { type ArrayDataset, type Dataset, type HostTensor, fromArrays, fromCsvText, fromGenerator, loadMnistDataset } from '../src/index.js';

// Compile-time checks (run by `pnpm typecheck`); at run time these are no-ops.
describe('public types', () => {
  it('batch and toTensors types', () => {
    const ds = fromArrays({ x: [[1, 2]], y: [0] });
    expectTypeOf(ds).toEqualTypeOf<ArrayDataset<'x' | 'y'>>();
    expectTypeOf(ds.shuffle(1).take(1)).toEqualTypeOf<ArrayDataset<'x' | 'y'>>();
    expectTypeOf(ds.batch(2)).toEqualTypeOf<Dataset<{ x: HostTensor; y: HostTensor }>>();
    expectTypeOf(ds.batch(2).toTensors()).toEqualTypeOf<Dataset<{ x: Tensor; y: Tensor }>>();
    expectTypeOf(fromGenerator(() => [1, 2]).batch(2)).toEqualTypeOf<Dataset<HostTensor>>();
    expectTypeOf(fromGenerator(() => ['a']).batch(2)).toEqualTypeOf<Dataset<string[]>>();
    expectTypeOf(fromCsvText('a,b\n1,2', { label: 'b' })).toEqualTypeOf<ArrayDataset<'x' | 'y'>>();
    expectTypeOf(fromCsvText('a,b\n1,2')).toEqualTypeOf<ArrayDataset<'x'>>();
    expectTypeOf(loadMnistDataset).returns.resolves.toEqualTypeOf<ArrayDataset<'x' | 'y'>>();
  });
});
