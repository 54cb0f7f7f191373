/**
 * loadOnnx: Resize (nearest, linear and cubic, every coordinate and nearest mode it supports, scales or
 * sizes, opset 18's axes and keep_aspect_ratio_policy), MaxPool/AveragePool with ceil_mode, and
 * auto_pad SAME_UPPER / SAME_LOWER (Conv, MaxPool, AveragePool) on hand-built graphs: Axon on WASM
 * and WebGPU against onnxruntime-node (rtol 1e-4, atol 1e-5); SAME padding also against a float64
 * reference; unsupported values are AxonErrors naming the node and the attribute.
 * (PyTorch's own Resize and ceil_mode exports are the `resize` and `ceilpool` fixtures of import-torch.test.ts.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { AxonError, type Tensor, memory, noGrad, setBackend, tensor } from '@axon/core';
import '@axon/autograd';
import { DataType } from '../src/proto.js';
import { parseOnnx } from '../src/index.js';
import { F, I, Is, S, type Attr, type Feed, type GraphSpec, build, f32, i64, node, ortRun, vi } from './import-builder.js';
import { describeOnWebGPU, expectAllClose } from './import-helpers.js';

const FLOAT = DataType.FLOAT;

function rnd(n: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return (s / 2 ** 31) * 4 - 2;
  });
}
const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const feed = (shape: number[], seed: number): Feed => ({ shape, data: rnd(numel(shape), seed) });
const x = (name: string, dims: number[]): ReturnType<typeof vi> => vi(name, FLOAT, dims);
const resize = (out: string, attrs: Attr[], scales = '', sizes = ''): ReturnType<typeof node> => node('Resize', sizes ? ['x', '', '', sizes] : ['x', '', scales], [out], attrs);
const sc = (name: string, v: number[]): ReturnType<typeof f32> => f32(name, [v.length], v);

interface OpCase {
  name: string;
  graph: GraphSpec;
  feeds: Record<string, Feed>;
}

const W1 = rnd(3 * 2 * 4 * 3, 1);
const W2 = rnd(2 * 2 * 3 * 2, 2);
const W3 = rnd(4 * 3 * 4, 3);

const CASES: OpCase[] = [
  {
    name: 'Conv auto_pad SAME_UPPER / SAME_LOWER: stride 2 with odd total pads, 1-D',
    graph: {
      nodes: [
        node('Conv', ['x', 'w1'], ['a'], [S('auto_pad', 'SAME_UPPER'), Is('strides', [2, 2])]),
        node('Conv', ['x', 'w1', 'b1'], ['b'], [S('auto_pad', 'SAME_LOWER'), Is('strides', [2, 2])]),
        node('Conv', ['x', 'w2'], ['c'], [S('auto_pad', 'SAME_LOWER')]),
        node('Conv', ['v', 'w3'], ['d'], [S('auto_pad', 'SAME_UPPER'), Is('strides', [3])]),
      ],
      inputs: [x('x', [1, 2, 7, 8]), x('v', [2, 3, 10])],
      inits: [f32('w1', [3, 2, 4, 3], W1), f32('b1', [3], [0.1, -0.2, 0.3]), f32('w2', [2, 2, 3, 2], W2), f32('w3', [4, 3, 4], W3)],
      outputs: ['a', 'b', 'c', 'd'],
    },
    feeds: { x: feed([1, 2, 7, 8], 4), v: feed([2, 3, 10], 5) },
  },
  {
    name: 'ConvTranspose: asymmetric pads, auto_pad SAME_UPPER / SAME_LOWER (odd total padding, output_padding, dilation), 1-D',
    graph: {
      nodes: [
        node('ConvTranspose', ['x', 'wt', 'bt'], ['a'], [Is('strides', [2, 2]), Is('pads', [1, 0, 2, 1])]),
        node('ConvTranspose', ['x', 'wt'], ['b'], [S('auto_pad', 'SAME_UPPER'), Is('strides', [2, 2])]),
        node('ConvTranspose', ['x', 'wt'], ['c'], [S('auto_pad', 'SAME_LOWER'), Is('strides', [2, 3]), Is('output_padding', [1, 0])]),
        node('ConvTranspose', ['x', 'wt'], ['d'], [S('auto_pad', 'SAME_UPPER'), Is('dilations', [2, 1])]),
        node('ConvTranspose', ['v', 'wv'], ['e'], [S('auto_pad', 'SAME_LOWER'), Is('strides', [3])]),
        node('ConvTranspose', ['v', 'wv'], ['f'], [Is('strides', [2]), Is('pads', [0, 3])]),
      ],
      inputs: [x('x', [1, 2, 4, 5]), x('v', [2, 3, 6])],
      inits: [f32('wt', [2, 3, 3, 4], rnd(72, 15)), f32('bt', [3], [0.2, -0.1, 0.05]), f32('wv', [3, 2, 4], rnd(24, 16))],
      outputs: ['a', 'b', 'c', 'd', 'e', 'f'],
    },
    feeds: { x: feed([1, 2, 4, 5], 17), v: feed([2, 3, 6], 18) },
  },
  {
    name: 'MaxPool / AveragePool auto_pad SAME_UPPER / SAME_LOWER (count_include_pad 0 and 1), 2-D and 1-D',
    graph: {
      nodes: [
        node('MaxPool', ['x'], ['a'], [S('auto_pad', 'SAME_LOWER'), Is('kernel_shape', [3, 2]), Is('strides', [2, 3])]),
        node('AveragePool', ['x'], ['b'], [S('auto_pad', 'SAME_UPPER'), Is('kernel_shape', [4, 3]), Is('strides', [3, 2])]),
        node('AveragePool', ['x'], ['c'], [S('auto_pad', 'SAME_LOWER'), Is('kernel_shape', [4, 3]), Is('strides', [3, 2]), I('count_include_pad', 1)]),
        node('MaxPool', ['v'], ['d'], [S('auto_pad', 'SAME_UPPER'), Is('kernel_shape', [4])]),
        node('AveragePool', ['v'], ['e'], [S('auto_pad', 'SAME_LOWER'), Is('kernel_shape', [4]), Is('strides', [3])]),
      ],
      inputs: [x('x', [1, 2, 7, 8]), x('v', [2, 3, 10])],
      outputs: ['a', 'b', 'c', 'd', 'e'],
    },
    feeds: { x: feed([1, 2, 7, 8], 6), v: feed([2, 3, 10], 7) },
  },
  {
    name: 'MaxPool / AveragePool ceil_mode: overhang past half the kernel, pads with count_include_pad 0 and 1, a window that would start in the end padding, SAME_UPPER, 1-D',
    graph: {
      nodes: [
        node('MaxPool', ['x'], ['a'], [Is('kernel_shape', [3, 3]), Is('strides', [3, 3]), I('ceil_mode', 1)]),
        node('AveragePool', ['x'], ['b'], [Is('kernel_shape', [3, 3]), Is('strides', [2, 2]), Is('pads', [1, 1, 1, 1]), I('ceil_mode', 1), I('count_include_pad', 1)]),
        node('AveragePool', ['x'], ['c'], [Is('kernel_shape', [3, 3]), Is('strides', [2, 2]), Is('pads', [1, 1, 1, 1]), I('ceil_mode', 1)]),
        node('AveragePool', ['x'], ['d'], [Is('kernel_shape', [2, 4]), Is('strides', [3, 3]), Is('pads', [1, 1, 0, 2]), I('ceil_mode', 1), I('count_include_pad', 1)]),
        node('MaxPool', ['x'], ['e'], [Is('kernel_shape', [2, 2]), Is('strides', [2, 2]), Is('pads', [1, 1, 1, 1]), I('ceil_mode', 1)]),
        node('MaxPool', ['x'], ['f'], [Is('kernel_shape', [3, 3]), Is('strides', [2, 2]), S('auto_pad', 'SAME_UPPER'), I('ceil_mode', 1)]),
        node('AveragePool', ['x'], ['g'], [Is('kernel_shape', [3, 3]), Is('strides', [3, 3]), I('ceil_mode', 1)]),
        node('AveragePool', ['v'], ['h'], [Is('kernel_shape', [3]), Is('strides', [2]), Is('pads', [1, 0]), I('ceil_mode', 1)]),
        node('MaxPool', ['v'], ['i'], [Is('kernel_shape', [3]), Is('strides', [3]), I('ceil_mode', 1)]),
      ],
      inputs: [x('x', [2, 2, 7, 10]), x('v', [2, 3, 10])],
      outputs: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'],
    },
    feeds: { x: feed([2, 2, 7, 10], 8), v: feed([2, 3, 10], 9) },
  },
  {
    name: 'MaxPool / AveragePool with pads over half the kernel (ONNX allows up to kernel − 1; core pools take half), with and without ceil_mode',
    graph: {
      nodes: [
        node('MaxPool', ['x'], ['a'], [Is('kernel_shape', [3, 3]), Is('pads', [2, 0, 1, 2])]),
        node('AveragePool', ['x'], ['b'], [Is('kernel_shape', [3, 4]), Is('strides', [2, 2]), Is('pads', [2, 3, 2, 1])]),
        node('AveragePool', ['x'], ['c'], [Is('kernel_shape', [3, 4]), Is('strides', [2, 2]), Is('pads', [2, 3, 2, 1]), I('count_include_pad', 1)]),
        node('MaxPool', ['x'], ['d'], [Is('kernel_shape', [3, 3]), Is('strides', [2, 2]), Is('pads', [2, 2, 2, 2]), I('ceil_mode', 1)]),
        node('AveragePool', ['v'], ['e'], [Is('kernel_shape', [4]), Is('strides', [3]), Is('pads', [3, 1]), I('ceil_mode', 1), I('count_include_pad', 1)]),
      ],
      inputs: [x('x', [1, 2, 7, 10]), x('v', [2, 3, 10])],
      outputs: ['a', 'b', 'c', 'd', 'e'],
    },
    feeds: { x: feed([1, 2, 7, 10], 19), v: feed([2, 3, 10], 20) },
  },
  {
    name: 'Resize nearest: round_prefer_floor / round_prefer_ceil / floor / ceil with asymmetric, half_pixel, align_corners, pytorch_half_pixel, tf_half_pixel_for_nn; up and down; scales and sizes',
    graph: {
      nodes: [
        resize('a', [S('mode', 'nearest'), S('coordinate_transformation_mode', 'asymmetric'), S('nearest_mode', 'round_prefer_floor')], 's2'),
        resize('b', [S('mode', 'nearest'), S('coordinate_transformation_mode', 'asymmetric'), S('nearest_mode', 'round_prefer_ceil')], 's2'),
        resize('c', [S('coordinate_transformation_mode', 'half_pixel'), S('nearest_mode', 'ceil')], 'sfrac'),
        resize('d', [S('coordinate_transformation_mode', 'align_corners')], '', 'z1'),
        resize('e', [S('coordinate_transformation_mode', 'tf_half_pixel_for_nn'), S('nearest_mode', 'floor')], 'sdown'),
        resize('f', [S('coordinate_transformation_mode', 'pytorch_half_pixel'), S('nearest_mode', 'round_prefer_ceil')], '', 'z2'),
        resize('g', [], 'sfrac'),
      ],
      inputs: [x('x', [1, 2, 4, 5])],
      inits: [sc('s2', [1, 1, 2, 2]), sc('sfrac', [1, 1, 0.6, 1.7]), sc('sdown', [1, 1, 3, 0.5]), i64('z1', [4], [1, 2, 7, 3]), i64('z2', [4], [1, 2, 6, 8])],
      outputs: ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
    },
    feeds: { x: feed([1, 2, 4, 5], 10) },
  },
  {
    name: 'Resize linear: half_pixel, pytorch_half_pixel (an output of 1), align_corners, asymmetric; up and down; a 3-D input',
    graph: {
      nodes: [
        resize('a', [S('mode', 'linear')], 'sup'),
        resize('b', [S('mode', 'linear'), S('coordinate_transformation_mode', 'pytorch_half_pixel')], '', 'z1'),
        resize('c', [S('mode', 'linear'), S('coordinate_transformation_mode', 'align_corners')], '', 'z2'),
        resize('d', [S('mode', 'linear'), S('coordinate_transformation_mode', 'asymmetric')], 'sdown'),
        resize('e', [S('mode', 'linear'), S('coordinate_transformation_mode', 'half_pixel')], 'sdown2'),
        node('Resize', ['v', '', 's1d'], ['f'], [S('mode', 'linear')]),
      ],
      inputs: [x('x', [1, 2, 4, 5]), x('v', [2, 3, 6])],
      inits: [sc('sup', [1, 1, 1.5, 2.2]), sc('sdown', [1, 1, 0.5, 0.6]), sc('sdown2', [1, 1, 0.75, 0.4]), sc('s1d', [1, 1, 1.7]), i64('z1', [4], [1, 2, 1, 3]), i64('z2', [4], [1, 2, 3, 9])],
      outputs: ['a', 'b', 'c', 'd', 'e', 'f'],
    },
    feeds: { x: feed([1, 2, 4, 5], 11), v: feed([2, 3, 6], 12) },
  },
  {
    name: 'Resize cubic: cubic_coeff_a -0.75 and -0.5, exclude_outside 0 and 1, half_pixel, align_corners, asymmetric; up and down',
    graph: {
      nodes: [
        resize('a', [S('mode', 'cubic'), F('cubic_coeff_a', -0.75)], 'sup'),
        resize('b', [S('mode', 'cubic'), I('exclude_outside', 1)], 'sup'),
        resize('c', [S('mode', 'cubic'), S('coordinate_transformation_mode', 'align_corners')], '', 'z1'),
        resize('d', [S('mode', 'cubic'), S('coordinate_transformation_mode', 'asymmetric'), I('exclude_outside', 1)], 'sdown'),
        resize('e', [S('mode', 'cubic'), S('coordinate_transformation_mode', 'pytorch_half_pixel'), F('cubic_coeff_a', -0.5)], '', 'z2'),
      ],
      inputs: [x('x', [1, 2, 4, 5])],
      inits: [sc('sup', [1, 1, 1.5, 2.2]), sc('sdown', [1, 1, 0.5, 0.6]), i64('z1', [4], [1, 2, 7, 3]), i64('z2', [4], [1, 2, 3, 8])],
      outputs: ['a', 'b', 'c', 'd', 'e'],
    },
    feeds: { x: feed([1, 2, 4, 5], 14) },
  },
  {
    name: 'Resize opset 18: axes with sizes (keep_aspect_ratio_policy not_larger, not_smaller) and with scales',
    graph: {
      opset: 18,
      nodes: [
        node('Resize', ['x', '', '', 'hw'], ['a'], [S('mode', 'linear'), Is('axes', [2, 3]), S('keep_aspect_ratio_policy', 'not_larger')]),
        node('Resize', ['x', '', '', 'hw'], ['b'], [Is('axes', [2, 3]), S('keep_aspect_ratio_policy', 'not_smaller')]),
        node('Resize', ['x', '', 'sw'], ['c'], [S('mode', 'linear'), Is('axes', [-1])]),
        node('Resize', ['x', '', '', 'hw'], ['d'], [S('mode', 'linear'), Is('axes', [2, 3]), S('coordinate_transformation_mode', 'align_corners')]),
      ],
      inputs: [x('x', [1, 2, 4, 5])],
      inits: [i64('hw', [2], [6, 7]), sc('sw', [2.5])],
      outputs: ['a', 'b', 'c', 'd'],
    },
    feeds: { x: feed([1, 2, 4, 5], 13) },
  },
];

function toAxon(f: Feed): Tensor {
  return tensor(Float32Array.from(f.data), f.shape, 'float32');
}

beforeAll(async () => {
  await import('@axon/backend-wasm');
  await setBackend('wasm');
});

function opSuite(backend: string): void {
  for (const c of CASES) {
    it(c.name, async () => {
      await setBackend(backend);
      const bytes = build(c.graph);
      const want = await ortRun(bytes, c.feeds);
      const model = parseOnnx(bytes);
      const before = memory().numTensors;
      const ins = c.graph.inputs.map((i) => toAxon(c.feeds[i.name!]!));
      const outs = noGrad(() => model.run(...ins));
      expect(outs).toHaveLength(want.length);
      for (let k = 0; k < outs.length; k++) {
        expect(outs[k]!.shape, `${c.graph.outputs[k]} shape`).toEqual(want[k]!.dims);
        expectAllClose(Array.from(await outs[k]!.data(), Number), want[k]!.data, 1e-4, 1e-5, c.graph.outputs[k]);
      }
      for (const t of [...outs, ...ins]) t.dispose();
      expect(memory().numTensors).toBe(before);
      model.dispose();
    });
  }
}

describe('Resize, ceil_mode and auto_pad SAME against onnxruntime-node (WASM)', () => {
  opSuite('wasm');
});

describeOnWebGPU('Resize, ceil_mode and auto_pad SAME against onnxruntime-node (WebGPU)', () => {
  opSuite('webgpu');
});

// ------------------------------------------------------------------ float64 reference for SAME
/** ONNX's SAME pads for one axis: [begin, end]. */
function samePads(len: number, k: number, s: number, d: number, upper: boolean): [number, number] {
  const out = Math.ceil(len / s);
  const total = Math.max(0, (out - 1) * s + (k - 1) * d + 1 - len);
  const small = Math.floor(total / 2);
  return upper ? [small, total - small] : [total - small, small];
}
interface Win {
  k: [number, number];
  s: [number, number];
  d: [number, number];
  upper: boolean;
}
/** Visits every output position of a 2-D window op over [H, W] with SAME pads: the input positions of its window (in bounds or not). */
function windows2d(H: number, W: number, w: Win, f: (oh: number, ow: number, taps: [number, number, number, number][]) => void): [number, number] {
  const [ph] = samePads(H, w.k[0], w.s[0], w.d[0], w.upper);
  const [pw] = samePads(W, w.k[1], w.s[1], w.d[1], w.upper);
  const OH = Math.ceil(H / w.s[0]);
  const OW = Math.ceil(W / w.s[1]);
  for (let oh = 0; oh < OH; oh++) {
    for (let ow = 0; ow < OW; ow++) {
      const taps: [number, number, number, number][] = [];
      for (let i = 0; i < w.k[0]; i++) for (let j = 0; j < w.k[1]; j++) taps.push([oh * w.s[0] - ph + i * w.d[0], ow * w.s[1] - pw + j * w.d[1], i, j]);
      f(oh, ow, taps);
    }
  }
  return [OH, OW];
}
function convRef(xs: number[], [C, H, W]: number[], ws: number[], CO: number, w: Win): number[] {
  const out: number[] = [];
  for (let co = 0; co < CO; co++) {
    windows2d(H, W, w, (_oh, _ow, taps) => {
      let acc = 0;
      for (let ci = 0; ci < C; ci++) for (const [h, v, i, j] of taps) if (h >= 0 && h < H && v >= 0 && v < W) acc += xs[(ci * H + h) * W + v]! * ws[((co * C + ci) * w.k[0] + i) * w.k[1] + j]!;
      out.push(acc);
    });
  }
  return out;
}
function poolRef(xs: number[], [C, H, W]: number[], kind: 'max' | 'avg', includePad: boolean, w: Win): number[] {
  const out: number[] = [];
  const [, pe0] = samePads(H, w.k[0], w.s[0], 1, w.upper);
  const [, pe1] = samePads(W, w.k[1], w.s[1], 1, w.upper);
  for (let c = 0; c < C; c++) {
    windows2d(H, W, w, (_oh, _ow, taps) => {
      const inside = taps.filter(([h, v]) => h >= 0 && h < H && v >= 0 && v < W).map(([h, v]) => xs[(c * H + h) * W + v]!);
      if (kind === 'max') out.push(Math.max(...inside));
      else out.push(inside.reduce((a, b) => a + b, 0) / (includePad ? taps.filter(([h, v]) => h < H + pe0 && v < W + pe1).length : inside.length));
    });
  }
  return out;
}

describe('auto_pad SAME against a float64 reference (WASM)', () => {
  it('Conv with SAME_UPPER / SAME_LOWER, strides and dilations (onnxruntime refuses dilations with SAME; the ONNX spec pads for the dilated kernel)', async () => {
    await setBackend('wasm');
    const [C, H, W, CO] = [2, 7, 9, 3];
    const xs = rnd(C * H * W, 21);
    const ws = rnd(CO * C * 3 * 4, 22);
    const xt = tensor(Float32Array.from(xs), [1, C, H, W]);
    for (const w of [
      { k: [3, 4], s: [2, 2], d: [1, 1], upper: true },
      { k: [3, 4], s: [2, 2], d: [1, 1], upper: false },
      { k: [3, 4], s: [1, 2], d: [2, 3], upper: false },
      { k: [3, 4], s: [3, 1], d: [2, 1], upper: true },
    ] as Win[]) {
      const m = parseOnnx(build({
        nodes: [node('Conv', ['x', 'w'], ['y'], [S('auto_pad', w.upper ? 'SAME_UPPER' : 'SAME_LOWER'), Is('strides', w.s), Is('dilations', w.d)])],
        inputs: [x('x', [1, C, H, W])],
        inits: [f32('w', [CO, C, 3, 4], ws)],
        outputs: ['y'],
      }));
      const y = noGrad(() => m.forward(xt));
      expect(y.shape).toEqual([1, CO, Math.ceil(H / w.s[0]), Math.ceil(W / w.s[1])]);
      expectAllClose(await y.data(), convRef(xs, [C, H, W], ws, CO, w), 1e-4, 1e-5, JSON.stringify(w));
      y.dispose();
      m.dispose();
    }
    xt.dispose();
  });

  it('MaxPool and AveragePool (count_include_pad 0 and 1) with SAME_UPPER / SAME_LOWER', async () => {
    await setBackend('wasm');
    const [C, H, W] = [2, 8, 7];
    const xs = rnd(C * H * W, 23);
    const xt = tensor(Float32Array.from(xs), [1, C, H, W]);
    for (const w of [
      { k: [3, 2], s: [2, 3], d: [1, 1], upper: true },
      { k: [4, 3], s: [3, 2], d: [1, 1], upper: false },
      { k: [2, 4], s: [1, 1], d: [1, 1], upper: false },
    ] as Win[]) {
      for (const [kind, include] of [['max', false], ['avg', false], ['avg', true]] as const) {
        const attrs = [S('auto_pad', w.upper ? 'SAME_UPPER' : 'SAME_LOWER'), Is('kernel_shape', w.k), Is('strides', w.s)];
        if (kind === 'avg') attrs.push(I('count_include_pad', include ? 1 : 0));
        const m = parseOnnx(build({ nodes: [node(kind === 'max' ? 'MaxPool' : 'AveragePool', ['x'], ['y'], attrs)], inputs: [x('x', [1, C, H, W])], outputs: ['y'] }));
        const y = noGrad(() => m.forward(xt));
        expect(y.shape).toEqual([1, C, Math.ceil(H / w.s[0]), Math.ceil(W / w.s[1])]);
        expectAllClose(await y.data(), poolRef(xs, [C, H, W], kind, include, w), 1e-4, 1e-5, `${kind} ${include} ${JSON.stringify(w)}`);
        y.dispose();
        m.dispose();
      }
    }
    xt.dispose();
  });
});

// ------------------------------------------------------------------ gradients
describe('gradients through Resize and ceil_mode pooling (WASM)', () => {
  it('reach the input: d(sum(y · r))/dx equals a central difference', async () => {
    await setBackend('wasm');
    const graphs: GraphSpec[] = [
      { nodes: [resize('y', [S('mode', 'linear')], 'sc')], inputs: [x('x', [1, 1, 3, 4])], inits: [sc('sc', [1, 1, 1.5, 1.7])], outputs: ['y'] },
      { nodes: [resize('y', [S('nearest_mode', 'floor'), S('coordinate_transformation_mode', 'asymmetric')], 'sc')], inputs: [x('x', [1, 1, 3, 4])], inits: [sc('sc', [1, 1, 2, 0.75])], outputs: ['y'] },
      { nodes: [resize('y', [S('mode', 'cubic'), I('exclude_outside', 1)], 'sc')], inputs: [x('x', [1, 1, 3, 4])], inits: [sc('sc', [1, 1, 1.5, 1.7])], outputs: ['y'] },
      { nodes: [node('AveragePool', ['x'], ['y'], [Is('kernel_shape', [2, 3]), Is('strides', [2, 3]), Is('pads', [1, 1, 0, 0]), I('ceil_mode', 1)])], inputs: [x('x', [1, 1, 3, 4])], outputs: ['y'] },
      { nodes: [node('MaxPool', ['x'], ['y'], [Is('kernel_shape', [2, 3]), Is('strides', [2, 3]), I('ceil_mode', 1)])], inputs: [x('x', [1, 1, 3, 4])], outputs: ['y'] },
    ];
    const xs = rnd(12, 31);
    for (const g of graphs) {
      const m = parseOnnx(build(g));
      const value = (data: number[]): number => {
        const y = noGrad(() => m.forward(tensor(Float32Array.from(data), [1, 1, 3, 4])));
        const r = rnd(y.size, 32);
        const v = Array.from(y.dataSync()).reduce((a, b, i) => a + b * r[i]!, 0);
        y.dispose();
        return v;
      };
      const xt = tensor(Float32Array.from(xs), [1, 1, 3, 4]).requireGrad();
      const y = m.forward(xt);
      const loss = y.mul(tensor(Float32Array.from(rnd(y.size, 32)), y.shape)).sum();
      loss.backward();
      const grad = Array.from(xt.grad!.dataSync());
      const h = 1e-2;
      const fd = xs.map((_, i) => (value(xs.map((v, j) => (j === i ? v + h : v))) - value(xs.map((v, j) => (j === i ? v - h : v)))) / (2 * h));
      expectAllClose(grad, fd, 1e-2, 1e-3, g.nodes[0]!.opType!);
      for (const t of [xt, y, loss]) t.dispose();
      m.dispose();
    }
  });
});

// ------------------------------------------------------------------ errors
function expectLoadError(bytes: Uint8Array, re: RegExp): void {
  const before = memory();
  let err: unknown = null;
  try {
    parseOnnx(bytes).dispose();
  } catch (e) {
    err = e;
  }
  expect(err, 'an AxonError').toBeInstanceOf(AxonError);
  expect((err as Error).message).toMatch(re);
  expect(memory().numTensors).toBe(before.numTensors);
  expect(memory().numBytes).toBe(before.numBytes);
}
const one = (n: ReturnType<typeof node>, opset = 17, inits: GraphSpec['inits'] = [sc('s', [1, 1, 2, 2])]): Uint8Array => build({ nodes: [n], inputs: [x('x', [1, 1, 4, 4])], inits, outputs: ['y'], opset });

describe('unsupported values are AxonErrors naming the node and the attribute', () => {
  it('at load, before anything is allocated: Resize modes, pooling and padding attributes', () => {
    const r = (attrs: Attr[], opset = 17): Uint8Array => one(node('Resize', ['x', '', 's'], ['y'], attrs, 'up'), opset);
    expectLoadError(r([S('mode', 'area')]), /Resize 'up'.*mode "area" is not supported \(supported: nearest, linear, cubic\)/);
    expectLoadError(r([S('mode', 'cubic'), I('exclude_outside', 2)]), /Resize 'up'.*exclude_outside 2 is not supported \(supported: 0 or 1\)/);
    expectLoadError(r([S('coordinate_transformation_mode', 'tf_crop_and_resize')]), /Resize 'up'.*coordinate_transformation_mode "tf_crop_and_resize" is not supported/);
    expectLoadError(r([S('nearest_mode', 'round')]), /Resize 'up'.*nearest_mode "round" is not supported \(supported: round_prefer_floor, round_prefer_ceil, floor, ceil\)/);
    expectLoadError(r([I('antialias', 1)], 18), /Resize 'up'.*antialias 1 is not supported/);
    expectLoadError(r([S('keep_aspect_ratio_policy', 'fit')], 18), /Resize 'up'.*keep_aspect_ratio_policy "fit" is not supported/);
    const p = (op: string, attrs: Attr[]): Uint8Array => one(node(op, ['x'], ['y'], attrs, 'pool'));
    expectLoadError(p('MaxPool', [Is('kernel_shape', [2, 2]), I('ceil_mode', 2)]), /MaxPool 'pool'.*ceil_mode 2 is not supported \(supported: 0 or 1\)/);
    expectLoadError(p('MaxPool', [Is('kernel_shape', [2, 2]), S('auto_pad', 'SAME')]), /MaxPool 'pool'.*auto_pad "SAME" is not supported \(supported: NOTSET, VALID, SAME_UPPER, SAME_LOWER\)/);
    expectLoadError(p('AveragePool', [Is('kernel_shape', [2, 2]), S('auto_pad', 'SAME_UPPER'), Is('pads', [1, 1, 1, 1])]), /AveragePool 'pool'.*pads \[1,1,1,1\] cannot be given with auto_pad SAME_UPPER/);
    expectLoadError(p('MaxPool', [Is('kernel_shape', [2, 2]), Is('dilations', [2, 2])]), /MaxPool 'pool'.*dilations \[2,2\] is not supported \(supported: all 1\)/);
    expectLoadError(p('MaxPool', [Is('kernel_shape', [2, 2]), I('storage_order', 1)]), /MaxPool 'pool'.*storage_order 1 is not supported/);
    expectLoadError(p('AveragePool', [I('ceil_mode', 1)]), /AveragePool 'pool'.*kernel_shape is required/);
    expectLoadError(p('AveragePool', [Is('kernel_shape', [2, 2]), Is('pads', [1, 1])]), /AveragePool 'pool'.*pads \[1,1\] must have 4 values/);
    expectLoadError(p('MaxPool', [Is('kernel_shape', [2, 0])]), /MaxPool 'pool'.*kernel_shape \[2,0\] must be positive integers/);
    expectLoadError(p('MaxPool', [Is('kernel_shape', [2, 3]), Is('pads', [0, 3, 1, 0])]), /MaxPool 'pool'.*pads \[0,3,1,0\] must be smaller than kernel_shape \[2,3\]/);
    expectLoadError(one(node('Conv', ['x', 'w'], ['y'], [S('auto_pad', 'same_upper')], 'conv'), 17, [f32('w', [1, 1, 2, 2], [1, 1, 1, 1])]), /Conv 'conv'.*auto_pad "same_upper" is not supported/);
    // Upsample is deprecated since opset 10: a file at opsets 13–18 uses Resize
    expectLoadError(one(node('Upsample', ['x', 's'], ['y'], [], 'up')), /unsupported operator Upsample \(node 'up'\).*deprecated since opset 10.*Resize/);
  });

  it('when the node runs (they depend on the inputs): scales and sizes, scales computed from data, a ConvTranspose SAME that needs negative pads', () => {
    const run = (bytes: Uint8Array, re: RegExp): void => {
      const m = parseOnnx(bytes);
      const input = tensor(new Float32Array(16), [1, 1, 4, 4]);
      const before = memory().numTensors;
      expect(() => noGrad(() => m.forward(input))).toThrow(re);
      expect(memory().numTensors).toBe(before);
      input.dispose();
      m.dispose();
    };
    const inits = [sc('s', [1, 1, 2, 2]), i64('z', [4], [1, 1, 8, 8]), sc('bad', [1, 2]), sc('neg', [1, 1, 0, 2])];
    run(one(node('Resize', ['x', '', 's', 'z'], ['y'], [], 'up'), 17, inits), /Resize 'up'.*needs exactly one of scales \(input 2\) and sizes \(input 3\), got both/);
    run(one(node('Resize', ['x'], ['y'], [], 'up'), 17, inits), /Resize 'up'.*got neither/);
    run(one(node('Resize', ['x', '', 'bad'], ['y'], [], 'up'), 17, inits), /Resize 'up'.*scales \[1,2\] must have 4 values/);
    run(one(node('Resize', ['x', '', 'neg'], ['y'], [], 'up'), 17, inits), /Resize 'up'.*scales \[1,1,0,2\] must be positive/);
    run(build({ nodes: [node('Abs', ['x'], ['a']), node('Resize', ['x', '', 'a'], ['y'], [], 'up')], inputs: [x('x', [1, 1, 4, 4])], outputs: ['y'] }), /Resize 'up'.*input 2 \(scales\) is computed from tensor data/);
    // a 1×1 kernel with stride 2 cannot reach in × stride: SAME would need a negative padding
    run(one(node('ConvTranspose', ['x', 'w'], ['y'], [S('auto_pad', 'SAME_UPPER'), Is('strides', [2, 2])], 'ct'), 17, [f32('w', [1, 1, 1, 1], [1])]), /ConvTranspose 'ct'.*auto_pad SAME_UPPER needs a negative padding \(-1\) on spatial axis 0/);
  });
});
