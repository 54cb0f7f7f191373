/** Composite activations: leakyRelu, gelu (exact and tanh), softplus, logSigmoid, clip. */
import * as ax from '@axon/core';
import type { Tensor } from '@axon/core';
import { group, it, type Suite } from '../harness.js';
import { describeHost, hostOf, LAYOUTS, makeHost, uniform } from '../inputs.js';
import { erfRef, softplusRef } from '../reference.js';
import { type Tolerance, TOLERANCES } from '../tolerances.js';
import { checkMap, SHAPES } from './elementwise.js';

const SPECS: [string, (x: Tensor) => Tensor, (x: number) => number, Tolerance, number][] = [
  ['leakyRelu(0.01)', (x) => ax.leakyRelu(x), (x) => (x > 0 ? x : 0.01 * x), TOLERANCES.leakyRelu, 10],
  ['leakyRelu(0.2)', (x) => ax.leakyRelu(x, 0.2), (x) => (x > 0 ? x : 0.2 * x), TOLERANCES.leakyRelu, 10],
  ['gelu', ax.gelu, (x) => 0.5 * x * (1 + erfRef(x / Math.SQRT2)), TOLERANCES.gelu, 6],
  ['gelu tanh', (x) => ax.gelu(x, { approximate: 'tanh' }), (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))), TOLERANCES.geluTanh, 6],
  ['softplus', ax.softplus, softplusRef, TOLERANCES.softplus, 20],
  ['logSigmoid', ax.logSigmoid, (x) => -softplusRef(-x), TOLERANCES.logSigmoid, 20],
  ['clip(-0.5, 2)', (x) => ax.clip(x, -0.5, 2), (x) => Math.min(Math.max(x, -0.5), 2), TOLERANCES.clip, 5],
];

export function nnTests(s: Suite): void {
  group(s, 'activations', () => {
    for (const [name, f, ref, tol, range] of SPECS) {
      it(`${name}: every size and layout, large |x| stays finite`, async () => {
        const r = s.rng(`nn-${name}`);
        const hs = SHAPES.map((sh) => makeHost(r, sh, 'float32', uniform(-range, range)));
        for (const l of LAYOUTS.slice(1)) hs.push(makeHost(r, [3, 17], 'float32', uniform(-range, range), l));
        hs.push(hostOf([0, 100, -100, 1000, -1000, 1e-7, -1e-7, 88, -88], [9]));
        for (const h of hs) await checkMap(s.ctx(name, describeHost(h)), [h], f, ref, 'float32', tol);
      });
    }
  });
}
