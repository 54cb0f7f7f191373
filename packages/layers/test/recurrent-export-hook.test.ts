/**
 * The internal hook recurrent modules report their runs to (used by @axon/onnx's exporter): what a
 * run reports, that a taken run's inside is hidden from core's tracer and restored after, that a
 * declined run is traced op by op, and that nothing is installed by default.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Tensor, randn, setBackend, setSeed, setTraceHook } from '@axon/core';
import '@axon/autograd';
import { GRU, KerasGRU, KerasLSTM, LSTM, type RecurrentRun, SimpleRNN, setRecurrentExportHook } from '../src/index.js';

beforeAll(async () => {
  await import('@axon/backend-wasm');
  await setBackend('wasm');
});
afterEach(() => {
  setRecurrentExportHook(null);
  setTraceHook(null);
});

/** Runs `fn` with a core tracer recording op names. */
function traced<T>(fn: () => T): { r: T; ops: string[] } {
  const ops: string[] = [];
  const prev = setTraceHook((op) => void ops.push(op));
  try {
    return { r: fn(), ops };
  } finally {
    setTraceHook(prev);
  }
}

describe('setRecurrentExportHook', () => {
  it('is not installed by default; recurrent modules then trace their ops one by one', () => {
    expect(setRecurrentExportHook(null)).toBeNull();
    const { ops } = traced(() => new GRU(3, 4).forward(randn([6, 2, 3])));
    expect(ops.filter((o) => o === 'matmul').length).toBe(1 + 6);
  });

  it('a taken PyTorch-front run reports its input, states, weights and outputs, and hides its ops from the tracer', () => {
    setSeed(1);
    const lstm = new LSTM(3, 4, { numLayers: 2, bidirectional: true, batchFirst: true });
    const x = randn([2, 5, 3]);
    const h0 = randn([4, 2, 4]);
    const c0 = randn([4, 2, 4]);
    const want = lstm.forward(x, [h0, c0]);
    const runs: RecurrentRun[] = [];
    const outs: (readonly Tensor[])[] = [];
    setRecurrentExportHook((run) => {
      runs.push(run);
      return (o) => void outs.push(o);
    });
    const { r, ops } = traced(() => lstm.forward(x, [h0, c0]));
    expect(ops).toEqual([]); // the inside is not traced
    expect(runs.length).toBe(1);
    const run = runs[0]!;
    if (run.front !== 'torch') throw new Error('expected a torch run');
    expect([run.kind, run.hidden, run.numLayers, run.bidirectional, run.batchFirst, run.batched, run.dropoutActive]).toEqual(['LSTM', 4, 2, true, true, true, false]);
    expect(run.module).toBe(lstm);
    expect(run.x).toBe(x);
    expect(run.h0).toBe(h0);
    expect(run.c0).toBe(c0);
    const sd = lstm.stateDict();
    expect(run.weights.map((w) => [w.ih, w.hh, w.bih, w.bhh])).toEqual([
      [sd['weight_ih_l0'], sd['weight_hh_l0'], sd['bias_ih_l0'], sd['bias_hh_l0']],
      [sd['weight_ih_l0_reverse'], sd['weight_hh_l0_reverse'], sd['bias_ih_l0_reverse'], sd['bias_hh_l0_reverse']],
      [sd['weight_ih_l1'], sd['weight_hh_l1'], sd['bias_ih_l1'], sd['bias_hh_l1']],
      [sd['weight_ih_l1_reverse'], sd['weight_hh_l1_reverse'], sd['bias_ih_l1_reverse'], sd['bias_hh_l1_reverse']],
    ]);
    // the outputs the hook gets are the ones returned, with the same values as without a hook
    expect(outs[0]).toEqual([r[0], r[1][0], r[1][1]]);
    expect(r[0].dataSync()).toEqual(want[0].dataSync());
    expect(r[1][1].dataSync()).toEqual(want[1][1].dataSync());
    // the tracer is back after the run
    const prev = setTraceHook(null);
    expect(prev).toBeNull();
  });

  it('a Keras-front run reports its options and weights; a declined run is traced op by op', () => {
    setSeed(2);
    const gru = new KerasGRU(4, { goBackwards: true, returnSequences: true, resetAfter: false });
    const x = randn([2, 3, 5]);
    const runs: RecurrentRun[] = [];
    setRecurrentExportHook((run) => {
      runs.push(run);
      return null; // decline: unrolled
    });
    const { ops } = traced(() => gru.call(x));
    expect(ops.filter((o) => o === 'matmul').length).toBeGreaterThan(3);
    const run = runs[0]!;
    if (run.front !== 'keras') throw new Error('expected a keras run');
    expect([run.kind, run.hidden, run.goBackwards, run.returnSequences, run.resetAfter, run.masked, run.activation, run.recurrentActivation]).toEqual(['GRU', 4, true, true, false, false, 'tanh', 'sigmoid']);
    expect([run.kernel, run.recurrentKernel, run.bias]).toEqual([gru.kernel, gru.recurrentKernel, gru.bias]);
    expect([run.h0, run.c0]).toEqual([null, null]);
    // masks are reported
    runs.length = 0;
    new KerasLSTM(2, { maskValue: 0 }).call(x);
    new SimpleRNN(2).forward(x, randn([2, 3]).gt(0));
    expect(runs.map((r) => r.front === 'keras' && r.masked)).toEqual([true, true]);
  });

  it('a run that throws inside restores core’s tracer', () => {
    setRecurrentExportHook(() => () => {
      throw new Error('not reached');
    });
    const gru = new GRU(3, 4);
    const tracer = (): void => {};
    setTraceHook(tracer);
    // a failure inside the run (validation passed): a recurrent weight was disposed
    gru.stateDict()['weight_hh_l0']!.dispose();
    expect(() => gru.forward(randn([2, 1, 3]))).toThrow();
    expect(setTraceHook(null)).toBe(tracer);
  });
});
