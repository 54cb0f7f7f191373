/** Issue 9, item 5: training that diverges is reported, stopped by TerminateOnNaN, or named by anomaly mode. */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AxonError, type Tensor, memory, randn, setAnomalyDetection, setSeed } from '@axon/core';
import { Dense, LambdaCallback, type Logs, TerminateOnNaN, sequential } from '../src/index.js';
import { useTestBackend } from './helpers.js';

beforeAll(async () => {
  await useTestBackend();
});
afterEach(() => setAnomalyDetection(false));

/** SGD at lr 10 on a small regression: the loss overflows to Infinity and then NaN within a few batches. */
function diverging(): { model: ReturnType<typeof sequential>; x: Tensor; y: Tensor } {
  setSeed(11);
  const model = sequential([new Dense(8, { inputShape: [4], activation: 'relu' }), new Dense(1)]);
  model.compile({ optimizer: { name: 'sgd', learningRate: 10 }, loss: 'mse' });
  return { model, x: randn([64, 4]), y: randn([64, 1]).mul(10) };
}

describe('fit on a diverging run', () => {
  it('does not return non-finite losses silently: the log reports them even with verbose 0, and History.warnings keeps the line', async () => {
    const { model, x, y } = diverging();
    const lines: string[] = [];
    const h = await model.fit(x, y, { epochs: 5, batchSize: 8, verbose: 0, log: (s) => lines.push(s) });
    expect(h.history.loss!.length).toBe(5);
    expect(h.history.loss!.some((v) => !Number.isFinite(v))).toBe(true);
    expect(h.warnings.length).toBe(1);
    expect(h.warnings[0]).toMatch(/^Epoch \d\/5: loss is (NaN|Infinity) — training diverged/);
    expect(lines).toEqual(h.warnings);
    expect(h.stopped).toBeNull();
    // with verbose 1 the epoch line shows it too
    const lines2: string[] = [];
    const { model: m2, x: x2, y: y2 } = diverging();
    await m2.fit(x2, y2, { epochs: 5, batchSize: 8, verbose: 1, log: (s) => lines2.push(s) });
    expect(lines2.some((l) => /^Epoch \d\/5 - .* - loss: NaN$/.test(l))).toBe(true);
    for (const t of [x, y, x2, y2]) t.dispose();
    model.dispose();
    m2.dispose();
  });

  it('TerminateOnNaN stops after the first batch whose loss is non-finite, naming epoch and batch', async () => {
    const { model, x, y } = diverging();
    const losses: number[] = [];
    const lines: string[] = [];
    const before = memory().numTensors;
    const h = await model.fit(x, y, {
      epochs: 5,
      batchSize: 8,
      verbose: 0,
      log: (s) => lines.push(s),
      callbacks: [new LambdaCallback({ onBatchEnd: (_b: number, logs: Logs) => void losses.push(logs.loss!) }), new TerminateOnNaN()],
    });
    const firstBad = losses.findIndex((v) => !Number.isFinite(v));
    expect(firstBad).toBeGreaterThanOrEqual(0);
    expect(losses.length).toBe(firstBad + 1); // not one batch more
    const epoch = Math.floor(firstBad / 8);
    const batch = firstBad % 8;
    expect(h.stopped).toMatchObject({ epoch, batch, interrupted: true, reason: `Epoch ${epoch + 1}, batch ${batch + 1}: invalid loss ${losses[firstBad]}, terminating training` });
    expect(Number.isFinite(h.stopped!.logs.loss!)).toBe(false);
    expect(h.epoch.length).toBe(epoch); // the cut-short epoch is not recorded as a full one
    expect(lines.at(-1)).toMatch(new RegExp(`^Epoch ${epoch + 1}/5 stopped after batch ${batch + 1}: Epoch ${epoch + 1}, batch ${batch + 1}: invalid loss`));
    expect(memory().numTensors).toBe(before);
    // throwError: fit rejects with that message
    const { model: m2, x: x2, y: y2 } = diverging();
    const before2 = memory().numTensors;
    await expect(m2.fit(x2, y2, { epochs: 5, batchSize: 8, verbose: 0, callbacks: [new TerminateOnNaN({ throwError: true })] })).rejects.toThrow(/^TerminateOnNaN: Epoch \d, batch \d: invalid loss (NaN|Infinity), terminating training$/);
    expect(memory().numTensors).toBe(before2);
    for (const t of [x, y, x2, y2]) t.dispose();
    model.dispose();
    m2.dispose();
  });

  it('with anomaly detection on, fit fails at the step whose op produced a non-finite value, naming it, epoch and batch', async () => {
    setSeed(2);
    const model = sequential([new Dense(2, { inputShape: [3] })]);
    let calls = 0;
    // a loss that takes log(0) on the third batch
    model.compile({ optimizer: 'sgd', loss: (p: Tensor, t: Tensor) => (++calls === 3 ? p.sub(t).square().mean().mul(0).log() : p.sub(t).square().mean()) });
    const x = randn([40, 3]);
    const y = randn([40, 2]);
    setAnomalyDetection(true);
    const before = memory().numTensors;
    const err = await model.fit(x, y, { epochs: 1, batchSize: 10, verbose: 0, shuffle: false }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AxonError);
    expect((err as AxonError).message).toMatch(/^fit: epoch 1, batch 3: anomaly: op 'log' produced a non-finite value/);
    expect(((err as Error).cause as AxonError).op).toBe('anomaly');
    expect(memory().numTensors).toBe(before);
    for (const t of [x, y]) t.dispose();
    model.dispose();
  });
});
