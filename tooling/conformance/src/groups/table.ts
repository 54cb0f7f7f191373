/**
 * Core's op table (`OP_TABLE`): every entry is checked from its own definition — forward against
 * its float64 reference over its domain (every size and layout, its special values), values and
 * gradients against PyTorch's at its kinks and across its domain (`fixtures/torch-table.json`,
 * from `fixtures/gen_torch_table.py`), its `Tensor` method and dtype handling. (Its gradient is
 * also checked by finite differences in the `gradients` group.) A new entry is covered without
 * editing this file.
 */
import * as ax from '@axon/core';
import type { Tensor } from '@axon/core';
import { grad } from '@axon/autograd';
import table from '../../fixtures/torch-table.json';
import { checkClose, ensure, fail } from '../check.js';
import { evaluate, group, it, type Suite } from '../harness.js';
import { describeHost, hostOf, LAYOUTS, makeHost, uniform } from '../inputs.js';
import { TOLERANCES } from '../tolerances.js';
import { checkMap, SHAPES } from './elementwise.js';

type Num = number | 'nan' | 'inf' | '-inf';
interface TableCase {
  op: string;
  torch: string;
  inputs: number[];
  weights: number[];
  forward: number[];
  grad: number[];
  special: Num[];
  specialForward: Num[];
}

const num = (v: Num): number => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v);

/** The op table's entries, by name. */
export function tableOps(): [ax.TableOpName, ax.UnaryOpDef][] {
  return Object.entries(ax.OP_TABLE) as [ax.TableOpName, ax.UnaryOpDef][];
}

export function tableTests(s: Suite): void {
  group(s, 'op table', () => {
    const cases = new Map((table as unknown as { cases: TableCase[] }).cases.map((c) => [c.op, c]));
    const fn = (name: ax.TableOpName) => (x: Tensor): Tensor => (ax as unknown as Record<string, (t: Tensor) => Tensor>)[name]!(x);

    it('every op of the table is exported, and has PyTorch fixtures', () => {
      const c = s.ctx('OP_TABLE');
      for (const [name] of tableOps()) {
        ensure(typeof (ax as unknown as Record<string, unknown>)[name] === 'function', c, `OP_TABLE has '${name}' but @axon/core exports no function of that name`);
        ensure(cases.has(name), c, `no PyTorch fixture for '${name}': run pnpm --filter @axon/conformance fixtures:table (see fixtures/gen_torch_table.py)`);
      }
    });

    for (const [name, def] of tableOps()) {
      const [lo, hi] = def.domain.range;
      const tol = def.domain.tolerance;

      it(`${name}: every size and layout, and its special values, against its float64 reference`, async () => {
        const r = s.rng(`table-${name}`);
        const hs = SHAPES.map((sh) => makeHost(r, sh, 'float32', uniform(lo, hi)));
        for (const l of LAYOUTS.slice(1)) hs.push(makeHost(r, [3, 17], 'float32', uniform(lo, hi), l));
        hs.push(hostOf([...def.domain.special], [def.domain.special.length]));
        for (const h of hs) await checkMap(s.ctx(name, describeHost(h)), [h], fn(name), def.reference, 'float32', tol);
      });

      it(`${name}: PyTorch's values and gradients at its kinks, across its domain and at special values`, async () => {
        const k = cases.get(name);
        if (!k) return fail(s.ctx(name), `no PyTorch fixture for '${name}'`);
        const c = s.ctx(`${name} vs PyTorch ${(table as { torch: string }).torch} (${k.torch})`, JSON.stringify(k.inputs));
        const n = k.inputs.length;
        const [y, g, ys] = await evaluate(c, () => {
          const x = ax.tensor(k.inputs);
          const w = ax.tensor(k.weights);
          const [gx] = grad((t: Tensor) => ax.sum(ax.mul(fn(name)(t), w)))(x);
          return [fn(name)(x), gx!, fn(name)(ax.tensor(k.special.map(num)))];
        });
        checkClose(y!, { shape: [n], values: Float64Array.from(k.forward) }, 'float32', tol, { ...c, op: `${c.op}: forward` });
        checkClose(g!, { shape: [n], values: Float64Array.from(k.grad) }, 'float32', TOLERANCES.gradAnalytic, { ...c, op: `${c.op}: gradient` });
        checkClose(ys!, { shape: [k.special.length], values: Float64Array.from(k.specialForward.map(num)) }, 'float32', tol, { ...c, op: `${c.op}: special values ${JSON.stringify(k.special)}` });
      });

      it(`${name}: the Tensor method, int32 input (converted to float32) and bool input (an AxonError)`, async () => {
        const c = s.ctx(`${name} method / dtypes`);
        const [a, b, i] = await evaluate(c, () => {
          const x = ax.tensor([-2, -0.5, 0, 0.5, 2]);
          const method = (x as unknown as Record<string, () => Tensor>)[name]!;
          return [method.call(x), fn(name)(x), fn(name)(ax.tensor([-2, 0, 2], [3], 'int32'))];
        });
        checkClose(a!, { shape: [5], values: Float64Array.from(b!.data) }, 'float32', TOLERANCES.exact, c);
        ensure(i!.dtype === 'float32', c, `int32 input gave ${i!.dtype}, expected float32`);
        checkClose(i!, { shape: [3], values: Float64Array.from([-2, 0, 2].map((v) => Math.fround(def.reference(v)))) }, 'float32', tol, c);
        const t = ax.tensor([true, false]);
        let err: unknown = null;
        try {
          fn(name)(t);
        } catch (e) {
          err = e;
        } finally {
          t.dispose();
        }
        ensure(err instanceof ax.AxonError && err.op === name && /bool/.test(err.message), c, `a bool input should throw an AxonError from '${name}' naming bool, got ${String(err)}`);
      });
    }
  });
}
