/**
 * Issue 9, items 7–9 (layers part): checkpoints hold everything to continue exactly. A run is
 * interrupted (an error, `stopTraining` during a batch, a timer as a SIGINT handler would, a save
 * stopped before any filesystem step) and continued by a fresh model under another global seed
 * with `checkpoint: { dir, resume: true }` (or BackupAndRestore): the final weights must equal an
 * uninterrupted run's bit for bit, for tensor data and for a dataset pipeline (shuffle + batch +
 * random augmentation), with Dropout (global stream and seeded), Adam and a StepLR schedule.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Tensor, memory, randint, randn, setSeed } from '@axon/core';
import { StepLR } from '@axon/optimizers';
import { fromArrays } from '@axon/datasets';
import {
  BackupAndRestore, type Batch, type BatchSource, type Callback, Dense, Dropout, type FitOptions, type History, type IndexedBatchSource, type Logs, type Sequential, deleteCheckpoints,
  latestCheckpoint, sequential,
} from '../src/index.js';
import { setIoHookForTests } from '../src/fsutil.js';
import { useTestBackend } from './helpers.js';

let root = '';
let n = 0;
const fresh = (): string => join(root, `run-${n++}`);
beforeAll(async () => {
  await useTestBackend();
  root = await mkdtemp(join(tmpdir(), 'axon-resume-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
afterEach(() => setIoHookForTests(null));

function build(seed: number): Sequential {
  setSeed(seed);
  const m = sequential([
    new Dense(16, { inputShape: [6], activation: 'relu' }),
    new Dropout(0.3), // masks from the global stream
    new Dense(8, { activation: 'relu' }),
    new Dropout({ rate: 0.2, seed: 7 }), // seeded: its mask counter is extra state
    new Dense(3, { activation: 'softmax' }),
  ]);
  m.compile({ optimizer: { name: 'adam', learningRate: 0.02 }, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

/** Every tensor of the model's state, bit for bit. */
function bits(m: Sequential): string {
  const sd = m.stateDict();
  return Object.keys(sd)
    .sort()
    .map((k) => `${k}:${Array.from(new Uint32Array((sd[k]!.dataSync() as Float32Array).slice().buffer)).join(',')}`)
    .join('|');
}

function historyBits(h: History): string {
  return JSON.stringify(Object.fromEntries(Object.entries(h.history).map(([k, v]) => [k, v.map((x) => Array.from(new Uint32Array(new Float32Array([x]).buffer))[0])])));
}

let X: Tensor;
let Y: Tensor;
let xHost: Float32Array;
let yHost: Int32Array;
beforeAll(async () => {
  await useTestBackend();
  setSeed(100);
  X = randn([90, 6]);
  Y = randint(0, 3, [90]);
  xHost = X.dataSync() as Float32Array;
  yHost = Y.dataSync() as Int32Array;
});

const EPOCHS = 4;
const arrayOptions = (extra: Partial<FitOptions> = {}): FitOptions => ({ epochs: EPOCHS, batchSize: 8, validationSplit: 0.2, verbose: 0, scheduler: (o) => new StepLR(o, { stepSize: 2, gamma: 0.5 }), ...extra });

/** A callback that throws when it reaches (epoch, batch): a crash. */
const crashAt = (epoch: number, batch: number): Callback => {
  let e = 0;
  return { onEpochBegin: (i) => void (e = i), onBatchEnd: (b) => { if (e === epoch && b === batch) throw new Error(`crash at epoch ${epoch} batch ${batch}`); } };
};
/** A callback that sets stopTraining at (epoch, batch), as a SIGINT handler would. */
const stopAt = (m: Sequential, epoch: number, batch: number): Callback => {
  let e = 0;
  return { onEpochBegin: (i) => void (e = i), onBatchEnd: (b) => { if (e === epoch && b === batch) m.stopTraining = true; } };
};

let reference: { bits: string; history: string } | null = null;
async function arraysReference(): Promise<{ bits: string; history: string }> {
  if (reference) return reference;
  const m = build(0);
  const h = await m.fit(X, Y, arrayOptions());
  reference = { bits: bits(m), history: historyBits(h) };
  m.dispose();
  return reference;
}

/** Continues from `dir` with a fresh model built under another seed (as a new process would). */
async function resumeArrays(dir: string, extra: Partial<FitOptions> = {}, seed = 999): Promise<{ bits: string; history: History }> {
  const m = build(seed);
  const h = await m.fit(X, Y, arrayOptions({ checkpoint: { dir, resume: true }, ...extra }));
  const b = bits(m);
  m.dispose();
  return { bits: b, history: h };
}

describe('resume from checkpoints: tensor data', () => {
  it('after a crash, with a checkpoint every epoch: bit-identical weights and history', async () => {
    const ref = await arraysReference();
    const dir = fresh();
    const m = build(0);
    await expect(m.fit(X, Y, arrayOptions({ checkpoint: { dir }, callbacks: [crashAt(2, 4)] }))).rejects.toThrow(/crash at epoch 2 batch 4/);
    expect(bits(m)).not.toBe(ref.bits);
    m.dispose();
    expect(await latestCheckpoint(dir)).toMatchObject({ epoch: 2, step: 0, globalStep: 18, reason: 'epoch' });
    const r = await resumeArrays(dir);
    expect(r.history.resumedFrom).toMatchObject({ epoch: 2, step: 0 });
    expect(r.bits).toBe(ref.bits);
    expect(historyBits(r.history)).toBe(ref.history);
  });

  it('after a crash, with a checkpoint every N steps (inside an epoch): bit-identical', async () => {
    const ref = await arraysReference();
    const dir = fresh();
    const m = build(0);
    await expect(m.fit(X, Y, arrayOptions({ checkpoint: { dir, every: 5, keep: 2 }, callbacks: [crashAt(2, 6)] }))).rejects.toThrow(/crash/);
    m.dispose();
    expect(await latestCheckpoint(dir)).toMatchObject({ epoch: 2, step: 2, globalStep: 20, reason: 'steps' });
    expect((await readdir(dir)).filter((f) => f.endsWith('.safetensors')).length).toBe(2); // keep: 2
    const r = await resumeArrays(dir, { checkpoint: { dir, every: 5, keep: 2, resume: true } });
    expect(r.bits).toBe(ref.bits);
    expect(historyBits(r.history)).toBe(ref.history);
  });

  it('stopTraining during a batch ends fit after that step with a checkpoint of that exact position; resuming (twice) is bit-identical', async () => {
    const ref = await arraysReference();
    const dir = fresh();
    const m = build(0);
    const lines: string[] = [];
    const h = await m.fit(X, Y, arrayOptions({ checkpoint: { dir }, callbacks: [stopAt(m, 1, 5)], log: (s) => lines.push(s) }));
    m.dispose();
    expect(h.stopped).toMatchObject({ epoch: 1, batch: 5, interrupted: true, reason: 'model.stopTraining was set' });
    expect(h.checkpoints.at(-1)).toMatchObject({ epoch: 1, step: 6, globalStep: 15, reason: 'stop' });
    expect(lines.at(-1)).toMatch(/^Epoch 2\/4 stopped after batch 6: model\.stopTraining was set - loss: .* checkpoint written to .*ckpt-[0-9a-f]{16}\.safetensors \(continue with fit/);
    // a second interruption of the resumed run, then a last resume
    const m2 = build(555);
    const h2 = await m2.fit(X, Y, arrayOptions({ checkpoint: { dir, resume: true }, callbacks: [stopAt(m2, 2, 8)] }));
    m2.dispose();
    expect(h2.stopped).toMatchObject({ epoch: 2, batch: 8 });
    expect(h2.checkpoints.at(-1)).toMatchObject({ epoch: 2, step: 9 });
    const r = await resumeArrays(dir);
    expect(r.bits).toBe(ref.bits);
    expect(historyBits(r.history)).toBe(ref.history);
  });

  it('a timer setting stopTraining (as a SIGINT handler does) stops a fit without callbacks; resume is bit-identical', async () => {
    const opts = (extra: Partial<FitOptions>): FitOptions => ({ epochs: 60, batchSize: 4, verbose: 0, ...extra });
    const r0 = build(0);
    await r0.fit(X, Y, opts({}));
    const refBits = bits(r0);
    r0.dispose();
    const dir = fresh();
    const m = build(0);
    const timer = setTimeout(() => (m.stopTraining = true), 40);
    const h = await m.fit(X, Y, opts({ checkpoint: { dir } }));
    clearTimeout(timer);
    m.dispose();
    expect(h.stopped?.interrupted).toBe(true); // mid-epoch, or at an epoch's end while the checkpoint was written
    expect(h.stopped!.epoch).toBeLessThan(59);
    expect(h.checkpoints.length).toBeGreaterThan(0);
    const m2 = build(1);
    await m2.fit(X, Y, opts({ checkpoint: { dir, resume: true } }));
    expect(bits(m2)).toBe(refBits);
    m2.dispose();
  });

  it('resuming a finished run restores its final state without training; mismatched data is refused before anything changes', async () => {
    const ref = await arraysReference();
    const dir = fresh();
    const m = build(0);
    await m.fit(X, Y, arrayOptions({ checkpoint: { dir } }));
    expect(bits(m)).toBe(ref.bits);
    m.dispose();
    const r = await resumeArrays(dir);
    expect(r.bits).toBe(ref.bits);
    expect(historyBits(r.history)).toBe(ref.history);
    const other = build(3);
    const before = bits(other);
    await expect(other.fit(X, Y, arrayOptions({ batchSize: 16, checkpoint: { dir, resume: true } }))).rejects.toThrow(/written for 72 training examples in batches of 8, shuffled; this fit has 72 in batches of 16/);
    await expect(other.fit(X, Y, arrayOptions({ scheduler: undefined, checkpoint: { dir, resume: true } }))).rejects.toThrow(/holds the state of a StepLR scheduler, but this fit has no scheduler/);
    expect(bits(other)).toBe(before);
    other.dispose();
  });

  it('fit leaks no tensors when it writes and resumes checkpoints', async () => {
    const dir = fresh();
    const before = memory();
    const m = build(0);
    const m2 = build(1);
    await m.fit(X, Y, arrayOptions({ checkpoint: { dir, every: 4 }, callbacks: [stopAt(m, 1, 2)] }));
    await m2.fit(X, Y, arrayOptions({ checkpoint: { dir, every: 4, resume: true } }));
    m.dispose(); // frees the parameters and the optimizer's state
    m2.dispose();
    expect(memory().numTensors).toBe(before.numTensors);
    expect(memory().numBytes).toBe(before.numBytes);
  });
});

describe('resume from checkpoints: a dataset pipeline', () => {
  /** fromArrays → shuffle → batch → a random augmentation keyed by (iteration, index) — @axon/datasets' Dataset. */
  const pipeline = (): { train: BatchSource; val: BatchSource } => {
    const all = fromArrays({ x: { data: xHost, shape: [90, 6] }, y: yHost });
    const [tr, va] = all.split([72, 18], { seed: 4 });
    const train = tr!
      .shuffle(3)
      .batch(8)
      .map((b, index, iteration) => {
        // jitter drawn from a stream keyed by (iteration, index): a pure function of the pass
        const bx = b.x as { data: Float32Array; shape: readonly number[] };
        let s = (iteration * 7919 + index * 104729 + 1) >>> 0;
        const data = bx.data.map((v) => {
          s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
          return v + (s / 2 ** 32 - 0.5) * 0.1;
        });
        return { ...b, x: { data, shape: bx.shape } };
      });
    return { train: train as unknown as BatchSource, val: va!.batch(16) as unknown as BatchSource };
  };
  const dsOptions = (val: BatchSource, extra: Partial<FitOptions> = {}): FitOptions => ({ epochs: EPOCHS, verbose: 0, validationData: val, scheduler: (o) => new StepLR(o, { stepSize: 1, gamma: 0.7 }), schedulerStep: 'epoch', ...extra });

  it('resuming a finished run on a dataset restores the state of lazily-built layers', async () => {
    const lazy = (seed: number): Sequential => {
      setSeed(seed);
      const m = sequential([new Dense(5, { activation: 'relu' }), new Dense(3)]); // sizes inferred from the first batch
      m.compile({ optimizer: 'adam', loss: { name: 'sparseCategoricalCrossentropy', fromLogits: true } });
      return m;
    };
    const dir = fresh();
    const p = pipeline();
    const m = lazy(0);
    await m.fit(p.train, { epochs: 2, verbose: 0, checkpoint: { dir } });
    const want = bits(m);
    m.dispose();
    const q = pipeline();
    const m2 = lazy(1);
    const h = await m2.fit(q.train, { epochs: 2, verbose: 0, checkpoint: { dir, resume: true } });
    expect(h.resumedFrom).toMatchObject({ epoch: 2, step: 0 });
    expect(bits(m2)).toBe(want);
    m2.dispose();
  });

  it('the pipeline is an IndexedBatchSource: fit iterates it by pass index', () => {
    const { train } = pipeline();
    const t = train as unknown as IndexedBatchSource;
    expect(typeof t.iterate).toBe('function');
    expect(t.iteration).toBe(0);
  });

  it('crash, stop and timer interruptions with checkpoints every epoch and every N steps: bit-identical weights and history', async () => {
    const p0 = pipeline();
    const r0 = build(0);
    const refH = await r0.fit(p0.train, dsOptions(p0.val));
    const refBits = bits(r0);
    r0.dispose();
    const cases: { what: string; every: 'epoch' | number; interrupt: (m: Sequential) => Callback }[] = [
      { what: 'crash, every epoch', every: 'epoch', interrupt: () => crashAt(2, 3) },
      { what: 'crash, every 3 steps', every: 3, interrupt: () => crashAt(1, 7) },
      { what: 'stop mid-epoch, every 4 steps', every: 4, interrupt: (m) => stopAt(m, 2, 1) },
      { what: 'stop at the last batch, every epoch', every: 'epoch', interrupt: (m) => stopAt(m, 0, 8) },
    ];
    for (const c of cases) {
      const dir = fresh();
      const p = pipeline();
      const m = build(0);
      await m.fit(p.train, dsOptions(p.val, { checkpoint: { dir, every: c.every }, callbacks: [c.interrupt(m)] })).catch((e: unknown) => {
        if (!(e instanceof Error) || !/crash/.test(e.message)) throw e;
      });
      m.dispose();
      expect(await latestCheckpoint(dir), c.what).not.toBeNull();
      const q = pipeline(); // a new process: a new pipeline object, at iteration 0
      const m2 = build(42);
      const h = await m2.fit(q.train, dsOptions(q.val, { checkpoint: { dir, every: c.every, resume: true } }));
      expect(bits(m2), c.what).toBe(refBits);
      expect(historyBits(h), c.what).toBe(historyBits(refH));
      expect((q.train as unknown as IndexedBatchSource).iteration, c.what).toBe(EPOCHS);
      m2.dispose();
    }
  });

  it('a plain iterable dataset (no iterate) resumes by skipping the batches already done', async () => {
    const list: Batch[] = [];
    const batches = (k = list.length): BatchSource => ({ [Symbol.iterator]: () => list.slice(0, k)[Symbol.iterator]() });
    for (let i = 0; i < 72; i += 8) list.push({ x: { data: xHost.slice(i * 6, (i + 8) * 6), shape: [8, 6] }, y: { data: yHost.slice(i, i + 8), shape: [8], dtype: 'int32' } });
    const opts = (extra: Partial<FitOptions>): FitOptions => ({ epochs: 3, verbose: 0, ...extra });
    const r0 = build(0);
    await r0.fit(batches(), opts({}));
    const refBits = bits(r0);
    r0.dispose();
    const dir = fresh();
    const m = build(0);
    await m.fit(batches(), opts({ checkpoint: { dir }, callbacks: [stopAt(m, 1, 3)] }));
    m.dispose();
    const m2 = build(9);
    await m2.fit(batches(), opts({ checkpoint: { dir, resume: true } }));
    expect(bits(m2)).toBe(refBits);
    m2.dispose();
    // a dataset with fewer batches than the checkpoint consumed is refused
    const m3 = build(9);
    await expect(m3.fit(batches(2), opts({ checkpoint: { dir: (await stopIn(fresh(), batches())).dir, resume: true } }))).rejects.toThrow(/yielded 2 batches in epoch 2, fewer than the 4 the checkpoint had consumed/);
    m3.dispose();
  });

  async function stopIn(dir: string, batches: BatchSource): Promise<{ dir: string }> {
    const m = build(0);
    await m.fit(batches, { epochs: 3, verbose: 0, checkpoint: { dir }, callbacks: [stopAt(m, 1, 3)] });
    m.dispose();
    return { dir };
  }
});

describe('BackupAndRestore', () => {
  it('restores on train begin, backs up, keeps the backup when interrupted and deletes it when training finishes', async () => {
    const ref = await arraysReference();
    const backupDir = fresh();
    const m = build(0);
    await expect(m.fit(X, Y, arrayOptions({ callbacks: [new BackupAndRestore({ backupDir, saveFreq: 'epoch' }), crashAt(1, 2)] }))).rejects.toThrow(/crash/);
    m.dispose();
    expect(await latestCheckpoint(backupDir)).toMatchObject({ epoch: 1, step: 0 });
    // Ctrl-C: interrupted, the backup is kept (and now holds that exact position)
    const m2 = build(5);
    const bar = new BackupAndRestore({ backupDir, saveFreq: 3 });
    const h2 = await m2.fit(X, Y, arrayOptions({ callbacks: [bar, stopAt(m2, 2, 0)] }));
    m2.dispose();
    expect(h2.resumedFrom).toMatchObject({ epoch: 1, step: 0 });
    expect(h2.stopped?.interrupted).toBe(true);
    expect(bar.lastBackup).toMatchObject({ epoch: 2, step: 1, reason: 'stop' });
    expect(await latestCheckpoint(backupDir)).toMatchObject({ epoch: 2, step: 1 });
    // finishing deletes the backup
    const m3 = build(6);
    await m3.fit(X, Y, arrayOptions({ callbacks: [new BackupAndRestore({ backupDir, saveFreq: 3 })] }));
    expect(bits(m3)).toBe(ref.bits);
    m3.dispose();
    await expect(readdir(backupDir)).rejects.toThrow(/ENOENT/);
    expect(await latestCheckpoint(backupDir)).toBeNull();
    await deleteCheckpoints(backupDir); // nothing left: a no-op
  });

  it('is refused together with a checkpoint option', async () => {
    const m = build(0);
    await expect(m.fit(X, Y, arrayOptions({ checkpoint: { dir: fresh() }, callbacks: [new BackupAndRestore({ backupDir: fresh() })] }))).rejects.toThrow(/a checkpoint option or a BackupAndRestore callback, not both/);
    expect(() => new BackupAndRestore({ backupDir: 'x', saveFreq: 0 })).toThrow(/saveFreq must be 'epoch' or a positive integer/);
    m.dispose();
  });
});

describe('checkpoints are atomic: stopped before any filesystem step, the run resumes bit for bit', () => {
  it('at 24+ moments spread over every checkpoint write of a run', async () => {
    const ref = await arraysReference();
    // the filesystem steps of a run that checkpoints every 3 steps
    const probe = fresh();
    const steps: string[] = [];
    setIoHookForTests((s) => void steps.push(s));
    const pm = build(0);
    await pm.fit(X, Y, arrayOptions({ checkpoint: { dir: probe, every: 3, keep: 2 } }));
    setIoHookForTests(null);
    pm.dispose();
    expect(steps.filter((s) => s.endsWith('-> checkpoint.json')).length).toBe(12);
    const stride = Math.max(1, Math.floor(steps.length / 26));
    const points = Array.from({ length: Math.ceil(steps.length / stride) }, (_, i) => i * stride).filter((k) => k < steps.length);
    expect(points.length).toBeGreaterThanOrEqual(24);
    for (const k of points) {
      const dir = fresh();
      let count = 0;
      let stopped: () => void = () => undefined;
      const reached = new Promise<void>((r) => (stopped = r));
      setIoHookForTests(() => {
        if (count++ !== k) return;
        stopped();
        return new Promise<void>(() => undefined); // the process "dies" here
      });
      const m = build(0);
      void m.fit(X, Y, arrayOptions({ checkpoint: { dir, every: 3, keep: 2 } }));
      await reached;
      setIoHookForTests(null);
      // before the first checkpoint there is nothing to resume: the rerun starts over, as the first run did
      const seed = (await latestCheckpoint(dir)) ? 999 : 0;
      const r = await resumeArrays(dir, { checkpoint: { dir, every: 3, keep: 2, resume: true } }, seed);
      expect(r.bits, `stopped before '${steps[k]}'`).toBe(ref.bits);
      const files = (await readdir(dir)).sort();
      expect(files.filter((f) => f.includes('.tmp-')), `leftovers after resuming from a stop before '${steps[k]}'`).toEqual([]);
      expect(files.filter((f) => f.endsWith('.safetensors')).length).toBe(2);
    }
  });
});

describe('extra state and schedulers', () => {
  it("a module's non-tensor state round-trips through extraStateDict, all or nothing", () => {
    setSeed(1);
    const a = sequential([new Dense(4, { inputShape: [3] }), new Dropout({ rate: 0.5, seed: 3 }), new Dropout(0.5)]);
    const b = sequential([new Dense(4, { inputShape: [3] }), new Dropout({ rate: 0.5, seed: 3 }), new Dropout(0.5)]);
    expect(a.extraStateDict()).toEqual({ '1': { calls: 0 } }); // the unseeded Dropout draws from the global stream: no extra state
    const x = randn([2, 3]);
    a.train();
    for (let i = 0; i < 3; i++) a.call(x).dispose();
    expect(a.extraStateDict()).toEqual({ '1': { calls: 3 } });
    b.loadExtraStateDict(a.extraStateDict());
    const d1 = a.layers[1]!.call(x);
    const d2 = b.layers[1]!.call(x);
    expect(Array.from(d2.dataSync())).toEqual(Array.from(d1.dataSync()));
    expect(() => b.loadExtraStateDict({ '1': { calls: 1 }, '7': { calls: 1 } })).toThrow(/no module at "7"/);
    expect(() => b.loadExtraStateDict({ '1': { calls: -1 } })).toThrow(/expects \{ calls: integer >= 0 \}/);
    expect(() => b.loadExtraStateDict({ '2': { calls: 1 } })).toThrow(/missing extra state for "1"/);
    expect(() => b.loadExtraStateDict({ '1': { calls: 9 }, '2': { calls: 1 } })).toThrow(/has no seed/);
    expect(b.extraStateDict()).toEqual({ '1': { calls: 4 } }); // unchanged by the failed loads
    for (const t of [x, d1, d2]) t.dispose();
    a.dispose();
    b.dispose();
  });

  it('fit steps a scheduler every epoch or every batch', async () => {
    const m = build(0);
    m.compile({ optimizer: { name: 'sgd', learningRate: 0.1 }, loss: 'sparseCategoricalCrossentropy' });
    await m.fit(X, Y, { epochs: 3, batchSize: 30, verbose: 0, scheduler: (o) => new StepLR(o, { stepSize: 1, gamma: 0.5 }) });
    expect(m.optimizer!.paramGroups[0]!.lr).toBeCloseTo(0.0125, 10);
    const lrs: number[] = [];
    await m.fit(X, Y, { epochs: 1, batchSize: 30, verbose: 0, scheduler: (o) => new StepLR(o, { stepSize: 1, gamma: 0.5 }), schedulerStep: 'batch', callbacks: [{ onBatchEnd: () => void lrs.push(m.optimizer!.paramGroups[0]!.lr) }] });
    expect(lrs.length).toBe(3);
    expect(lrs[1]! / lrs[0]!).toBeCloseTo(0.5, 10);
    await expect(m.fit(X, Y, { verbose: 0, schedulerStep: 'sometimes' as never })).rejects.toThrow(/schedulerStep must be 'epoch' or 'batch'/);
    m.dispose();
  });
});

void ({} as Logs);
