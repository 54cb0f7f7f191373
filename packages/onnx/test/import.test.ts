/**
 * loadOnnx / parseOnnx: operators on small hand-built graphs (Axon on WASM against
 * onnxruntime-node, rtol 1e-4, atol 1e-5), host shape subgraphs, the model's API (names, shapes,
 * stateDict, parameters, memory), fine-tuning an imported PyTorch model, and the load-time errors.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { AxonError, type Tensor, memory, noGrad, randn, resetPeakMemory, setBackend, setSeed, tensor, tidy } from '@axon/core';
import '@axon/autograd';
import { DataType } from '../src/proto.js';
import { MAX_ONNX_NODES, loadOnnx, parseOnnx } from '../src/index.js';
import { F, Fs, I, Is, S, Ss, type GraphSpec, type Feed, T, build, f32, i64, node, ortRun, vi } from './import-builder.js';
import { axonTensor, describeOnWebGPU, expectAllClose, fixture, fixtureBytes } from './import-helpers.js';

const FLOAT = DataType.FLOAT;
const INT64 = DataType.INT64;

function rnd(n: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return (s / 2 ** 31) * 4 - 2;
  });
}
function feed(shape: number[], seed: number): Feed {
  return { shape, data: rnd(shape.reduce((a, b) => a * b, 1), seed) };
}
function toAxon(f: Feed): Tensor {
  if (f.dtype === 'int64') return tensor(Int32Array.from(f.data), f.shape, 'int32');
  if (f.dtype === 'bool') return tensor(Int32Array.from(f.data), f.shape, 'bool');
  return tensor(Float32Array.from(f.data), f.shape, 'float32');
}

interface OpCase {
  name: string;
  graph: GraphSpec;
  feeds: Record<string, Feed>;
}
const x = (name: string, dims: number[]): ReturnType<typeof vi> => vi(name, FLOAT, dims);

const CASES: OpCase[] = [
  {
    name: 'Slice with negative steps, clamped ends and axes',
    graph: {
      nodes: [node('Slice', ['x', 'st', 'en', 'ax', 'sp'], ['y'])],
      inputs: [x('x', [4, 6])],
      inits: [i64('st', [2], [-1, 5]), i64('en', [2], [-100, 0]), i64('ax', [2], [0, -1]), i64('sp', [2], [-1, -2])],
      outputs: ['y'],
    },
    feeds: { x: feed([4, 6], 1) },
  },
  {
    name: 'Slice with a step of 2 and an end past the dimension',
    graph: { nodes: [node('Slice', ['x', 'st', 'en', 'ax', 'sp'], ['y'])], inputs: [x('x', [3, 7])], inits: [i64('st', [1], [1]), i64('en', [1], [1000]), i64('ax', [1], [1]), i64('sp', [1], [2])], outputs: ['y'] },
    feeds: { x: feed([3, 7], 2) },
  },
  {
    name: 'ReduceSum (axes input), ReduceMax (axes attribute), ReduceProd, ReduceMin over everything',
    graph: {
      nodes: [
        node('ReduceSum', ['x', 'ax'], ['a'], [I('keepdims', 0)]),
        node('ReduceMax', ['x'], ['b'], [Is('axes', [0, 2]), I('keepdims', 1)]),
        node('ReduceProd', ['x'], ['c'], [Is('axes', [1])]),
        node('ReduceMin', ['x'], ['d'], [I('keepdims', 0)]),
      ],
      inputs: [x('x', [2, 3, 4])],
      inits: [i64('ax', [1], [-1])],
      outputs: ['a', 'b', 'c', 'd'],
    },
    feeds: { x: feed([2, 3, 4], 3) },
  },
  {
    name: 'opset 18: ReduceMean/ReduceMax with axes as an input, Split with num_outputs (uneven)',
    graph: {
      opset: 18,
      nodes: [
        node('ReduceMean', ['x', 'ax'], ['a'], [I('keepdims', 1)]),
        node('ReduceMax', ['x', 'ax'], ['m'], [I('keepdims', 0)]),
        node('Split', ['x'], ['p', 'q', 'r'], [I('axis', 2), I('num_outputs', 3)]),
      ],
      inputs: [x('x', [2, 3, 7])],
      inits: [i64('ax', [2], [0, 2])],
      outputs: ['a', 'm', 'p', 'q', 'r'],
    },
    feeds: { x: feed([2, 3, 7], 4) },
  },
  {
    name: 'Split with a split input; Concat of device tensors',
    graph: {
      nodes: [node('Split', ['x', 'sp'], ['a', 'b'], [I('axis', 1)]), node('Concat', ['b', 'a', 'b'], ['y'], [I('axis', 1)])],
      inputs: [x('x', [2, 5])],
      inits: [i64('sp', [2], [2, 3])],
      outputs: ['y'],
    },
    feeds: { x: feed([2, 5], 5) },
  },
  {
    name: 'GatherElements along axis 1 (constant indices with a negative one) and axis 0 (indices from an input)',
    graph: {
      nodes: [node('GatherElements', ['x', 'idx'], ['a'], [I('axis', 1)]), node('GatherElements', ['x', 'tok'], ['b'], [I('axis', 0)])],
      inputs: [x('x', [3, 4]), vi('tok', INT64, [2, 3])],
      inits: [i64('idx', [3, 2], [0, 3, -1, 1, 2, 2])],
      outputs: ['a', 'b'],
    },
    feeds: { x: feed([3, 4], 42), tok: { shape: [2, 3], data: [2, 0, 1, 1, 2, -3], dtype: 'int64' } },
  },
  {
    name: 'Pad (constant value, a negative pad crops)',
    graph: { nodes: [node('Pad', ['x', 'pads', 'v'], ['y'], [S('mode', 'constant')])], inputs: [x('x', [2, 3, 4])], inits: [i64('pads', [6], [0, 1, -1, 1, 0, 2]), f32('v', [], [0.5])], outputs: ['y'] },
    feeds: { x: feed([2, 3, 4], 6) },
  },
  {
    name: 'ConvTranspose 2-D (stride 2, pads 1, output_padding 1, bias)',
    graph: {
      nodes: [node('ConvTranspose', ['x', 'w', 'b'], ['y'], [Is('strides', [2, 2]), Is('pads', [1, 1, 1, 1]), Is('output_padding', [1, 1]), Is('kernel_shape', [3, 3])])],
      inputs: [x('x', [1, 2, 4, 4])],
      inits: [f32('w', [2, 3, 3, 3], rnd(54, 7)), f32('b', [3], [0.1, -0.2, 0.3])],
      outputs: ['y'],
    },
    feeds: { x: feed([1, 2, 4, 4], 8) },
  },
  {
    name: 'Conv 1-D with groups 2, stride, dilation and asymmetric pads; MaxPool 1-D',
    graph: {
      nodes: [
        node('Conv', ['x', 'w'], ['c'], [I('group', 2), Is('strides', [2]), Is('dilations', [2]), Is('pads', [2, 1])]),
        node('MaxPool', ['c'], ['y'], [Is('kernel_shape', [2]), Is('strides', [1]), Is('pads', [1, 0])]),
      ],
      inputs: [x('x', [2, 4, 11])],
      inits: [f32('w', [6, 2, 3], rnd(36, 9))],
      outputs: ['y'],
    },
    feeds: { x: feed([2, 4, 11], 10) },
  },
  {
    name: 'AveragePool 2-D with pads, count_include_pad 0 and 1; GlobalMaxPool',
    graph: {
      nodes: [
        node('AveragePool', ['x'], ['a'], [Is('kernel_shape', [3, 2]), Is('pads', [1, 0, 1, 1]), Is('strides', [2, 1])]),
        node('AveragePool', ['x'], ['b'], [Is('kernel_shape', [3, 3]), Is('pads', [1, 1, 1, 1]), I('count_include_pad', 1)]),
        node('GlobalMaxPool', ['x'], ['g']),
      ],
      inputs: [x('x', [1, 2, 5, 5])],
      outputs: ['a', 'b', 'g'],
    },
    feeds: { x: feed([1, 2, 5, 5], 11) },
  },
  {
    name: 'Gather: negative indices along axis 1, a scalar index, indices from an input',
    graph: {
      nodes: [node('Gather', ['x', 'idx'], ['a'], [I('axis', 1)]), node('Gather', ['x', 'one'], ['b'], [I('axis', 0)]), node('Gather', ['x', 'tok'], ['c'])],
      inputs: [x('x', [3, 4]), vi('tok', INT64, [2, 2])],
      inits: [i64('idx', [3], [-1, 0, 2]), i64('one', [], [-2])],
      outputs: ['a', 'b', 'c'],
    },
    feeds: { x: feed([3, 4], 12), tok: { shape: [2, 2], data: [0, 2, -1, 1], dtype: 'int64' } },
  },
  {
    name: 'a shape subgraph on the host: Shape, Gather, Range, Cast, Unsqueeze, Concat, Reshape, ConstantOfShape, Expand',
    graph: {
      nodes: [
        node('Shape', ['x'], ['s']),
        node('Gather', ['s', 'i1'], ['n']),
        node('Range', ['zero', 'n', 'onei'], ['r']),
        node('Cast', ['r'], ['rf'], [I('to', FLOAT)]),
        node('Add', ['x', 'rf'], ['a']),
        node('Unsqueeze', ['n', 'ax0'], ['nu']),
        node('Concat', ['minus1', 'nu'], ['shape2'], [I('axis', 0)]),
        node('Reshape', ['a', 'shape2'], ['b']),
        node('ConstantOfShape', ['shape2b'], ['ones'], [T('value', f32('', [1], [1.5]))]),
        node('Shape', ['x'], ['s2'], [I('start', -1)]),
        node('Concat', ['three', 's2'], ['shape2b'], [I('axis', 0)]),
        node('Expand', ['b', 'shape3'], ['e']),
        node('Mul', ['ones', 'e'], ['y']),
      ],
      inputs: [x('x', [2, 3])],
      inits: [i64('i1', [], [1]), i64('zero', [], [0]), i64('onei', [], [1]), i64('ax0', [1], [0]), i64('minus1', [1], [-1]), i64('three', [1], [1]), i64('shape3', [3], [2, 1, 3])],
      outputs: ['y'],
    },
    feeds: { x: feed([2, 3], 13) },
  },
  {
    name: 'unary ops: Erf, Sin, Cos, Softplus, Elu, LeakyRelu, Abs, Neg, Reciprocal, Sign, Floor, Ceil, Exp, Log, Sqrt, Tanh, Sigmoid, Relu',
    graph: {
      nodes: [
        node('Erf', ['x'], ['a']),
        node('Sin', ['a'], ['b']),
        node('Cos', ['b'], ['c']),
        node('Softplus', ['x'], ['d']),
        node('Elu', ['x'], ['e'], [F('alpha', 0.7)]),
        node('LeakyRelu', ['x'], ['f'], [F('alpha', 0.2)]),
        node('Abs', ['x'], ['g']),
        node('Neg', ['g'], ['h']),
        node('Reciprocal', ['d'], ['i']),
        node('Sign', ['x'], ['j']),
        node('Floor', ['x'], ['k']),
        node('Ceil', ['x'], ['l']),
        node('Exp', ['h'], ['m']),
        node('Log', ['d'], ['n']),
        node('Sqrt', ['g'], ['o']),
        node('Tanh', ['x'], ['p']),
        node('Sigmoid', ['x'], ['q']),
        node('Relu', ['x'], ['r']),
        node('Sum', ['c', 'e', 'f', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r'], ['y']),
      ],
      inputs: [x('x', [3, 5])],
      outputs: ['y'],
    },
    feeds: { x: feed([3, 5], 14) },
  },
  {
    name: 'Where over comparisons and logic (Less, Greater, Equal, Not, And, Or, Xor, LessOrEqual, GreaterOrEqual); Cast bool to float',
    graph: {
      nodes: [
        node('Less', ['x', 'y'], ['lt']),
        node('Greater', ['x', 'zero'], ['gt']),
        node('Equal', ['lt', 'gt'], ['eq']),
        node('Not', ['eq'], ['ne']),
        node('And', ['ne', 'gt'], ['and']),
        node('Or', ['and', 'lt'], ['or']),
        node('LessOrEqual', ['x', 'zero'], ['le']),
        node('GreaterOrEqual', ['y', 'zero'], ['ge']),
        node('Xor', ['le', 'ge'], ['xor']),
        node('Where', ['or', 'x', 'y'], ['w']),
        node('Cast', ['xor'], ['xf'], [I('to', FLOAT)]),
        node('Add', ['w', 'xf'], ['out']),
      ],
      inputs: [x('x', [4, 3]), x('y', [3])],
      inits: [f32('zero', [], [0])],
      outputs: ['out'],
    },
    feeds: { x: feed([4, 3], 15), y: feed([3], 16) },
  },
  {
    name: 'MatMul (1-D × 2-D, 3-D × 2-D), Gemm (transA, alpha, beta, C)',
    graph: {
      nodes: [
        node('MatMul', ['v', 'm'], ['a']),
        node('MatMul', ['t', 'm'], ['b']),
        node('Gemm', ['at', 'm', 'c'], ['g'], [I('transA', 1), F('alpha', 0.5), F('beta', 2)]),
      ],
      inputs: [x('v', [3]), x('t', [2, 4, 3]), x('at', [3, 2])],
      inits: [f32('m', [3, 5], rnd(15, 17)), f32('c', [5], rnd(5, 18))],
      outputs: ['a', 'b', 'g'],
    },
    feeds: { v: feed([3], 19), t: feed([2, 4, 3], 20), at: feed([3, 2], 21) },
  },
  {
    name: 'Clip (min only, both), Max/Min of three, Pow by a tensor, Mod (fmod 1), Div, Sub, Mean',
    graph: {
      nodes: [
        node('Clip', ['x', 'lo'], ['a']),
        node('Clip', ['x', 'lo', 'hi'], ['b']),
        node('Max', ['x', 'a', 'y'], ['c']),
        node('Min', ['x', 'b', 'y'], ['d']),
        node('Abs', ['x'], ['ax']),
        node('Pow', ['ax', 'y'], ['e']),
        node('Mod', ['x', 'y'], ['f'], [I('fmod', 1)]),
        node('Div', ['c', 'two'], ['g']),
        node('Sub', ['g', 'd'], ['h']),
        node('Mean', ['e', 'f', 'h'], ['out']),
      ],
      inputs: [x('x', [2, 4]), x('y', [4])],
      inits: [f32('lo', [], [-0.5]), f32('hi', [], [0.7]), f32('two', [], [2])],
      outputs: ['out'],
    },
    feeds: { x: feed([2, 4], 22), y: { shape: [4], data: [1.5, -0.7, 2.1, 0.9] } },
  },
  {
    name: 'ArgMax/ArgMin (cast to float), Softmax axis 0, LogSoftmax, Flatten axis 0, Squeeze without axes, Unsqueeze with negative axes, Transpose default perm, Tile',
    graph: {
      nodes: [
        node('ArgMax', ['x'], ['am'], [I('axis', 1), I('keepdims', 0)]),
        node('ArgMin', ['x'], ['an'], [I('axis', -1)]),
        node('Cast', ['am'], ['amf'], [I('to', FLOAT)]),
        node('Cast', ['an'], ['anf'], [I('to', FLOAT)]),
        node('Softmax', ['x'], ['sm'], [I('axis', 0)]),
        node('LogSoftmax', ['x'], ['ls']),
        node('Flatten', ['x'], ['fl'], [I('axis', 0)]),
        node('Unsqueeze', ['x', 'ax'], ['us']),
        node('Squeeze', ['us'], ['sq']),
        node('Transpose', ['sq'], ['tr']),
        node('Tile', ['tr', 'reps'], ['ti']),
      ],
      inputs: [x('x', [2, 5])],
      inits: [i64('ax', [2], [-1, 0]), i64('reps', [2], [2, 1])],
      outputs: ['amf', 'anf', 'sm', 'ls', 'fl', 'ti'],
    },
    feeds: { x: feed([2, 5], 23) },
  },
  {
    name: 'LayerNormalization over the last two axes; BatchNormalization (inference)',
    graph: {
      nodes: [
        node('LayerNormalization', ['x', 'scale', 'bias'], ['ln'], [I('axis', -2), F('epsilon', 1e-3)]),
        node('BatchNormalization', ['ln', 'g', 'b', 'mu', 'var'], ['bn'], [F('epsilon', 1e-4)]),
      ],
      inputs: [x('x', [2, 3, 4])],
      inits: [f32('scale', [3, 4], rnd(12, 24)), f32('bias', [3, 4], rnd(12, 25)), f32('g', [3], [1, 2, 0.5]), f32('b', [3], [0, 0.1, -0.1]), f32('mu', [3], [0.1, 0, -0.2]), f32('var', [3], [1, 0.5, 2])],
      outputs: ['bn'],
    },
    feeds: { x: feed([2, 3, 4], 26) },
  },
  {
    name: 'LSTM bidirectional with initial states (Y, Y_h, Y_c)',
    graph: {
      nodes: [node('LSTM', ['x', 'w', 'r', 'b', '', 'h0', 'c0'], ['y', 'yh', 'yc'], [I('hidden_size', 3), S('direction', 'bidirectional')])],
      inputs: [x('x', [4, 2, 5]), x('h0', [2, 2, 3]), x('c0', [2, 2, 3])],
      inits: [f32('w', [2, 12, 5], rnd(120, 27)), f32('r', [2, 12, 3], rnd(72, 28)), f32('b', [2, 24], rnd(48, 29))],
      outputs: ['y', 'yh', 'yc'],
    },
    feeds: { x: feed([4, 2, 5], 30), h0: feed([2, 2, 3], 31), c0: feed([2, 2, 3], 32) },
  },
  {
    name: 'LSTM reverse without bias or states, default activations given explicitly',
    graph: {
      nodes: [node('LSTM', ['x', 'w', 'r'], ['y'], [I('hidden_size', 2), S('direction', 'reverse'), Ss('activations', ['Sigmoid', 'Tanh', 'Tanh'])])],
      inputs: [x('x', [3, 1, 4])],
      inits: [f32('w', [1, 8, 4], rnd(32, 33)), f32('r', [1, 8, 2], rnd(16, 34))],
      outputs: ['y'],
    },
    feeds: { x: feed([3, 1, 4], 35) },
  },
  {
    name: 'GRU with linear_before_reset 0, bidirectional, initial state',
    graph: {
      nodes: [node('GRU', ['x', 'w', 'r', 'b', '', 'h0'], ['y', 'yh'], [I('hidden_size', 3), S('direction', 'bidirectional')])],
      inputs: [x('x', [4, 2, 5]), x('h0', [2, 2, 3])],
      inits: [f32('w', [2, 9, 5], rnd(90, 36)), f32('r', [2, 9, 3], rnd(54, 37)), f32('b', [2, 18], rnd(36, 38))],
      outputs: ['y', 'yh'],
    },
    feeds: { x: feed([4, 2, 5], 39), h0: feed([2, 2, 3], 40) },
  },
  {
    name: 'RNN bidirectional, Relu, initial state (Y, Y_h)',
    graph: {
      nodes: [node('RNN', ['x', 'w', 'r', 'b', '', 'h0'], ['y', 'yh'], [I('hidden_size', 3), S('direction', 'bidirectional'), Ss('activations', ['Relu', 'Relu'])])],
      inputs: [x('x', [4, 2, 5]), x('h0', [2, 2, 3])],
      inits: [f32('w', [2, 3, 5], rnd(30, 41)), f32('r', [2, 3, 3], rnd(18, 42)), f32('b', [2, 6], rnd(12, 43))],
      outputs: ['y', 'yh'],
    },
    feeds: { x: feed([4, 2, 5], 44), h0: feed([2, 2, 3], 45) },
  },
  {
    name: 'RNN reverse, Tanh (default), without bias or state',
    graph: {
      nodes: [node('RNN', ['x', 'w', 'r'], ['y', 'yh'], [I('hidden_size', 2), S('direction', 'reverse')])],
      inputs: [x('x', [3, 2, 4])],
      inits: [f32('w', [1, 2, 4], rnd(8, 46)), f32('r', [1, 2, 2], rnd(4, 47))],
      outputs: ['y', 'yh'],
    },
    feeds: { x: feed([3, 2, 4], 48) },
  },
  {
    name: 'Reshape with 0 and -1, Identity, Dropout (inference), Trilu (lower, k = 1), Constant attributes',
    graph: {
      nodes: [
        node('Constant', [], ['shape'], [T('value', i64('', [3], [0, -1, 2]))]),
        node('Constant', [], ['k'], [I('value_int', 1)]),
        node('Constant', [], ['scale'], [Fs('value_floats', [0.5, 2])]),
        node('Reshape', ['x', 'shape'], ['a']),
        node('Identity', ['a'], ['b']),
        node('Dropout', ['b'], ['c']),
        node('Trilu', ['c', 'k'], ['d'], [I('upper', 0)]),
        node('Mul', ['d', 'scale'], ['y']),
      ],
      inputs: [x('x', [2, 3, 4])],
      outputs: ['y'],
    },
    feeds: { x: feed([2, 3, 4], 41) },
  },
];

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

describe('operators against onnxruntime-node (WASM)', () => {
  opSuite('wasm');
});

describeOnWebGPU('operators against onnxruntime-node (WebGPU)', () => {
  opSuite('webgpu');
});

describe('OnnxModel', () => {
  it('names, shapes, producer, opset and PyTorch state-dict keys (mlp fixture)', async () => {
    const m = await loadOnnx(new URL('./fixtures/mlp.onnx', import.meta.url).pathname);
    expect(m.inputNames).toEqual(['input']);
    expect(m.outputNames).toEqual(['output']);
    expect(m.inputShapes).toEqual([[2, 784]]);
    expect(m.inputShape).toEqual([784]);
    expect(m.opsetVersion).toBe(17);
    expect(m.producer).toBe('pytorch 1.13.0');
    expect(Object.keys(m.stateDict())).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    expect(m.countParams()).toBe(784 * 128 + 128 + 128 * 10 + 10);
    m.dispose();
  });

  it('symbolic dimensions are null in inputShapes; the batch may differ from the declared one', () => {
    const bytes = build({ nodes: [node('Relu', ['x'], ['y'])], inputs: [vi('x', FLOAT, ['batch', 3])], outputs: ['y'] });
    const m = parseOnnx(bytes);
    expect(m.inputShapes).toEqual([[null, 3]]);
    expect(m.inputShape).toEqual([3]);
    expect(m.forward(tensor([[-1, 0, 2]])).arraySync()).toEqual([[0, 0, 2]]);
    m.dispose();
  });

  it('mangles initializer names that cannot be module paths, and says how in parameterNames', () => {
    const bytes = build({
      nodes: [node('Add', ['x', 'a..b'], ['s1']), node('Add', ['s1', 'fc'], ['s2']), node('Add', ['s2', 'fc.weight'], ['s3']), node('Add', ['s3', 'training'], ['s4']), node('Add', ['s4', 'layers.0.w'], ['y'])],
      inputs: [x('x', [2])],
      inits: [f32('a..b', [2], [1, 1]), f32('fc', [2], [2, 2]), f32('fc.weight', [2], [3, 3]), f32('training', [2], [4, 4]), f32('layers.0.w', [2], [5, 5])],
      outputs: ['y'],
    });
    const m = parseOnnx(bytes);
    expect(Object.fromEntries(m.parameterNames)).toEqual({ 'a..b': 'a__b', fc: 'fc_1', 'fc.weight': 'fc.weight', training: 'onnx_training', 'layers.0.w': 'layers.0.w' });
    expect(Object.keys(m.stateDict()).sort()).toEqual(['a__b', 'fc.weight', 'fc_1', 'layers.0.w', 'onnx_training']);
    expect(m.forward(tensor([0, 1])).arraySync()).toEqual([15, 16]);
    // the model's own members are untouched
    expect(typeof m.fit).toBe('function');
    m.dispose();
  });

  it('reads FLOAT16, BFLOAT16 and DOUBLE weights (raw and typed fields) into float32, integer types as constants', async () => {
    // 1.5, -2 and 0.333251953125 as float16 bits; 1.5, -2, 0.333984375 as bfloat16 bits
    const f16 = [0x3e00, 0xc000, 0x3555];
    const bf16 = [0x3fc0, 0xc000, 0x3eab];
    const le16 = (v: number[]): Uint8Array => new Uint8Array(new Uint16Array(v).buffer);
    const bytes = build({
      nodes: [node('Add', ['x', 'h'], ['a']), node('Add', ['a', 'hb'], ['b']), node('Add', ['b', 'ht'], ['c']), node('Add', ['c', 'd'], ['e']), node('Reshape', ['e', 'shape'], ['y'])],
      inputs: [x('x', [3])],
      inits: [
        { name: 'h', dims: [3], dataType: DataType.FLOAT16, rawData: le16(f16) },
        { name: 'hb', dims: [3], dataType: DataType.BFLOAT16, rawData: le16(bf16) },
        { name: 'ht', dims: [3], dataType: DataType.FLOAT16, int32Data: f16 },
        { name: 'd', dims: [3], dataType: DataType.DOUBLE, doubleData: [0.25, 0.5, 1e-3] },
        { name: 'shape', dims: [2], dataType: DataType.INT8, rawData: new Uint8Array([1, 0xff]) },
      ],
      outputs: ['y'],
    });
    const m = parseOnnx(bytes);
    const sd = m.stateDict();
    expect(Object.keys(sd)).toEqual(['h', 'hb', 'ht', 'd']);
    expect(Array.from(await sd['h']!.data())).toEqual([1.5, -2, 0.333251953125]);
    expect(Array.from(await sd['hb']!.data())).toEqual([1.5, -2, 0.333984375]);
    expect(Array.from(await sd['ht']!.data())).toEqual([1.5, -2, 0.333251953125]);
    expectAllClose(await sd['d']!.data(), [0.25, 0.5, 1e-3], 0, 1e-9);
    // the INT8 [1, -1] is a host constant: a Reshape target
    const y = m.forward(tensor([0, 0, 0]));
    expect(y.shape).toEqual([1, 3]);
    expectAllClose(await y.data(), [4.75, -5.5, 1.00148828125], 1e-6, 1e-6);
    m.dispose();
  });

  it('a graph output that is a parameter, an input or listed twice comes back as a tensor the caller owns', () => {
    const m = parseOnnx(build({ nodes: [node('Relu', ['x'], ['y'])], inputs: [x('x', [2])], inits: [f32('w', [2], [1, 2])], outputs: ['y', 'w', 'x', 'y'] }));
    const before = memory().numTensors;
    const xin = tensor([-1, 3]);
    const outs = m.run(xin);
    expect(outs.map((t) => t.arraySync())).toEqual([[0, 3], [1, 2], [-1, 3], [0, 3]]);
    expect(new Set(outs).size).toBe(4);
    expect(outs[1]).not.toBe(m.stateDict()['w']);
    for (const t of [...outs, xin]) t.dispose();
    expect(m.stateDict()['w']!.isDisposed).toBe(false);
    expect(memory().numTensors).toBe(before);
    m.dispose();
  });

  it('a dimension with neither a value nor a name is unknown (null), not 0', () => {
    const bytes = build({ nodes: [node('Relu', ['x'], ['y'])], inputs: [{ name: 'x', type: { tensorType: { elemType: FLOAT, shape: { dim: [{}, { dimValue: 3 }] } } } }], outputs: ['y'] });
    const m = parseOnnx(bytes);
    expect(m.inputShapes).toEqual([[null, 3]]);
    m.dispose();
  });

  it('trainable: false makes float initializers buffers', () => {
    const m = parseOnnx(fixtureBytes('mlp'), { trainable: false });
    expect(m.parameters()).toHaveLength(0);
    expect(m.namedBuffers().map(([n]) => n)).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    m.dispose();
  });

  it('checks its inputs (count, dtype, rank) with AxonErrors', () => {
    const m = parseOnnx(fixtureBytes('lstm'));
    expect(() => m.forward(randn([2, 6]))).toThrow(/input 'input' must be int32 \(the file declares INT64\), got float32/);
    expect(() => m.forward(tensor([1, 2], [2], 'int32'))).toThrow(/must have rank 2/);
    expect(() => m.run()).toThrow(/expects 1 input \(input\), got 0/);
    m.dispose();
  });

  it('predict frees every intermediate; dispose frees every parameter', () => {
    const before = memory().numTensors;
    const m = parseOnnx(fixtureBytes('transformer'));
    expect(memory().numTensors - before).toBe(Object.keys(m.stateDict()).length);
    const fx = fixture('transformer');
    const tok = axonTensor(fx.inputs[0]!);
    const y = m.predict(tok);
    expect(y.shape).toEqual([2, 6, 50]);
    y.dispose();
    tok.dispose();
    // with gradients, intermediates stay for backward until the enclosing tidy ends
    tidy(() => {
      const t = axonTensor(fx.inputs[0]!);
      m.forward(t).square().mean().backward();
      for (const p of m.parameters()) expect(p.grad, 'every parameter gets a gradient').not.toBeNull();
    });
    m.zeroGrad();
    m.dispose();
    expect(memory().numTensors).toBe(before);
  });

  it('fine-tunes an imported PyTorch model: SGD steps lower the loss and change the parameters (cnn fixture)', async () => {
    setSeed(5);
    const m = parseOnnx(fixtureBytes('cnn'));
    const w0 = await m.stateDict()['fc.weight']!.data();
    const xs = randn([16, 1, 28, 28]);
    const ys = tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5], [16], 'int32');
    m.compile({ optimizer: { name: 'sgd', learningRate: 0.05 }, loss: 'sparseCategoricalCrossentropy' });
    const h = await m.fit(xs, ys, { epochs: 4, batchSize: 16, verbose: 0 });
    const loss = h.history['loss']!;
    expect(loss[3]!).toBeLessThan(loss[0]! * 0.9);
    const w1 = await m.stateDict()['fc.weight']!.data();
    let changed = 0;
    for (let i = 0; i < w0.length; i++) if (w0[i] !== w1[i]) changed++;
    expect(changed).toBeGreaterThan(w0.length / 2);
    const conv = m.stateDict()['conv1.weight']!;
    expect(conv.requiresGrad).toBe(true);
    xs.dispose();
    ys.dispose();
    m.dispose();
  });

  it('fine-tunes the LSTM fixture (a few manual SGD steps on int32 tokens)', async () => {
    const m = parseOnnx(fixtureBytes('lstm'));
    const fx = fixture('lstm');
    const tok = axonTensor(fx.inputs[0]!);
    const target = tensor([1, 3], [2], 'int32');
    const params = m.parameters();
    const w0 = await m.stateDict()['onnx::LSTM_226']!.data();
    const losses: number[] = [];
    for (let step = 0; step < 5; step++) {
      losses.push(
        await tidy(() => {
          m.zeroGrad();
          const logits = m.forward(tok);
          const lp = logits.logSoftmax(-1);
          const loss = lp.mul(tensor([[0, 1, 0, 0, 0], [0, 0, 0, 1, 0]])).sum().neg().div(2);
          loss.backward();
          noGrad(() => params.forEach((p) => p.assign(p.sub(p.grad!.mul(0.5)))));
          return loss;
        }).item(),
      );
    }
    expect(losses[4]!).toBeLessThan(losses[0]! * 0.9);
    // the recurrent weights (R of the first LSTM) were trained too
    const w1 = await m.stateDict()['onnx::LSTM_226']!.data();
    expect(w1.some((v, i) => v !== w0[i])).toBe(true);
    m.zeroGrad();
    tok.dispose();
    target.dispose();
    m.dispose();
  });
});

// ------------------------------------------------------------------ hostile and unsupported files
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
  const after = memory();
  expect(after.numTensors).toBe(before.numTensors);
  expect(after.numBytes).toBe(before.numBytes);
}
const relu = (inits: ReturnType<typeof f32>[] = []): GraphSpec => ({ nodes: [node('Relu', ['x'], ['y'])], inputs: [x('x', [2])], inits, outputs: ['y'] });

describe('load-time errors (AxonError, nothing allocated)', () => {
  it('not protobuf, not a model, an empty graph', () => {
    expectLoadError(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2]), /not a valid ONNX/);
    expectLoadError(new TextEncoder().encode('{"not": "onnx"}'), /not a valid ONNX|no graph/);
    expectLoadError(new Uint8Array(0), /no graph/);
    expect(() => parseOnnx('model.onnx' as unknown as Uint8Array)).toThrow(/a Uint8Array/);
  });

  it('an unsupported operator names the op, the node and the supported ops', () => {
    const g = relu();
    g.nodes.push(node('NonMaxSuppression', ['y'], ['z'], [], 'nms_1'));
    expectLoadError(build(g), /unsupported operator NonMaxSuppression \(node 'nms_1'\); supported ops: .*Conv.*LSTM/);
    const custom = relu();
    custom.nodes[0] = { ...custom.nodes[0]!, domain: 'com.microsoft' };
    expectLoadError(build(custom), /unsupported operator com\.microsoft\.Relu/);
    // control flow (subgraphs) is not supported
    const ifg = relu();
    ifg.nodes.push(node('If', ['y'], ['z'], [], 'branch'));
    expectLoadError(build(ifg), /unsupported operator If \(node 'branch'\)/);
  });

  it('a cycle names the nodes in it', () => {
    const g: GraphSpec = {
      nodes: [node('Relu', ['x'], ['a'], [], 'start'), node('Add', ['a', 'c'], ['b'], [], 'n1'), node('Neg', ['b'], ['c'], [], 'n2'), node('Relu', ['b'], ['y'], [], 'end')],
      inputs: [x('x', [2])],
      outputs: ['y'],
    };
    expectLoadError(build(g), /cycle through nodes (Add 'n1' -> Neg 'n2' -> Add 'n1'|Neg 'n2' -> Add 'n1' -> Neg 'n2')/);
  });

  it('an input nothing produces, duplicate names, an output nothing produces', () => {
    expectLoadError(build({ nodes: [node('Add', ['x', 'ghost'], ['y'], [], 'add')], inputs: [x('x', [2])], outputs: ['y'] }), /node Add 'add' reads 'ghost', which no node, initializer or graph input produces/);
    expectLoadError(build({ nodes: [node('Relu', ['x'], ['y'], [], 'r1'), node('Neg', ['x'], ['y'], [], 'r2')], inputs: [x('x', [2])], outputs: ['y'] }), /value 'y' is defined twice \(by node Relu 'r1' and by node Neg 'r2'\)/);
    expectLoadError(build({ nodes: [node('Relu', ['x'], ['x'], [], 'r')], inputs: [x('x', [2])], outputs: ['x'] }), /value 'x' is defined twice \(by graph input 'x' and by node Relu 'r'\)/);
    expectLoadError(build({ ...relu(), outputs: ['nope'] }), /graph output 'nope' is not produced/);
  });

  it('initializers: huge declared dims, raw data of the wrong length, negative dims, wrong typed-field length, external data, strings', () => {
    const huge = { name: 'w', dims: [2 ** 31, 2 ** 31], dataType: DataType.FLOAT, rawData: new Uint8Array(16) };
    const t0 = performance.now();
    expectLoadError(build(relu([huge])), /initializer 'w' declares dims \[2147483648,2147483648\], more than 268435456 elements .*nothing was allocated/);
    expect(performance.now() - t0).toBeLessThan(1000);
    expectLoadError(build(relu([{ name: 'w', dims: [1000, 1000], dataType: DataType.FLOAT, rawData: new Uint8Array(12) }])), /initializer 'w' \(FLOAT \[1000,1000\]\) has 12 bytes of raw data, expected 1000000 × 4 = 4000000/);
    expectLoadError(build(relu([{ name: 'w', dims: [3, -2], dataType: DataType.FLOAT, rawData: new Uint8Array(0) }])), /initializer 'w' has a negative or invalid dimension -2/);
    expectLoadError(build(relu([{ name: 'w', dims: [4], dataType: DataType.FLOAT, floatData: [1, 2] }])), /has 2 values in float_data and no raw data, expected 4/);
    expectLoadError(
      build(relu([{ name: 'w', dims: [4], dataType: DataType.FLOAT, dataLocation: 1, externalData: [{ key: 'location', value: '../../etc/passwd' }] }])),
      /initializer 'w' keeps its data in an external file; Axon reads only self-contained ONNX files/,
    );
    expectLoadError(build(relu([{ name: 's', dims: [1], dataType: DataType.STRING, stringData: [new Uint8Array(1)] }])), /initializer 's' has data type STRING, which Axon cannot hold/);
  });

  it('a Constant whose tensor data does not match its dims fails at load, naming the node', () => {
    const bad = { name: '', dims: [100, 100], dataType: DataType.FLOAT, rawData: new Uint8Array(8) };
    expectLoadError(build({ nodes: [node('Constant', [], ['c'], [T('value', bad)], 'k'), node('Add', ['x', 'c'], ['y'])], inputs: [x('x', [2])], outputs: ['y'] }), /Constant 'k': attribute 'value' \(FLOAT \[100,100\]\) has 8 bytes of raw data, expected 10000 × 4/);
  });

  it(`messages nested deeper than protobufjs's limit (100) are refused while decoding`, () => {
    // model.graph → node → attribute.g → graph → … 1000 levels deep, in 7 kB
    const varint = (n: number): number[] => {
      const o: number[] = [];
      for (; n > 127; n = Math.floor(n / 128)) o.push((n & 127) | 128);
      return [...o, n];
    };
    const pieces: number[][] = [];
    let len = 0;
    for (let i = 0; i < 1000; i++) {
      for (const field of [6, 5, 1]) {
        const p = [(field << 3) | 2, ...varint(len)];
        pieces.push(p);
        len += p.length;
      }
    }
    const bytes = [(7 << 3) | 2, ...varint(len), ...pieces.reverse().flat()];
    expectLoadError(new Uint8Array(bytes), /not a valid ONNX \(protobuf\) file: max depth exceeded/);
  });

  it('attributes of the wrong type, unknown attributes, unsupported attribute values', () => {
    expectLoadError(build({ nodes: [node('Softmax', ['x'], ['y'], [F('axis', 1)], 'sm')], inputs: [x('x', [2])], outputs: ['y'] }), /Softmax 'sm'.*attribute 'axis' has type FLOAT, expected INT/);
    expectLoadError(build({ nodes: [node('Relu', ['x'], ['y'], [I('alpha', 1)], 'r')], inputs: [x('x', [2])], outputs: ['y'] }), /attribute 'alpha', which Axon does not support for Relu \(supported: none\)/);
    // values are checked when the node runs
    const m = parseOnnx(build({ nodes: [node('Pad', ['x', 'p'], ['y'], [S('mode', 'reflect')], 'pad')], inputs: [x('x', [2])], inits: [i64('p', [2], [1, 1])], outputs: ['y'] }));
    expect(() => m.forward(tensor([1, 2]))).toThrow(/Pad 'pad'.*mode "reflect" is not supported \(supported: constant\)/);
    m.dispose();
    // RNN: Tanh or Relu, the same for every direction
    for (const acts of [['Sigmoid'], ['Relu', 'Tanh'], ['Relu']]) {
      const rnn = parseOnnx(build({ nodes: [node('RNN', ['x', 'w', 'r'], ['y'], [I('hidden_size', 1), S('direction', 'bidirectional'), Ss('activations', acts)], 'rnn')], inputs: [x('x', [1, 1, 1])], inits: [f32('w', [2, 1, 1], [1, 1]), f32('r', [2, 1, 1], [1, 1])], outputs: ['y'] }));
      expect(() => rnn.forward(tensor([[[1]]])), acts.join()).toThrow(/RNN 'rnn'.*activations .* is not supported \(supported: Tanh or Relu, once per direction \(2\)\)/);
      rnn.dispose();
    }
  });

  it('an empty string attribute (GRU direction "") is an AxonError naming the node, not a TypeError (fuzz, seed 99)', () => {
    const m = parseOnnx(build({ nodes: [node('Pad', ['x', 'p'], ['y'], [S('mode', '')], 'pad')], inputs: [x('x', [2])], inits: [i64('p', [2], [1, 1])], outputs: ['y'] }));
    expect(() => m.forward(tensor([1, 2]))).toThrow(AxonError);
    expect(() => m.forward(tensor([1, 2]))).toThrow(/Pad 'pad'/);
    m.dispose();
  });

  it('dead nodes (no graph output depends on them) never run: 2,000 copies of a MatMul allocate nothing (fuzz)', () => {
    const nodes = [node('Relu', ['x'], ['y'], [], 'relu')];
    for (let i = 0; i < 2000; i++) nodes.push(node('MatMul', ['w', 'w'], [`dead_${i}`], [], `dead_${i}`));
    const m = parseOnnx(build({ nodes, inputs: [x('x', [2])], inits: [f32('w', [64, 64], new Float32Array(64 * 64).fill(0.5))], outputs: ['y'] }));
    const before = memory();
    resetPeakMemory();
    const y = m.forward(tensor([-1, 2]));
    expect(y.toArray()).toEqual([0, 2]);
    expect(memory().peakBytes - before.numBytes).toBeLessThan(1024); // the copies would hold 2,000 × 16 KB
    y.dispose();
    m.dispose();
  });

  it('a dead node beside a live one, and a multi-output node whose second output nothing reads, run correctly and leave only the results', () => {
    const m = parseOnnx(build({ nodes: [node('Relu', ['x'], ['unread'], [], 'a'), node('Neg', ['x'], ['y'], [], 'b')], inputs: [x('x', [2])], outputs: ['y'] }));
    const y = m.forward(tensor([1, -2]));
    expect(y.toArray()).toEqual([-1, 2]);
    y.dispose();
    // a multi-output node's unread named output is released right after the node runs
    const m2 = parseOnnx(build({ nodes: [node('Split', ['x', 's'], ['p', 'q'], [I('axis', 0)], 'split')], inputs: [x('x', [4])], inits: [i64('s', [2], [2, 2])], outputs: ['p'] }));
    const before = memory().numTensors;
    const [p] = noGrad(() => m2.run(tensor([1, 2, 3, 4])));
    expect(p!.toArray()).toEqual([1, 2]);
    expect(memory().numTensors - before).toBe(2); // the input and p: q was freed
    for (const t of [p!]) t.dispose();
    m.dispose();
    m2.dispose();
  });

  it('a node that fails at run time (gradients on, no tidy) names the node and the model, and leaks nothing (fuzz)', () => {
    // an INT32 bias added to a FLOAT product: caught when the Add runs
    const m = parseOnnx(build({
      nodes: [node('MatMul', ['x', 'w'], ['h'], [], 'mm'), node('Relu', ['h'], ['r'], [], 'relu'), node('Add', ['r', 'b'], ['y'], [], 'add')],
      inputs: [x('x', [1, 3])],
      inits: [f32('w', [3, 2], [1, 2, 3, 4, 5, 6]), { name: 'b', dims: [2], dataType: DataType.INT32, int32Data: [1, 2] }],
      outputs: ['y'],
    }));
    const input = randn([1, 3]);
    const before = memory();
    expect(() => m.forward(input)).toThrow(/OnnxModel '.*': (node )?Add 'add': /);
    expect(memory().numTensors).toBe(before.numTensors);
    expect(memory().numBytes).toBe(before.numBytes);
    // a wrong width names the node too
    expect(() => m.forward(randn([1, 4]))).toThrow(/node MatMul 'mm': .*matmul/);
    input.dispose();
    m.dispose();
  });

  it('opsets outside 13–18 are refused', () => {
    expectLoadError(build({ ...relu(), opset: 12 }), /opset 12; Axon reads opsets 13 to 18/);
    expectLoadError(build({ ...relu(), opset: 19 }), /opset 19; Axon reads opsets 13 to 18/);
  });

  it(`more than MAX_ONNX_NODES (${MAX_ONNX_NODES}) nodes are refused`, () => {
    const nodes = Array.from({ length: MAX_ONNX_NODES + 1 }, (_, i) => node('Identity', [i === 0 ? 'x' : `v${i - 1}`], [`v${i}`], [], ''));
    expectLoadError(build({ nodes, inputs: [x('x', [2])], outputs: [`v${MAX_ONNX_NODES}`] }), /100001 nodes, more than MAX_ONNX_NODES = 100000/);
  });

  it('a data-dependent shape is an error naming the node (Axon computes shapes on the host)', () => {
    const m = parseOnnx(build({ nodes: [node('Cast', ['x'], ['s'], [I('to', INT64)]), node('Reshape', ['x', 's'], ['y'], [], 'rs')], inputs: [x('x', [2])], outputs: ['y'] }));
    expect(() => m.forward(tensor([2, 1]))).toThrow(/Reshape 'rs'.*input 1 \(shape\) is computed from tensor data/);
    m.dispose();
  });

  it('bad options', async () => {
    expect(() => parseOnnx(fixtureBytes('mlp'), { nmae: 'x' } as never)).toThrow(/unknown option 'nmae'; known: name, trainable/);
    await expect(loadOnnx(42 as never)).rejects.toThrow(/a file path or the bytes/);
  });
});

void Fs;
