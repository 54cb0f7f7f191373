/**
 * Recurrent layers export as ONNX LSTM / GRU / RNN nodes (one per layer, as torch.onnx.export
 * writes them), not unrolled: the files run in onnxruntime-node at other batch sizes and sequence
 * lengths than the sample's and match Axon's outputs (rtol 1e-4, atol 1e-5); loadOnnx of each file
 * gives the same outputs. On WASM and on WebGPU (lavapipe; AXON_SKIP_WEBGPU=1 skips it).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type Tensor, isTensor, memory, randint, randn, setBackend, setSeed, setTraceHook } from '@axon/core';
import '@axon/autograd';
import { Embedding, GRU, KerasGRU, KerasLSTM, LSTM, Linear, Module, RNN, SimpleRNN, setRecurrentExportHook } from '@axon/layers';
import ort from 'onnxruntime-node';
import { parseOnnx, toOnnx } from '../src/index.js';
import { decodeModel } from '../src/proto.js';
import { describeOnWebGPU, expectAllClose } from './import-helpers.js';

const rnd = (shape: number[]): Tensor => randn(shape).mul(0.5);

/** Embedding → 2-layer LSTM (batch first) → Linear on the last layer's final state. */
class LstmLast extends Module {
  emb = new Embedding(20, 8);
  lstm = new LSTM(8, 12, { numLayers: 2, batchFirst: true, dropout: 0.3 });
  fc = new Linear(12, 3);
  forward(ids: Tensor): Tensor {
    const [, [hN]] = this.lstm.forward(this.emb.forward(ids));
    const B = hN.shape[1]!;
    return this.fc.forward(hN.slice([1, 0, 0], [1, B, 12]).reshape([B, 12]));
  }
}

/** The classifier of export.test.ts: the last step of the output (a slice at a fixed step, so a fixed length). */
class LstmClassifier extends Module {
  emb = new Embedding(20, 8);
  lstm = new LSTM(8, 12, { numLayers: 2, batchFirst: true });
  fc = new Linear(12, 3);
  forward(ids: Tensor): Tensor {
    const [out] = this.lstm.forward(this.emb.forward(ids));
    const T = out.shape[1]!;
    return this.fc.forward(out.slice([0, T - 1, 0], [out.shape[0]!, 1, out.shape[2]!]).reshape([out.shape[0]!, out.shape[2]!]));
  }
}

class GruNet extends Module {
  gru = new GRU(4, 6, { batchFirst: true, bidirectional: true });
  forward(x: Tensor): Tensor {
    return this.gru.forward(x)[0];
  }
}

/** PyTorch RNN (relu, 2 layers, bidirectional, time-major) from a given h0: [output, hN]. */
class ReluRnn extends Module<Tensor[]> {
  rnn = new RNN(3, 5, { nonlinearity: 'relu', numLayers: 2, bidirectional: true });
  forward(x: Tensor, h0: Tensor): Tensor[] {
    return this.rnn.forward(x, h0);
  }
}

/** PyTorch LSTM without biases from given states: [output, hN, cN]. */
class StatefulLstm extends Module<Tensor[]> {
  lstm = new LSTM(3, 4, { bias: false });
  forward(x: Tensor, h0: Tensor, c0: Tensor): Tensor[] {
    const [out, [h, c]] = this.lstm.forward(x, [h0, c0]);
    return [out, h, c];
  }
}

/** PyTorch GRU on an unbatched sequence [T, I]: [output, hN]. */
class UnbatchedGru extends Module<Tensor[]> {
  gru = new GRU(3, 4, { numLayers: 2 });
  forward(x: Tensor): Tensor[] {
    return this.gru.forward(x);
  }
}

/** A Keras LSTM from given initial states, returning [output, h, c]. */
class KerasStateful extends Module<Tensor[]> {
  lstm = new KerasLSTM(4, { goBackwards: true, biasInitializer: 'glorotUniform' });
  constructor() {
    super();
    this.lstm.build(3);
  }
  forward(x: Tensor, h: Tensor, c: Tensor): Tensor[] {
    return this.lstm.forwardWithState(x, { initialState: [h, c] });
  }
}

/** A Keras layer as a model (biases random, so the bias layout is checked), built for 3 features (a layer built by its first call would have no weights when the export lists the parameters). */
class Keras extends Module {
  constructor(readonly layer: SimpleRNN | KerasLSTM | KerasGRU) {
    super();
    layer.build(3);
  }
  forward(x: Tensor): Tensor {
    return this.layer.call(x) as Tensor;
  }
}
const b = { biasInitializer: 'glorotUniform' } as const;

interface Case {
  readonly name: string;
  readonly model: () => Module<Tensor | Tensor[]>;
  /** Inputs at batch `n` and `t` steps, with their names and time axis (null: no time axis). */
  readonly inputs: (n: number, t: number) => [string, Tensor, number | null, number | null][];
  /** Output names with their batch and time axes. */
  readonly outputs: [string, number | null, number | null][];
  /** Node counts the file must have. */
  readonly nodes: Readonly<Record<string, number>>;
}

const ids = (n: number, t: number): Tensor => randint(0, 20, [n, t]);
const CASES: readonly Case[] = [
  { name: 'PyTorch LSTM, 2 layers, batch first (Embedding, final state)', model: () => new LstmLast(), inputs: (n, t) => [['x', ids(n, t), 0, 1]], outputs: [['y', 0, null]], nodes: { LSTM: 2, GRU: 0, RNN: 0 } },
  { name: 'PyTorch GRU, bidirectional, batch first', model: () => new GruNet(), inputs: (n, t) => [['x', rnd([n, t, 4]), 0, 1]], outputs: [['y', 0, 1]], nodes: { GRU: 1, LSTM: 0 } },
  {
    name: 'PyTorch RNN relu, 2 layers, bidirectional, time-major, h0 given',
    model: () => new ReluRnn(),
    inputs: (n, t) => [['x', rnd([t, n, 3]), 1, 0], ['h0', rnd([4, n, 5]), 1, null]],
    outputs: [['y', 1, 0], ['hN', 1, null]],
    nodes: { RNN: 2 },
  },
  {
    name: 'PyTorch LSTM without bias from h0 and c0',
    model: () => new StatefulLstm(),
    inputs: (n, t) => [['x', rnd([t, n, 3]), 1, 0], ['h0', rnd([1, n, 4]), 1, null], ['c0', rnd([1, n, 4]), 1, null]],
    outputs: [['y', 1, 0], ['hN', 1, null], ['cN', 1, null]],
    nodes: { LSTM: 1 },
  },
  { name: 'PyTorch GRU, 2 layers, unbatched input', model: () => new UnbatchedGru(), inputs: (_n, t) => [['x', rnd([t, 3]), null, 0]], outputs: [['y', null, 0], ['hN', null, null]], nodes: { GRU: 2 } },
  { name: 'Keras SimpleRNN (last step)', model: () => new Keras(new SimpleRNN(5, b)), inputs: (n, t) => [['x', rnd([n, t, 3]), 0, 1]], outputs: [['y', 0, null]], nodes: { RNN: 1 } },
  { name: 'Keras SimpleRNN relu, goBackwards, returnSequences', model: () => new Keras(new SimpleRNN(5, { ...b, activation: 'relu', goBackwards: true, returnSequences: true })), inputs: (n, t) => [['x', rnd([n, t, 3]), 0, 1]], outputs: [['y', 0, 1]], nodes: { RNN: 1 } },
  { name: 'Keras LSTM, returnSequences', model: () => new Keras(new KerasLSTM(4, { ...b, returnSequences: true })), inputs: (n, t) => [['x', rnd([n, t, 3]), 0, 1]], outputs: [['y', 0, 1]], nodes: { LSTM: 1 } },
  { name: 'Keras LSTM, goBackwards, returnSequences', model: () => new Keras(new KerasLSTM(4, { ...b, goBackwards: true, returnSequences: true })), inputs: (n, t) => [['x', rnd([n, t, 3]), 0, 1]], outputs: [['y', 0, 1]], nodes: { LSTM: 1 } },
  {
    name: 'Keras LSTM, goBackwards, last step, from initial states, with its states',
    model: () => new KerasStateful(),
    inputs: (n, t) => [['x', rnd([n, t, 3]), 0, 1], ['h', rnd([n, 4]), 0, null], ['c', rnd([n, 4]), 0, null]],
    outputs: [['y', 0, null], ['hT', 0, null], ['cT', 0, null]],
    nodes: { LSTM: 1 },
  },
  { name: 'Keras GRU resetAfter true, returnSequences', model: () => new Keras(new KerasGRU(4, { ...b, returnSequences: true })), inputs: (n, t) => [['x', rnd([n, t, 3]), 0, 1]], outputs: [['y', 0, 1]], nodes: { GRU: 1 } },
  { name: 'Keras GRU resetAfter true, goBackwards, last step', model: () => new Keras(new KerasGRU(4, { ...b, goBackwards: true })), inputs: (n, t) => [['x', rnd([n, t, 3]), 0, 1]], outputs: [['y', 0, null]], nodes: { GRU: 1 } },
  { name: 'Keras GRU resetAfter false, goBackwards, returnSequences', model: () => new Keras(new KerasGRU(4, { ...b, resetAfter: false, goBackwards: true, returnSequences: true })), inputs: (n, t) => [['x', rnd([n, t, 3]), 0, 1]], outputs: [['y', 0, 1]], nodes: { GRU: 1 } },
  { name: 'Keras GRU resetAfter false, no bias, last step', model: () => new Keras(new KerasGRU(4, { resetAfter: false, useBias: false })), inputs: (n, t) => [['x', rnd([n, t, 3]), 0, 1]], outputs: [['y', 0, null]], nodes: { GRU: 1 } },
];

function axonRun(m: Module<Tensor | Tensor[]>, xs: readonly Tensor[]): Tensor[] {
  const r: unknown = (m.forward as (...a: Tensor[]) => unknown)(...xs);
  return isTensor(r) ? [r] : (r as Tensor[]);
}

async function ortRun(session: ort.InferenceSession, names: readonly string[], xs: readonly Tensor[]): Promise<{ data: Float32Array; dims: readonly number[] }[]> {
  const feed: Record<string, ort.Tensor> = {};
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    const data = await x.data();
    feed[names[i]!] = x.dtype === 'int32' ? new ort.Tensor('int32', data as Int32Array, [...x.shape]) : new ort.Tensor('float32', data as Float32Array, [...x.shape]);
  }
  const r = await session.run(feed);
  return session.outputNames.map((n) => ({ data: r[n]!.data as Float32Array, dims: r[n]!.dims }));
}

function opCounts(bytes: Uint8Array): Map<string, number> {
  const m = new Map<string, number>();
  for (const n of decodeModel('t', bytes).graph!.node!) m.set(n.opType!, (m.get(n.opType!) ?? 0) + 1);
  return m;
}

function suite(backend: string): void {
  for (const c of CASES) {
    it(`${c.name}: ${Object.entries(c.nodes).filter(([, k]) => k > 0).map(([op, k]) => `${k} ${op}`).join(', ')} node(s); onnxruntime and loadOnnx match Axon at other batch sizes and lengths`, async () => {
      await setBackend(backend);
      setSeed(11);
      const m = c.model();
      m.eval();
      const sample = c.inputs(2, 5);
      const inputNames = sample.map((s) => s[0]);
      const dynamicAxes: Record<string, Record<number, string>> = {};
      for (const [name, bAx, tAx] of [...sample.map(([n, , bb, t]) => [n, bb, t] as const), ...c.outputs]) {
        const d: Record<number, string> = {};
        if (bAx !== null) d[bAx] = 'batch';
        if (tAx !== null) d[tAx] = 'sequence';
        dynamicAxes[name] = d;
      }
      const before = memory();
      const bytes = await toOnnx(
        m,
        sample.map((s) => s[1]),
        { inputNames, outputNames: c.outputs.map((o) => o[0]), dynamicAxes },
      );
      expect(memory().numTensors).toBe(before.numTensors);
      expect(memory().numBytes).toBe(before.numBytes);
      const ops = opCounts(bytes);
      for (const [op, k] of Object.entries(c.nodes)) expect(ops.get(op) ?? 0, `${op} nodes`).toBe(k);
      // not unrolled: no MatMul beyond the model's own Linear layers
      expect(ops.get('MatMul') ?? 0).toBeLessThanOrEqual(1);
      // no dead nodes: every node's output is read (but for the recurrent nodes' own Y, Y_h, Y_c)
      const graph = decodeModel('t', bytes).graph!;
      const read = new Set([...graph.node!.flatMap((nd) => nd.input ?? []), ...graph.output!.map((o) => o.name)]);
      for (const nd of graph.node!) if (!['LSTM', 'GRU', 'RNN'].includes(nd.opType!)) for (const o of nd.output ?? []) expect(read.has(o), `${nd.opType} output ${o}`).toBe(true);
      // the parameters stay initializers under their state-dict names
      const inits = new Set(decodeModel('t', bytes).graph!.initializer!.map((t) => t.name));
      for (const name of Object.keys(m.stateDict())) expect(inits.has(name), name).toBe(true);
      const session = await ort.InferenceSession.create(bytes);
      const back = parseOnnx(bytes);
      for (const [n, t] of [[2, 5], [3, 5], [2, 9], [1, 2]] as const) {
        const xs = c.inputs(n, t).map((s) => s[1]);
        const want = axonRun(m, xs);
        const got = await ortRun(session, inputNames, xs);
        const round = back.run(...xs);
        expect(got.length).toBe(want.length);
        for (let i = 0; i < want.length; i++) {
          const w = (await want[i]!.data()) as Float32Array;
          expect([...got[i]!.dims], `output ${i} at batch ${n}, ${t} steps`).toEqual(want[i]!.shape);
          expectAllClose(got[i]!.data, w, 1e-4, 1e-5, `${c.name}: onnxruntime output ${i} at batch ${n}, ${t} steps`);
          expect(round[i]!.shape).toEqual(want[i]!.shape);
          expectAllClose((await round[i]!.data()) as Float32Array, w, 1e-4, 1e-5, `${c.name}: loadOnnx output ${i} at batch ${n}, ${t} steps`);
        }
        for (const t2 of [...xs, ...want, ...round]) t2.dispose();
      }
      back.dispose();
      for (const s of sample) s[1].dispose();
      m.dispose?.();
    });
  }

  it('the 2-layer LSTM classifier (a slice at the last step) exports as 2 LSTM nodes with a dynamic batch', async () => {
    await setBackend(backend);
    setSeed(12);
    const m = new LstmClassifier();
    m.eval();
    const bytes = await toOnnx(m, randint(0, 20, [2, 5]), { dynamicBatch: true });
    expect(opCounts(bytes).get('LSTM')).toBe(2);
    const session = await ort.InferenceSession.create(bytes);
    for (const n of [1, 4]) {
      const x = randint(0, 20, [n, 5]);
      const [got] = await ortRun(session, ['input'], [x]);
      expectAllClose(got!.data, (await m.forward(x).data()) as Float32Array, 1e-4, 1e-5, `batch ${n}`);
    }
    // its slice at step T − 1 is a constant: a dynamic sequence axis is refused, naming the node
    await expect(toOnnx(m, randint(0, 20, [2, 5]), { dynamicAxes: { input: { 1: 'sequence' } } })).rejects.toThrow(/dynamicAxes: the graph depends on the size of a dynamic axis at node \d+ \(/);
  });
}

describe('recurrent layers as ONNX nodes on WASM', () => {
  beforeAll(async () => {
    await import('@axon/backend-wasm');
    await setBackend('wasm');
  });
  suite('wasm');

  it('a Keras layer built by its first call (during the export) has its weights as initializers, and exports with a dynamic batch', async () => {
    setSeed(15);
    const m = new KerasLSTM(4, { returnSequences: true });
    expect(m.built).toBe(false);
    const x = rnd([2, 5, 3]);
    const before = memory().numTensors;
    const bytes = await toOnnx(m, x, { dynamicBatch: true });
    expect(memory().numTensors).toBe(before + 3); // the weights the first call built
    const g = decodeModel('t', bytes).graph!;
    expect(g.initializer!.map((t) => t.name)).toEqual(['kernel', 'recurrentKernel', 'bias']);
    expect(g.node!.filter((n) => n.opType === 'Constant' && n.attribute![0]!.t!.dims!.length > 1)).toEqual([]);
    const x3 = rnd([3, 5, 3]);
    const [got] = await ortRun(await ort.InferenceSession.create(bytes), ['input'], [x3]);
    expectAllClose(got!.data, (await m.forward(x3).data()) as Float32Array, 1e-4, 1e-5, 'built during export');
  });

  it('a masked Keras layer (maskValue) is unrolled, not exported with ONNX semantics that differ', async () => {
    setSeed(13);
    const m = new Keras(new KerasLSTM(4, { maskValue: 0, returnSequences: true }));
    const x = rnd([2, 5, 3]);
    const bytes = await toOnnx(m, x);
    const ops = opCounts(bytes);
    expect(ops.get('LSTM') ?? 0).toBe(0);
    expect(ops.get('Where') ?? 0).toBeGreaterThan(0);
    const session = await ort.InferenceSession.create(bytes);
    const [got] = await ortRun(session, ['input'], [x]);
    expectAllClose(got!.data, (await m.forward(x).data()) as Float32Array, 1e-4, 1e-5, 'masked');
    // its zero initial output is a batch-sized constant: dynamicBatch is refused
    await expect(toOnnx(m, x, { dynamicBatch: true })).rejects.toThrow(/dynamicBatch: the graph depends on the batch size at node \d+/);
  });

  it('a Keras LSTM with another activation is unrolled (ONNX LSTM nodes only for tanh/sigmoid)', async () => {
    const m = new Keras(new KerasLSTM(3, { activation: 'relu' }));
    const x = rnd([2, 4, 3]);
    const bytes = await toOnnx(m, x);
    expect(opCounts(bytes).get('LSTM') ?? 0).toBe(0);
    const [got] = await ortRun(await ort.InferenceSession.create(bytes), ['input'], [x]);
    expectAllClose(got!.data, (await m.forward(x).data()) as Float32Array, 1e-4, 1e-5, 'relu LSTM');
  });

  it('no hook is left installed, and nothing leaks, when the export fails after a recurrent layer ran', async () => {
    class Fails extends Module {
      lstm = new LSTM(3, 4);
      forward(x: Tensor): Tensor {
        const [out] = this.lstm.forward(x);
        return out.div(out.max().item()); // refused: a host read of a value computed from the input
      }
    }
    setSeed(14);
    const m = new Fails();
    const x = rnd([5, 2, 3]);
    const [ref] = m.lstm.forward(x);
    const want = (await ref.data()) as Float32Array;
    const before = memory();
    await expect(toOnnx(m, x)).rejects.toThrow(/reads the values of a tensor computed from its inputs/);
    expect(memory().numTensors).toBe(before.numTensors);
    expect(memory().numBytes).toBe(before.numBytes);
    // neither hook is left behind
    expect(setRecurrentExportHook(null)).toBeNull();
    expect(setTraceHook(null)).toBeNull();
    // a plain forward is unchanged, and its ops are seen one by one by a tracer (no exporter: no node)
    const seen: string[] = [];
    const prev = setTraceHook((op) => void seen.push(op));
    let again: Tensor;
    try {
      [again] = m.lstm.forward(x);
    } finally {
      setTraceHook(prev);
    }
    expect(seen.filter((op) => op === 'matmul').length).toBe(1 + 5); // the input projection, then one per step
    expect([...((await again.data()) as Float32Array)]).toEqual([...want]);
  });

  it('dynamicAxes: bad values are AxonErrors', async () => {
    const m = new GruNet();
    const x = rnd([2, 3, 4]);
    await expect(toOnnx(m, x, { dynamicAxes: { nope: { 0: 'b' } } })).rejects.toThrow(/dynamicAxes names 'nope', which is neither an input \(input\) nor an output \(output\)/);
    await expect(toOnnx(m, x, { dynamicAxes: { input: { 3: 'b' } } })).rejects.toThrow(/input 'input' \[2,3,4\] has no non-empty axis 3/);
    await expect(toOnnx(m, x, { dynamicAxes: { input: { x: 'b' } as unknown as Record<number, string> } })).rejects.toThrow(/has axis 'x', expected a non-negative integer/);
    await expect(toOnnx(m, x, { dynamicAxes: { input: { 1: '' } } })).rejects.toThrow(/axis 1 is named '', expected a non-empty string/);
    await expect(toOnnx(m, x, { dynamicAxes: [] as unknown as Record<string, Record<number, string>> })).rejects.toThrow(/dynamicAxes must map/);
    // an output axis that follows a dynamic input axis must be named too
    await expect(toOnnx(m, x, { dynamicAxes: { input: { 1: 'sequence' } } })).rejects.toThrow(/output 'output' has a dimension that changes with it — name that axis in dynamicAxes/);
  });
});

describeOnWebGPU('recurrent layers as ONNX nodes on WebGPU', () => {
  suite('webgpu');
});
