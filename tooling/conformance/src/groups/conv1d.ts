/**
 * conv1d, convTranspose1d/2d, maxPool1d/avgPool1d, avgPool2d with `countIncludePad` and upsample
 * (nearest, linear, bilinear, alignCorners) against PyTorch 1.13 computed in float64 from float32
 * inputs (fixtures/torch-conv.json, from gen_torch_conv.py: the float64 reference and PyTorch's
 * semantics in one), values and gradients, each case with a contiguous and a permuted-view input;
 * finite-difference gradient checks are in the 'gradients' group ({@link convGradCases}).
 */
import * as ax from '@axon/core';
import type { Tensor } from '@axon/core';
import { grad } from '@axon/autograd';
import conv from '../../fixtures/torch-conv.json';
import { checkClose, ensure, fmt } from '../check.js';
import { evaluate, group, it, type Suite } from '../harness.js';
import { hostOf, type HostTensor, uniform, makeHost } from '../inputs.js';
import type { Rng } from '../rng.js';
import { TOLERANCES } from '../tolerances.js';

type Attrs = Readonly<Record<string, unknown>>;
const CALL: Readonly<Record<string, (a: Attrs, ...x: Tensor[]) => Tensor>> = {
  conv1d: (a, x, w, b) => ax.conv1d(x!, w!, { ...(a as ax.Conv1dOptions), bias: b ?? null }),
  convTranspose2d: (a, x, w, b) =>
    ax.convTranspose2d(x!, w!, { stride: a.stride as number, padding: a.padding as number, outputPadding: a.output_padding as number, dilation: a.dilation as number, groups: a.groups as number, bias: b ?? null }),
  convTranspose1d: (a, x, w) => ax.convTranspose1d(x!, w!, { stride: a.stride as number, padding: a.padding as number, outputPadding: a.output_padding as number }),
  maxPool1d: (a, x) => ax.maxPool1d(x!, a.kernel as number, { stride: a.stride as number, padding: a.padding as number }),
  avgPool1d: (a, x) => ax.avgPool1d(x!, a.kernel as number, { stride: a.stride as number, padding: a.padding as number, countIncludePad: a.countIncludePad as boolean }),
  avgPool2dIncludePad: (a, x) => ax.avgPool2d(x!, a.kernel as number, { stride: a.stride as number, padding: a.padding as number | [number, number], countIncludePad: true }),
  upsample: (a, x) => ax.upsample(x!, a as ax.UpsampleOptions),
};

interface ConvCase {
  readonly op: string;
  readonly attrs: Attrs;
  readonly inputs: readonly { shape: number[]; data: number[] }[];
  readonly shape: number[];
  readonly forward: number[];
  readonly weights: number[];
  readonly grads: number[][];
}

/** A tensor of row-major `data`, optionally as a reversed-axes view of reversed-axes storage. */
function build(shape: readonly number[], data: readonly number[], view: boolean): Tensor {
  if (!view || shape.length < 2) return ax.tensor(Float32Array.from(data), shape);
  const r = shape.length;
  const rev = [...shape].reverse();
  const st = new Float32Array(data.length);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const rstrides = rev.map((_, i) => rev.slice(i + 1).reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) {
    let off = 0;
    for (let d = 0; d < r; d++) off += (Math.floor(i / strides[d]!) % shape[d]!) * rstrides[r - 1 - d]!;
    st[off] = data[i]!;
  }
  return ax.tensor(st, rev).permute(rev.map((_, i) => r - 1 - i));
}

export function conv1dTests(s: Suite): void {
  group(s, 'conv1d / transposed conv / pooling 1-D / upsample', () => {
    const cases = (conv as unknown as { cases: ConvCase[] }).cases;
    for (const view of [false, true]) {
      it(`PyTorch ${(conv as { torch: string }).torch} (float64): ${cases.length} cases, values and gradients, ${view ? 'permuted-view' : 'contiguous'} inputs (fixtures/torch-conv.json)`, async () => {
        for (const [i, k] of cases.entries()) {
          const call = CALL[k.op];
          ensure(call !== undefined, s.ctx(`torch-conv ${k.op}`), `no Axon call for fixture op '${k.op}'`);
          const c = s.ctx(`${k.op}${JSON.stringify(k.attrs)} vs PyTorch (case ${i})`, `${k.inputs.map((x) => fmt(x.shape)).join(' , ')}${view ? ' (views)' : ''}`);
          const outs = await evaluate(c, () => {
            const xs = k.inputs.map((x) => build(x.shape, x.data, view));
            const y = call(k.attrs, ...xs);
            return [y, ...grad((...ts: Tensor[]) => ax.sum(ax.mul(call(k.attrs, ...ts), ax.tensor(k.weights, k.shape))))(...xs)];
          });
          checkClose(outs[0]!, { shape: k.shape, values: Float64Array.from(k.forward) }, 'float32', TOLERANCES.torch, { ...c, op: `${c.op}: values` });
          k.grads.forEach((g, q) => checkClose(outs[1 + q]!, { shape: k.inputs[q]!.shape, values: Float64Array.from(g) }, 'float32', TOLERANCES.torch, { ...c, op: `${c.op}: gradient of input ${q}` }));
        }
      });
    }

    it("a dilated 'same' window whose outer taps miss the input entirely (dilation 2^18, 2^24): only the centre tap counts", async () => {
      const c = s.ctx("conv1d 'same' with a huge dilation");
      for (const dilation of [2 ** 16, 2 ** 18, 2 ** 24]) {
        const [got] = await evaluate(c, () => ax.conv1d(ax.tensor([1, 2], [1, 1, 2]), ax.tensor([3, 5, 7], [1, 1, 3]), { padding: 'same', dilation }));
        checkClose(got!, { shape: [1, 1, 2], values: Float64Array.from([5, 10]) }, 'float32', TOLERANCES.exact, { ...c, op: `${c.op} (dilation ${dilation})` });
      }
    });

    it('bad arguments are AxonErrors naming the op', () => {
      const c = s.ctx('conv1d / convTranspose / pool1d / upsample errors');
      const x3 = ax.ones([1, 2, 5]);
      const x4 = ax.ones([1, 2, 3, 3]);
      const bad: [string, () => unknown][] = [
        ['conv1d', () => ax.conv1d(x3, ax.ones([2, 3, 2]))],
        ['conv1d', () => ax.conv1d(x4, ax.ones([2, 2, 2]))],
        ['conv1d', () => ax.conv1d(x3, ax.ones([2, 2, 2]), { stride: 0 })],
        ['convTranspose2d', () => ax.convTranspose2d(x4, ax.ones([3, 1, 2, 2]))],
        ['convTranspose2d', () => ax.convTranspose2d(x4, ax.ones([2, 1, 2, 2]), { stride: 2, dilation: 2, outputPadding: 2 })],
        ['convTranspose2d', () => ax.convTranspose2d(x4, ax.ones([2, 1, 2, 2]), { bias: ax.ones([3]) })],
        ['maxPool1d', () => ax.maxPool1d(x3, 0)],
        ['avgPool1d', () => ax.avgPool1d(x3, 9)],
        ['maxPool2d', () => ax.maxPool2d(x4, 2, { countIncludePad: true })],
        ['upsample', () => ax.upsample(x3, { mode: 'bilinear', scaleFactor: 2 })],
        ['upsample', () => ax.upsample(x3, {})],
        ['upsample', () => ax.upsample(x3, { size: 0 })],
        ['upsample', () => ax.upsample(x3, { scaleFactor: 2, alignCorners: true })],
        ['upsample', () => ax.upsample(x3, ax.ones([3, 3]) as unknown as ax.UpsampleOptions)],
        ['maxPool1d', () => ax.maxPool1d(x3, 2, { groups: 3 } as unknown as ax.Pool1dOptions)],
        ['convTranspose1d', () => ax.convTranspose1d(x3, ax.ones([2, 3, 3]), { groups: 3 })],
        ['convTranspose1d', () => ax.convTranspose1d(x3, ax.ones([2, 3, 3]), { stride: 2.5 })],
        ['convTranspose1d', () => ax.convTranspose1d(ax.ones([1, 2, 6]), ax.ones([2, 3, 1]), { padding: 5 })],
        ['avgPool1d', () => ax.avgPool1d(x3, 3, { padding: [1e12, 1e12] })],
      ];
      const before = ax.memory().numTensors;
      for (const [op, f] of bad) {
        let err: unknown = null;
        try {
          ax.tidy(() => void f());
        } catch (e) {
          err = e;
        }
        ensure(err instanceof ax.AxonError && err.op === op, c, `${op}: expected an AxonError from '${op}', got ${String(err)}`);
      }
      ensure(ax.memory().numTensors === before, c, 'failed calls leak nothing');
      x3.dispose();
      x4.dispose();
    });
  });
}

interface GradCase {
  name: string;
  inputs: (r: Rng) => HostTensor[];
  f: (...x: Tensor[]) => Tensor;
}

/** Finite-difference checks (in the 'gradients' group); `wsum` is that group's weighted sum. */
export function convGradCases(wsum: (y: Tensor, seed: number) => Tensor): GradCase[] {
  const u = (shape: number[]) => (r: Rng): HostTensor => makeHost(r, shape, 'float32', uniform(-1, 1));
  return [
    { name: 'conv1d (stride 2, padding, groups 2, bias) / convTranspose1d', inputs: (r) => [u([2, 4, 7])(r), u([4, 2, 3])(r), u([4])(r), u([4, 3, 2])(r)], f: (x, w, b, wt) => ax.add(wsum(ax.conv1d(x!, w!, { stride: 2, padding: 1, groups: 2, bias: b! }), 50), wsum(ax.convTranspose1d(x!, wt!, { stride: 2 }), 51)) },
    { name: 'convTranspose2d (stride 2, padding 1, outputPadding 1, bias)', inputs: (r) => [u([1, 2, 3, 3])(r), u([2, 3, 3, 3])(r), u([3])(r)], f: (x, w, b) => wsum(ax.convTranspose2d(x!, w!, { stride: 2, padding: 1, outputPadding: 1, bias: b! }), 52) },
    { name: 'avgPool2d countIncludePad / avgPool1d / upsample (bilinear, nearest)', inputs: (r) => [u([1, 2, 4, 5])(r), hostOf([0.3, -0.2, 0.9, 0.1, -0.7, 0.5], [1, 2, 3])], f: (x, y) => ax.add(ax.add(wsum(ax.avgPool2d(x!, 3, { stride: 2, padding: 1, countIncludePad: true }), 53), wsum(ax.avgPool1d(y!, 2, { padding: 1 }), 54)), ax.add(wsum(ax.upsample(x!, { scaleFactor: [2, 1.5], mode: 'bilinear' }), 55), wsum(ax.upsample(y!, { size: 5 }), 56))) },
  ];
}
