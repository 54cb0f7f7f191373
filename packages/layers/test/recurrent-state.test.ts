/**
 * Keras' `returnState` and `initialState` through `call`, eager and symbolic: the seq2seq pattern
 * (an encoder's states feeding a decoder) as a functional model — outputs equal to running the
 * layers' `forwardWithState` by hand, training, save/load — and the refusals.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AxonError, type Tensor, memory, noGrad, randn, setSeed, tidy } from '@axon/core';
import { Adam } from '@axon/optimizers';
import { Dense, GraphModel, KerasGRU, KerasLSTM, type Module, SimpleRNN, input, loadModel, model, modelFromJson, save, sequential } from '../src/index.js';
import { useTestBackend } from './helpers.js';

beforeAll(async () => {
  await useTestBackend();
});
const dir = mkdtempSync(join(tmpdir(), 'axon-rstate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bits = (t: Tensor): number[] => [...new Uint32Array(new Float32Array(t.dataSync()).buffer)];

type Kind = 'lstm' | 'gru' | 'rnn';
/** The Keras seq2seq model at small sizes: encoder (returnState) → decoder (initialState, returnSequences, returnState) → Dense softmax. */
function seq2seq(kind: Kind, units = 6) {
  const make = (o: { returnSequences?: boolean; name: string }) => (kind === 'lstm' ? new KerasLSTM(units, { ...o, returnState: true }) : kind === 'gru' ? new KerasGRU(units, { ...o, returnState: true }) : new SimpleRNN(units, { ...o, returnState: true }));
  const encIn = input({ shape: [5, 3], name: 'enc_in' });
  const decIn = input({ shape: [4, 2], name: 'dec_in' });
  const enc = make({ name: `${kind}_enc` });
  const encOuts = enc.call(encIn);
  const dec = make({ returnSequences: true, name: `${kind}_dec` });
  const [decOut] = dec.call(decIn, { initialState: encOuts.slice(1) });
  const dense = new Dense(7, { activation: 'softmax', name: `${kind}_out` });
  const out = dense.call(decOut!);
  return { encIn, decIn, enc, dec, dense, encOuts, out, m: model({ inputs: [encIn, decIn], outputs: out, name: `seq2seq_${kind}` }) };
}

describe('returnState and initialState through call', () => {
  it('eager call returns [output, ...states] (LSTM h, c; GRU and SimpleRNN h), equal to forwardWithState; initialState is used', () => noGrad(() => {
    setSeed(1);
    const before = memory().numTensors;
    for (const [layer, n] of [[new KerasLSTM(4, { returnState: true }), 2], [new KerasGRU(4, { returnState: true, returnSequences: true }), 1], [new SimpleRNN(4, { returnState: true }), 1]] as const) {
      const x = randn([2, 5, 3]);
      const outs = layer.call(x);
      expect(Array.isArray(outs)).toBe(true);
      expect(outs.length).toBe(1 + n);
      const ref = layer.forwardWithState(x);
      outs.forEach((t, i) => expect(bits(t)).toEqual(bits(ref[i]!)));
      for (const s of outs.slice(1)) expect(s.shape).toEqual([2, 4]);
      // a given initial state changes the result and equals forwardWithState's
      const init = Array.from({ length: n }, () => randn([2, 4]));
      const withInit = layer.call(x, { initialState: init });
      const refInit = layer.forwardWithState(x, { initialState: init });
      withInit.forEach((t, i) => expect(bits(t)).toEqual(bits(refInit[i]!)));
      expect(bits(withInit[0]!)).not.toEqual(bits(outs[0]!));
      // the mask still works, positionally and as an option
      const r = randn([2, 5]);
      const mask = r.gt(0);
      const a = layer.call(x, mask);
      const b = layer.call(x, { mask });
      a.forEach((t, i) => expect(bits(t)).toEqual(bits(b[i]!)));
      for (const t of [x, r, mask, ...outs, ...ref, ...init, ...withInit, ...refInit, ...a, ...b]) t.dispose();
      layer.dispose();
    }
    expect(memory().numTensors).toBe(before);
  }));

  it('without returnState call returns the output alone (and frees the states), with or without initialState', () => noGrad(() => {
    const lstm = new KerasLSTM(3, { inputShape: [4, 2] });
    const x = randn([2, 4, 2]);
    const h = randn([2, 3]);
    const c = randn([2, 3]);
    const before = memory().numTensors;
    const y = lstm.call(x, { initialState: [h, c] });
    expect(Array.isArray(y)).toBe(false);
    expect(y.shape).toEqual([2, 3]);
    const [ref] = lstm.forwardWithState(x, { initialState: [h, c] }).map((t, i) => (i === 0 ? t : (t.dispose(), t)));
    expect(bits(y)).toEqual(bits(ref!));
    y.dispose();
    ref!.dispose();
    expect(memory().numTensors).toBe(before);
    for (const t of [x, h, c]) t.dispose();
    lstm.dispose();
  }));

  for (const kind of ['lstm', 'gru', 'rnn'] as const) {
    it(`${kind}: the seq2seq functional model equals the layers run by hand with forwardWithState, trains, and reloads bit-identically`, async () => {
      setSeed(7);
      const before = memory().numTensors;
      const { enc, dec, dense, encOuts, out, m } = seq2seq(kind);
      expect(Array.isArray(encOuts)).toBe(true);
      expect(encOuts.map((s) => s.shape)).toEqual([[null, 6], ...(kind === 'lstm' ? [[null, 6], [null, 6]] : [[null, 6]])]);
      expect(encOuts.map((s) => s.outputIndex)).toEqual(encOuts.map((_, i) => i));
      expect(out.shape).toEqual([null, 4, 7]);
      expect(m).toBeInstanceOf(GraphModel);
      expect(m.nodes.length).toBe(3);
      expect(m.summary()).toContain(`${kind}_enc[1]`);
      const xe = randn([3, 5, 3]);
      const xd = randn([3, 4, 2]);
      const nStates = kind === 'lstm' ? 2 : 1;
      const y = tidy(() => {
        const afterInputs = memory().numTensors;
        const r = noGrad(() => m.forward(xe, xd));
        // the encoder's output and the decoder's states, which nothing reads, were freed: what is
        // left is y and what a run keeps until its scope ends (the encoder's states, the decoder's sequence)
        expect(memory().numTensors).toBe(afterInputs + 1 + nStates + 1);
        return r;
      });
      const hand = tidy(() => noGrad(() => {
        const [, ...states] = enc.forwardWithState(xe);
        const [seq] = dec.forwardWithState(xd, { initialState: states });
        return dense.call(seq!);
      }));
      expect(y.shape).toEqual([3, 4, 7]);
      expect(bits(y)).toEqual(bits(hand));
      hand.dispose();

      // save/load: the same weights names, references to output j of a node, bit-identical predictions
      const path = join(dir, kind);
      await save(m, path);
      const json = JSON.parse(readFileSync(join(path, 'model.json'), 'utf8')) as { config: { nodes: { layer: string; inputs: unknown[]; initialState?: number }[] } };
      const decNode = json.config.nodes.find((n) => n.layer === `${kind}_dec`)!;
      expect(decNode.initialState).toBe(kind === 'lstm' ? 2 : 1);
      expect(decNode.inputs).toEqual([{ input: 1 }, ...(kind === 'lstm' ? [{ node: 0, output: 1 }, { node: 0, output: 2 }] : [{ node: 0, output: 1 }])]);
      const again = (await loadModel(path)) as GraphModel;
      expect(again.namedParameters().map(([n]) => n)).toEqual(m.namedParameters().map(([n]) => n));
      expect(m.namedParameters().map(([n]) => n)[0]).toBe(`${kind}_enc.kernel`);
      const y2 = tidy(() => noGrad(() => again.forward(xe, xd)));
      expect(bits(y2)).toEqual(bits(y));
      y2.dispose();
      again.dispose();

      // multi-input fit does not exist: a PyTorch-style loop (forward, loss, backward, step)
      const target = tidy(() => randn([3, 4, 7]).softmax(-1));
      const opt = new Adam(m.parameters(), { lr: 0.05 });
      const losses: number[] = [];
      for (let step = 0; step < 15; step++) {
        const loss = tidy(() => {
          opt.zeroGrad();
          const l = m.forward(xe, xd).sub(target).square().mean();
          l.backward();
          return l;
        });
        opt.step();
        losses.push(loss.item());
        loss.dispose();
      }
      expect(losses[14]!).toBeLessThan(losses[0]! * 0.9);
      for (const t of [xe, xd, y, target]) t.dispose();
      opt.dispose();
      m.dispose();
      expect(memory().numTensors).toBe(before);
    });
  }

  it('fit, evaluate and predict work on a one-input model whose output is a state', async () => {
    setSeed(3);
    const before = memory().numTensors;
    const x = input({ shape: [6, 2] });
    const [, h] = new KerasGRU(5, { returnSequences: true, returnState: true }).call(x);
    const m = model({ inputs: x, outputs: new Dense(1).call(h!) });
    m.compile({ optimizer: { name: 'adam', learningRate: 0.05 }, loss: 'mse' });
    const xs = randn([32, 6, 2]);
    const ys = tidy(() => xs.sum([1, 2]).reshape([32, 1]).mul(0.2));
    const hist = await m.fit(xs, ys, { epochs: 15, batchSize: 8, verbose: 0 });
    const loss = hist.history['loss']!;
    expect(loss[14]!).toBeLessThan(loss[0]! * 0.7);
    const p = m.predict(xs);
    expect(p.shape).toEqual([32, 1]);
    expect((await m.evaluate(xs, ys))['loss']!).toBeLessThan(loss[0]!);
    p.dispose();
    for (const t of [xs, ys]) t.dispose();
    m.dispose();
    expect(memory().numTensors).toBe(before);
  });

  it('Sequential refuses a layer with returnState at build time, naming it', () => {
    const before = memory().numTensors;
    const l = new KerasLSTM(3, { returnState: true, name: 'stateful_lstm', inputShape: [4, 2] });
    expect(() => sequential([l as unknown as Module])).toThrow(AxonError);
    expect(() => sequential([l as unknown as Module])).toThrow(/'stateful_lstm'.*returnState/);
    const first = sequential([new Dense(2, { inputShape: [3] })]);
    expect(() => first.add(l as unknown as Module)).toThrow(/'stateful_lstm'/);
    expect(first.layers.length).toBe(1);
    first.dispose();
    l.dispose();
    // without returnState it is a plain layer there
    const ok = sequential([new KerasLSTM(3, { inputShape: [4, 2] }), new Dense(1)]);
    const x = randn([2, 4, 2]);
    const y = tidy(() => noGrad(() => ok.call(x)));
    expect(y.shape).toEqual([2, 1]);
    for (const t of [x, y]) t.dispose();
    ok.dispose();
    expect(memory().numTensors).toBe(before);
  });

  it('bad initialState (count, shape, mixed symbolic and concrete) → AxonError naming the layer, nothing built or leaked', () => {
    const before = memory().numTensors;
    const enc = new KerasLSTM(4, { returnState: true, name: 'enc' });
    const dec = new KerasLSTM(4, { name: 'dec' });
    const gru = new KerasGRU(4, { name: 'gru_dec' });
    const a = input({ shape: [5, 3] });
    const [, h, c] = enc.call(a);
    const d1 = new Dense(5);
    const wide = d1.call(h!);
    expect(() => dec.call(a, { initialState: [h!] })).toThrow(/KerasLSTM 'dec'.*initialState must be 2 float32 symbolic tensors \[null, 4\] \(\[h, c\]\), got 1/);
    expect(() => dec.call(a, { initialState: [h!, wide] })).toThrow(/'dec'.*\[null,5\]/);
    expect(() => gru.call(a, { initialState: [h!, c!] })).toThrow(/KerasGRU 'gru_dec'.*initialState must be 1 float32 symbolic tensor \[null, 4\]/);
    expect(() => dec.call(a, { initialState: [h!, c!], extra: 1 } as never)).toThrow(/unknown option/);
    const x = randn([2, 5, 3]);
    const hc = randn([2, 4]);
    expect(() => dec.call(a, { initialState: [hc, hc] } as never)).toThrow(/cannot mix symbolic and concrete/);
    expect(() => dec.call(x, { initialState: [h!, c!] } as never)).toThrow(/cannot mix symbolic and concrete/);
    const bad = randn([2, 5]);
    expect(() => dec.call(x, { initialState: [hc] })).toThrow(/KerasLSTM 'dec'.*initialState must be 2 float32 Tensors \[2, 4\]/);
    expect(() => dec.call(x, { initialState: [hc, bad] })).toThrow(/'dec'.*initialState/);
    expect(() => dec.call(x, hc, hc as never)).toThrow(/'dec'.*call expects \(x, mask\?\)/);
    for (const t of [x, hc, bad]) t.dispose();
    for (const l of [enc, dec, gru, d1]) l.dispose();
    expect(memory().numTensors).toBe(before);
  });

  it('model.json written before nodes had several outputs still loads; a reference to an output a node lacks, or a bad initialState count, is refused', () => {
    const before = memory().numTensors;
    // the form every functional model.json had: references { input } / { node }, no output index, no initialState
    const old = {
      format: 'axon-model/1',
      className: 'Functional',
      name: 'old',
      config: {
        inputs: [{ name: 'x', shape: [5, 3], dtype: 'float32' }],
        layers: [
          { className: 'KerasLSTM', name: 'l', config: { units: 4, returnSequences: false, returnState: false, inputDim: 3 } },
          { className: 'Dense', name: 'd', config: { units: 2 } },
        ],
        nodes: [
          { layer: 'l', inputs: [{ input: 0 }] },
          { layer: 'd', inputs: [{ node: 0 }] },
        ],
        output: { node: 1 },
      },
    };
    const m = modelFromJson(old) as GraphModel;
    const x = randn([2, 5, 3]);
    const y = tidy(() => noGrad(() => m.forward(x)));
    expect(y.shape).toEqual([2, 2]);
    for (const t of [x, y]) t.dispose();
    m.dispose();
    const badRef = structuredClone(old);
    badRef.config.nodes[1]!.inputs = [{ node: 0, output: 1 } as never];
    expect(() => modelFromJson(badRef)).toThrow(/bad reference \{"node":0,"output":1\}/);
    const badInit = structuredClone(old);
    (badInit.config.nodes[0] as { initialState?: number }).initialState = 1;
    expect(() => modelFromJson(badInit)).toThrow(/initialState must be the number of its last inputs/);
    expect(memory().numTensors).toBe(before);
  });
});
