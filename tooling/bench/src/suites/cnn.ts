/**
 * CNN training suite: seconds per epoch of the MNIST CNN (Conv32 3×3 relu → MaxPool 2 → Conv64
 * 3×3 relu → MaxPool 2 → Flatten → Dropout 0.25 → Dense 10 softmax, NCHW, Adam lr 1e-3, batch 64)
 * on the first 8,000 MNIST training digits:
 *
 * - Axon wasm: `mnistCnn()` + `fit` (../axon-cnn.ts), once per thread count of `--threads`;
 * - PyTorch, native, at the same thread counts: `python/cnn_torch.py` (one process per count, kept
 *   running) with Debian's `/usr/bin/python3` through ../peers/torch.ts (shared with the mlp
 *   suite), which checks first that its BLAS is an optimized one;
 *
 * Axon's and PyTorch's epochs are taken in rounds (axon 1t, pytorch 1t, axon 2t, pytorch 2t, then
 * again), so that load changes hit every model alike;
 * - jax-js wasm: the same network with `lax.conv`, max-pool as reshape + max, a `jit`-compiled
 *   `valueAndGrad` step and a hand-written Adam. Its conv is slow (~320 s per epoch), so a fixed
 *   number of steps is timed after warm-up and the figure is extrapolated to a whole epoch.
 */

import { numpy as np, nn, random, jit, valueAndGrad, tree, blockUntilReady, lax } from '@jax-js/jax';
import type { CaseResult, Cell, ContenderInfo, Measurement, SuiteResult } from '../harness.js';
import { isSkipped, measureRoundRobin, median } from '../harness.js';
import { mulberry32, shuffleInPlace } from '../data.js';
import { loadMnist, mnistDir, type Digits } from '../mnist.js';
import { wantPeer, type Suite, type SuiteOptions } from '../suite.js';
import { cnnBarLine, threadedId, threadedLabel } from '../threads.js';
import { axonThreadsNote, startAxon, useAxonThreads } from '../axon.js';
import { jaxThreads, useJaxWasm } from '../peers/jax.js';
import { packageVersion } from '../peers/version.js';
import { numberField, probeNote, probeTorch, startTorchWorker, type TorchProbe } from '../peers/torch.js';
import { axonCnnNote, axonLiveTensors, CNN, prepareAxonCnn } from '../axon-cnn.js';
import { secondsPerEpoch } from './mlp.js';

/** jax-js steps timed (after its warm-up steps); the epoch figure is extrapolated from them. */
const JAX_STEPS = 8;
const JAX_WARMUP_STEPS = 2;

function fromSamples(samples: number[]): Measurement {
  return { samples, median: median(samples), min: Math.min(...samples), reps: 1 };
}

// ---------------------------------------------------------------------------------------------
// PyTorch (subprocess)
// ---------------------------------------------------------------------------------------------

/**
 * An entry of the training rounds: Axon or PyTorch at one thread count, with its model built.
 * `epoch` trains one epoch (PyTorch's resolves to its own seconds: `selfTimed`).
 */
interface CnnEntry {
  readonly id: string;
  readonly label: string;
  readonly before?: () => Promise<void>;
  readonly epoch: () => Promise<number | void>;
  readonly selfTimed?: boolean;
  readonly evaluate: (test: Digits) => Promise<number>;
  readonly dispose: () => void;
}

/** PyTorch at `threads` threads: python/cnn_torch.py kept running (after the BLAS probe passed). */
async function torchEntry(n: number, threads: number | undefined): Promise<CnnEntry> {
  const w = await startTorchWorker('cnn_torch.py', n, CNN.batch, threads ?? 1, mnistDir());
  return {
    id: threadedId('torch', threads),
    label: threadedLabel('pytorch', threads),
    selfTimed: true,
    epoch: async () => numberField(await w.request('epoch'), 'seconds'),
    evaluate: async () => numberField(await w.request('evaluate'), 'testAccuracy'),
    dispose: () => w.close(),
  };
}

/** Axon at `threads` threads (`--threads`), or on the default wasm backend when undefined. */
async function axonEntry(train: Digits, threads: number | undefined): Promise<CnnEntry> {
  const before = threads === undefined ? () => startAxon('wasm') : () => useAxonThreads(threads);
  await before();
  const run = await prepareAxonCnn(train);
  return {
    id: threadedId('axon', threads),
    label: threadedLabel('axon-wasm', threads),
    before,
    epoch: () => run.epoch(),
    evaluate: async (test) => {
      await before();
      return run.evaluate(test);
    },
    dispose: () => run.dispose(),
  };
}

// ---------------------------------------------------------------------------------------------
// jax-js: lax.conv + jit(valueAndGrad + Adam)
// ---------------------------------------------------------------------------------------------

type Params = { c1w: np.Array; c1b: np.Array; c2w: np.Array; c2b: np.Array; dw: np.Array; db: np.Array };
const KEYS = ['c1w', 'c1b', 'c2w', 'c2b', 'dw', 'db'] as const;
const DROPOUT = 0.25;

/** Log-probabilities of the CNN over x [B, 1, 28, 28]; `key` = null: no dropout. */
function jaxForward(p: Params, x: np.Array, key: np.Array | null): np.Array {
  const b = x.shape[0];
  let h = lax.conv(x, p.c1w, [1, 1], 'VALID'); // [B, 32, 26, 26]
  h = nn.relu(h.add(p.c1b.reshape([1, 32, 1, 1])));
  h = np.max(h.reshape([b, 32, 13, 2, 13, 2]), [3, 5]); // [B, 32, 13, 13]
  h = lax.conv(h, p.c2w, [1, 1], 'VALID'); // [B, 64, 11, 11]
  h = nn.relu(h.add(p.c2b.reshape([1, 64, 1, 1])));
  h = h.slice([], [], [0, 10], [0, 10]); // floor mode: drop the last row and column
  h = np.max(h.reshape([b, 64, 5, 2, 5, 2]), [3, 5]).reshape([b, 1600]); // [B, 1600]
  if (key !== null) {
    const keep = random.bernoulli(key, 1 - DROPOUT, [b, 1600]);
    h = np.where(keep, h.mul(1 / (1 - DROPOUT)), 0);
  }
  return nn.logSoftmax(np.matmul(h, p.dw).add(p.db), -1);
}

function jaxLoss(p: Params, x: np.Array, y: np.Array, key: np.Array): np.Array {
  const b = x.shape[0];
  return jaxForward(p, x, key).mul(y).sum().mul(-1 / b);
}

const B1 = 0.9;
const B2 = 0.999;
const EPS = 1e-7;

const jaxStep = jit((p: Params, m: Params, v: Params, x: np.Array, y: np.Array, key: np.Array, lrT: np.Array) => {
  const [loss, g] = valueAndGrad(jaxLoss)(tree.ref(p), x, y, key);
  const np2 = {} as Params;
  const nm = {} as Params;
  const nv = {} as Params;
  for (const k of KEYS) {
    const gk = g[k];
    const mk = m[k].mul(B1).add(gk.ref.mul(1 - B1));
    const vk = v[k].mul(B2).add(gk.ref.mul(gk).mul(1 - B2));
    np2[k] = p[k].sub(lrT.ref.mul(mk.ref).div(np.sqrt(vk.ref).add(EPS)));
    nm[k] = mk;
    nv[k] = vk;
  }
  lrT.dispose();
  return [np2, nm, nv, loss] as [Params, Params, Params, np.Array];
});

/** Glorot-uniform values for a weight with the given fan-in and fan-out. */
function glorot(size: number, fanIn: number, fanOut: number, seed: number): Float32Array {
  const next = mulberry32(seed);
  const lim = Math.sqrt(6 / (fanIn + fanOut));
  const out = new Float32Array(size);
  for (let i = 0; i < out.length; i++) out[i] = (next() * 2 - 1) * lim;
  return out;
}

interface JaxResult {
  cell: Cell;
  steps: number;
  firstLoss?: number;
  lastLoss?: number;
  why?: string;
}

async function runJax(train: Digits, log: (m: string) => void): Promise<JaxResult> {
  try {
    await useJaxWasm();
  } catch (e) {
    return { cell: { skipped: 'unavailable' }, steps: 0, why: e instanceof Error ? e.message : String(e) };
  }
  const mk = (d: Float32Array, shape: number[]) => np.array(d).reshape(shape);
  const shapes: Record<(typeof KEYS)[number], number[]> = {
    c1w: [32, 1, 3, 3],
    c1b: [32],
    c2w: [64, 32, 3, 3],
    c2b: [64],
    dw: [1600, 10],
    db: [10],
  };
  const zeros = (): Params => Object.fromEntries(KEYS.map((k) => [k, np.zeros(shapes[k])])) as Params;
  let p: Params = {
    c1w: mk(glorot(32 * 9, 9, 32 * 9, 1), shapes.c1w),
    c1b: np.zeros([32]),
    c2w: mk(glorot(64 * 32 * 9, 32 * 9, 64 * 9, 2), shapes.c2w),
    c2b: np.zeros([64]),
    dw: mk(glorot(1600 * 10, 1600, 10, 3), shapes.dw),
    db: np.zeros([10]),
  };
  let m = zeros();
  let v = zeros();
  const next = mulberry32(7);
  const order = Int32Array.from({ length: train.n }, (_, i) => i);
  shuffleInPlace(order, next);
  const xb = new Float32Array(CNN.batch * 784);
  const yb = new Float32Array(CNN.batch * CNN.classes);
  const losses: number[] = [];
  const samples: number[] = [];
  const batchesPerEpoch = Math.ceil(train.n / CNN.batch);
  try {
    for (let t = 1; t <= JAX_WARMUP_STEPS + JAX_STEPS; t++) {
      const s = ((t - 1) * CNN.batch) % (train.n - CNN.batch + 1);
      yb.fill(0);
      for (let r = 0; r < CNN.batch; r++) {
        const i = order[s + r];
        xb.set(train.x.subarray(i * 784, (i + 1) * 784), r * 784);
        yb[r * CNN.classes + train.y[i]] = 1;
      }
      const t0 = performance.now();
      const lrT = (CNN.lr * Math.sqrt(1 - B2 ** t)) / (1 - B1 ** t);
      const x = mk(xb.slice(), [CNN.batch, 1, 28, 28]);
      const y = mk(yb.slice(), [CNN.batch, CNN.classes]);
      const [p2, m2, v2, loss] = jaxStep(p, m, v, x, y, random.key(t), np.array(lrT));
      p = p2;
      m = m2;
      v = v2;
      await blockUntilReady(p);
      const dt = (performance.now() - t0) / 1000;
      losses.push(((await loss.data()) as Float32Array)[0]);
      if (t > JAX_WARMUP_STEPS) samples.push(dt * batchesPerEpoch);
      log(`jax-js-wasm step ${t}: ${dt.toFixed(2)} s, loss ${losses[losses.length - 1].toFixed(3)}${t <= JAX_WARMUP_STEPS ? ' (warm-up)' : ''}`);
    }
  } catch (e) {
    return { cell: { skipped: 'failed' }, steps: samples.length, why: e instanceof Error ? e.message : String(e) };
  } finally {
    tree.dispose(p);
    tree.dispose(m);
    tree.dispose(v);
  }
  return { cell: fromSamples(samples), steps: samples.length, firstLoss: losses[0], lastLoss: losses[losses.length - 1] };
}

// ---------------------------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------------------------

export const cnnSuite: Suite = {
  id: 'cnn',
  title: 'CNN training epoch (MNIST Conv32-Pool-Conv64-Pool-Dense10), s/epoch',
  describe: 'seconds per epoch of the MNIST CNN (Adam, batch 64) on 8,000 digits: Axon wasm and PyTorch at each --threads count, jax-js jit',
  inAll: true,
  async run(opts: SuiteOptions): Promise<SuiteResult> {
    const n = opts.sizes?.[0] ?? CNN.trainDigits;
    const train = loadMnist('train', n);
    const test = loadMnist('t10k');
    const runs = Math.max(1, opts.runs ?? 3);
    const warmup = Math.max(1, opts.warmup ?? 1);
    const counts: readonly (number | undefined)[] = opts.threads ?? [undefined];
    const cells: Record<string, Cell> = {};
    const extra: Record<string, string> = {};
    const warnings: string[] = [];
    const notes: string[] = [];
    const failed = (id: string, label: string, e: unknown) => {
      const why = e instanceof Error ? e.message : String(e);
      cells[id] = { skipped: 'failed' };
      warnings.push(`${label} failed: ${why}`);
      opts.log(`${label}: FAILED: ${why}`);
    };

    // PyTorch: before timing anything, is its BLAS an optimized one (see ../peers/torch.ts)?
    let torchVersion = '?';
    let probe: TorchProbe | undefined;
    const withTorch = wantPeer(opts, 'torch');
    if (withTorch) {
      probe = probeTorch();
      if (!probe.ok) {
        for (const t of counts) cells[threadedId('torch', t)] = { skipped: probe.skipped };
        if (probe.why) warnings.push(`PyTorch did not run: ${probe.why}`);
        opts.log(`pytorch: skipped (${probe.why ?? probe.skipped})`);
      } else {
        torchVersion = probe.version;
        opts.log(`pytorch: BLAS check: 1024×1024 f32 matmul at ${probe.gflops.toFixed(1)} GFLOP/s on one thread`);
      }
    }

    // Build every model (Axon and PyTorch at each thread count), then train them in rounds: one
    // epoch of each in turn (axon 1t, pytorch 1t, axon 2t, pytorch 2t, then again), so that a
    // change of machine load hits them alike.
    const liveBefore = axonLiveTensors();
    const entries: CnnEntry[] = [];
    for (const t of counts) {
      try {
        entries.push(await axonEntry(train, t));
      } catch (e) {
        failed(threadedId('axon', t), threadedLabel('axon-wasm', t), e);
      }
      if (withTorch && probe?.ok) {
        try {
          entries.push(await torchEntry(n, t));
        } catch (e) {
          failed(threadedId('torch', t), threadedLabel('pytorch', t), e);
        }
      }
    }
    try {
      opts.log(`training: ${warmup} warm-up epoch(s), then ${runs} rounds of one timed epoch each: ${entries.map((e) => e.label).join(', ')}`);
      const byId = new Map(entries.map((e) => [e.id, e]));
      const measured = await measureRoundRobin(
        entries.map((e) => ({ id: e.id, before: e.before, op: () => e.epoch(), selfTimed: e.selfTimed })),
        { warmup, runs },
        (id, e) => failed(id, byId.get(id)!.label, e),
      );
      for (const e of entries) {
        const m = measured.get(e.id);
        if (!m) continue;
        cells[e.id] = m;
        try {
          const acc = await e.evaluate(test);
          extra[e.id] = `acc ${(acc * 100).toFixed(1)}%`;
          opts.log(`${e.label.padEnd(14)} ${m.samples.map((x) => x.toFixed(2)).join(', ')} s/epoch; test accuracy ${(acc * 100).toFixed(1)}%`);
        } catch (err) {
          failed(e.id, e.label, err);
        }
      }
    } finally {
      for (const e of entries) e.dispose();
    }
    const after = axonLiveTensors();
    if (after !== liveBefore) warnings.push(`axon-wasm: ${after - liveBefore} tensors left alive after dispose`);

    // jax-js: a fixed number of steps, extrapolated to an epoch.
    let jaxSteps = 0;
    if (wantPeer(opts, 'jax-wasm')) {
      const j = await runJax(train, opts.log);
      cells['jax-wasm'] = j.cell;
      jaxSteps = j.steps;
      if (j.why) warnings.push(`jax-js-wasm: ${j.why}`);
      if (j.firstLoss !== undefined && j.lastLoss !== undefined)
        extra['jax-wasm'] = `extrapolated from ${j.steps} steps; loss ${j.firstLoss.toFixed(2)} → ${j.lastLoss.toFixed(2)}`;
    }

    const batches = Math.ceil(n / CNN.batch);
    const fig = (cell: Cell | undefined) => (cell && !isSkipped(cell) ? { median: cell.median, best: cell.min } : undefined);
    const one = (id: string) => cells[opts.threads ? threadedId(id, 1) : id];
    const ax = one('axon');
    const pt = one('torch');
    if (ax && pt && 'median' in ax && 'median' in pt) {
      const slower = ax.median / pt.median;
      notes.push(
        `**Goal: Axon wasm within 3× of native PyTorch (1 thread).** Here Axon's epoch takes ${slower.toFixed(2)}× PyTorch's ` +
          `(${ax.median.toFixed(2)} s vs ${pt.median.toFixed(2)} s): ${slower <= 3 ? 'goal met' : `goal **not met** (${(slower / 3).toFixed(2)}× over the bound)`}.`,
      );
    }
    for (const t of opts.threads ?? []) {
      if (t === 1) continue;
      const line = cnnBarLine(t, fig(cells[threadedId('axon', t)]), fig(cells[threadedId('torch', t)]), fig(cells[threadedId('torch', 1)]));
      if (line) notes.push(line);
    }
    const threadsNote = opts.threads ? await axonThreadsNote(opts.threads) : undefined;
    if (threadsNote) notes.push(threadsNote);
    const blas = probe && probeNote(probe);
    if (blas) notes.push(blas);
    notes.push(
      `Model: Conv2d(1→32, 3×3, relu) → MaxPool 2 → Conv2d(32→64, 3×3, relu) → MaxPool 2 → Flatten → Dropout(0.25) → Dense(1600→10, softmax), NCHW; ` +
        `Adam (lr 1e-3); batch 64; the first ${n} MNIST training digits (${batches} batches per epoch), shuffled; ${warmup} warm-up epoch(s) each, then ${runs} rounds of one timed epoch of each Axon and PyTorch model in turn${opts.threads ? ' (thread counts interleaved)' : ''}.`,
      '"acc": accuracy on the 10,000 MNIST test digits after all epochs (not timed) — a check that the model trained.',
      `jax-js: ${JAX_WARMUP_STEPS} warm-up steps (jit compilation), then ${jaxSteps || JAX_STEPS} timed steps of one batch; each step's time × ${batches} is one sample ("extrapolated from N steps"); its loss on the first and last step is shown instead of a test accuracy (a full epoch takes minutes).`,
      'tfjs is not in this table: tfjs-wasm cannot train a CNN (`Conv2DBackpropFilter` is not registered for wasm) and tfjs-cpu takes ~2,900 s per epoch.',
    );
    const row: CaseResult = { label: `${n} digits, batch ${CNN.batch}`, cells, extra };
    return {
      id: 'cnn',
      title: this.title,
      metric: secondsPerEpoch,
      contenders: [
        ...counts.map((t) => ({ id: threadedId('axon', t), label: threadedLabel('axon-wasm', t), axon: true, ...(t !== undefined ? { threads: t } : {}), ...(t === counts[0] ? { note: axonCnnNote } : {}) })),
        ...(withTorch
          ? counts.map((t) => ({
              id: threadedId('torch', t),
              label: threadedLabel('pytorch', t),
              ...(t !== undefined ? { threads: t } : {}),
              ...(t === counts[0]
                ? {
                    note:
                      `PyTorch ${torchVersion} (CPU, native; at T threads \`torch.set_num_threads(T)\` and OMP/OPENBLAS_NUM_THREADS=T, checked with \`torch.get_num_threads()\` and \`openblas_get_num_threads()\`): ` +
                      '`tooling/bench/python/cnn_torch.py`, one process per thread count kept running through the rounds, nn.Sequential of the same layers, torch.optim.Adam(lr=1e-3), F.cross_entropy; each epoch timed by `time.perf_counter` in Python (the pipe\'s round trip is not counted).',
                  }
                : {}),
            }))
          : []),
        ...(wantPeer(opts, 'jax-wasm') ? [jaxInfo] : []),
      ],
      cases: [row],
      notes,
      warnings,
    };
  },
};

/** jax-js's column of the cnn table. */
const jaxInfo: ContenderInfo = {
  id: 'jax-wasm',
  label: 'jax-js-wasm',
  note:
    `@jax-js/jax ${packageVersion('@jax-js/jax')}, wasm device, ${jaxThreads()}: \`lax.conv(x, w, [1, 1], 'VALID')\`, max-pool as reshape + \`np.max\` over the window axes, ` +
    'dropout via `random.bernoulli`, a `jit`-compiled `valueAndGrad` step and a hand-written Adam update; `blockUntilReady` after each step.',
};
