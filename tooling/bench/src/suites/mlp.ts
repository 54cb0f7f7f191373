/**
 * Training-step suite: seconds per epoch of the MLP 784-128-10 (relu, dropout 0.2, softmax,
 * Adam lr 1e-3, shuffled) on the first N MNIST training digits at batch B (default 8,000 digits,
 * batch 128; `--sizes 60000,8000 --batch 32,128` gives one row per pair), written the way each
 * library's users write it: tfjs `sequential` + `fit` (wasm and cpu backends), jax-js with a
 * `jit`-compiled training step (`valueAndGrad` + a hand-written Adam update), PyTorch (native, out
 * of process: `python/mlp_torch.py`, an `nn.Sequential` trained with `torch.optim.Adam`), and Axon's
 * `fit` (see `axonMlpContender` in ../axon.ts) — Axon and PyTorch once per thread count of
 * `--threads` (the JS peers have no threads in Node), all epochs taken in rounds.
 *
 * After the timed epochs each model is evaluated on the 10,000 test digits (not timed), so the
 * table shows that every contender really trains.
 */

import { numpy as np, nn, random, jit, valueAndGrad, tree, blockUntilReady } from '@jax-js/jax';
import type { CaseResult, Cell, ContenderInfo, Measurement, Metric, SuiteResult } from '../harness.js';
import { isSkipped, measureRoundRobin, SkipError } from '../harness.js';
import { mulberry32, shuffleInPlace } from '../data.js';
import { loadMnist, mnistDir, type Digits } from '../mnist.js';
import { wantPeer, type Suite, type SuiteOptions } from '../suite.js';
import { mlpBarLine, threadedId, threadedLabel } from '../threads.js';
import { tf, tfLiveTensors, useTfBackend, type TfBackend } from '../peers/tfjs.js';
import { jaxThreads, useJaxWasm } from '../peers/jax.js';
import { packageVersion } from '../peers/version.js';
import { numberField, probeNote, probeTorch, startTorchWorker, type TorchProbe } from '../peers/torch.js';
import { axonMlpContender, axonThreadsNote } from '../axon.js';

export const MLP = { inputs: 784, hidden: 128, classes: 10, dropout: 0.2, lr: 1e-3, batch: 128, trainDigits: 8000 } as const;

/** A model ready to train. */
export interface MlpRun {
  /**
   * Trains one epoch over the training digits and waits until it is done. When `selfTimed`, it
   * resolves to the epoch's seconds by the library's own clock (a library in another process).
   */
  epoch(): Promise<number | void>;
  readonly selfTimed?: boolean;
  /** Accuracy on `test` (not timed). */
  evaluate(test: Digits): Promise<number>;
  /** Kernels one training step launches (not timed; Axon's profiler), where the library can say. */
  kernelsPerStep?(): Promise<number>;
  dispose(): void;
}

export interface MlpContender extends ContenderInfo {
  /** Starts the library; throws with a reason when it cannot run (a `SkipError` names the cell's reason). */
  start(): Promise<void>;
  /** Builds the model and uploads the training digits, to train at `batch` (default {@link MLP.batch}). */
  prepare(train: Digits, batch?: number): Promise<MlpRun>;
  /** Live tensors in the library, for leak checks (undefined when unknown). */
  live(): number | undefined;
  /** Lines for the suite's notes, after the run (e.g. PyTorch's BLAS check). */
  notes?(): string[];
}

// ---------------------------------------------------------------------------------------------
// tfjs: sequential + fit
// ---------------------------------------------------------------------------------------------

function tfjsMlp(backend: TfBackend): MlpContender {
  return {
    id: `tfjs-${backend}`,
    label: `tfjs-${backend}`,
    note:
      `@tensorflow/tfjs ${packageVersion('@tensorflow/tfjs')}: ` +
      '`tf.sequential([dense(128, relu), dropout(0.2), dense(10, softmax)])`, ' +
      "`compile({ optimizer: tf.train.adam(1e-3), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] })`, " +
      '`fit(x, y, { batchSize, epochs: 1, shuffle: true })` per timed epoch (`batchSize`: the row\'s).',
    start: () => useTfBackend(backend),
    async prepare(train, batch = MLP.batch) {
      const model = tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [MLP.inputs], units: MLP.hidden, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
          tf.layers.dropout({ rate: MLP.dropout }),
          tf.layers.dense({ units: MLP.classes, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
        ],
      });
      const optimizer = tf.train.adam(MLP.lr);
      model.compile({ optimizer, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
      const x = tf.tensor2d(train.x, [train.n, MLP.inputs]);
      const y = tf.tensor1d(Float32Array.from(train.y), 'float32');
      return {
        async epoch() {
          await model.fit(x, y, { batchSize: batch, epochs: 1, shuffle: true, verbose: 0 });
        },
        async evaluate(test) {
          const tx = tf.tensor2d(test.x, [test.n, MLP.inputs]);
          const pred = tf.tidy(() => (model.predict(tx, { batchSize: 1000 }) as tf.Tensor).argMax(-1));
          const p = (await pred.data()) as Int32Array;
          tx.dispose();
          pred.dispose();
          let ok = 0;
          for (let i = 0; i < test.n; i++) if (p[i] === test.y[i]) ok++;
          return ok / test.n;
        },
        dispose() {
          x.dispose();
          y.dispose();
          model.dispose();
          optimizer.dispose(); // model.dispose() leaves the optimizer's slots alive
        },
      };
    },
    live: tfLiveTensors,
  };
}

// ---------------------------------------------------------------------------------------------
// jax-js: jit(valueAndGrad + Adam)
// ---------------------------------------------------------------------------------------------

type Params = { w1: np.Array; b1: np.Array; w2: np.Array; b2: np.Array };

/** Mean cross-entropy of softmax(MLP(x)) against one-hot `y`, with inverted dropout from `key`. */
function jaxLoss(p: Params, x: np.Array, y: np.Array, key: np.Array): np.Array {
  const batch = x.shape[0];
  const h = nn.relu(np.matmul(x, p.w1).add(p.b1));
  const keep = random.bernoulli(key, 1 - MLP.dropout, [batch, MLP.hidden]);
  const hd = np.where(keep, h.mul(1 / (1 - MLP.dropout)), 0);
  const logp = nn.logSoftmax(np.matmul(hd, p.w2).add(p.b2), -1);
  return logp.mul(y).sum().mul(-1 / batch);
}

const B1 = 0.9;
const B2 = 0.999;
const EPS = 1e-7;

/** One Adam step (Keras's form: the bias correction folded into `lrT`). Returns [params, m, v, loss]. */
const jaxStep = jit((p: Params, m: Params, v: Params, x: np.Array, y: np.Array, key: np.Array, lrT: np.Array) => {
  const [loss, g] = valueAndGrad(jaxLoss)(tree.ref(p), x, y, key);
  const np2 = {} as Params;
  const nm = {} as Params;
  const nv = {} as Params;
  for (const k of ['w1', 'b1', 'w2', 'b2'] as const) {
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

const jaxPredict = jit((p: Params, x: np.Array) => np.argmax(np.matmul(nn.relu(np.matmul(x, p.w1).add(p.b1)), p.w2).add(p.b2), -1));

/** Glorot-uniform n×m weights from `seed`, as tfjs's dense layers start. */
function glorot(n: number, m: number, seed: number): Float32Array {
  const next = mulberry32(seed);
  const lim = Math.sqrt(6 / (n + m));
  const out = new Float32Array(n * m);
  for (let i = 0; i < out.length; i++) out[i] = (next() * 2 - 1) * lim;
  return out;
}

function jaxMlp(): MlpContender {
  return {
    id: 'jax-wasm',
    label: 'jax-js-wasm',
    note:
      `@jax-js/jax ${packageVersion('@jax-js/jax')}, wasm device, ${jaxThreads()}: a \`jit\`-compiled step, \`valueAndGrad\` of softmax cross-entropy ` +
      '(dropout via `random.bernoulli` inside the step) and a hand-written Adam update (jax-js has no optimizer in its core package); ' +
      'batches shuffled in JS each epoch; `blockUntilReady` on the parameters and Adam moments after each step (jax-js dispatches lazily: ' +
      'without it an epoch queues every step\'s work until its end, and at batch 32 on 60,000 digits runs out of its 4 GiB of wasm memory).',
    start: useJaxWasm,
    async prepare(train, batch = MLP.batch) {
      const mk = (d: Float32Array, shape: number[]) => np.array(d).reshape(shape);
      const zeros = (): Params => ({
        w1: np.zeros([MLP.inputs, MLP.hidden]),
        b1: np.zeros([MLP.hidden]),
        w2: np.zeros([MLP.hidden, MLP.classes]),
        b2: np.zeros([MLP.classes]),
      });
      let p: Params = {
        w1: mk(glorot(MLP.inputs, MLP.hidden, 1), [MLP.inputs, MLP.hidden]),
        b1: np.zeros([MLP.hidden]),
        w2: mk(glorot(MLP.hidden, MLP.classes, 2), [MLP.hidden, MLP.classes]),
        b2: np.zeros([MLP.classes]),
      };
      let m = zeros();
      let v = zeros();
      let t = 0;
      const next = mulberry32(7);
      const order = Int32Array.from({ length: train.n }, (_, i) => i);
      const xb = new Float32Array(batch * MLP.inputs);
      const yb = new Float32Array(batch * MLP.classes);
      return {
        async epoch() {
          shuffleInPlace(order, next);
          for (let s = 0; s < train.n; s += batch) {
            const bs = Math.min(batch, train.n - s);
            yb.fill(0);
            for (let r = 0; r < bs; r++) {
              const i = order[s + r];
              xb.set(train.x.subarray(i * MLP.inputs, (i + 1) * MLP.inputs), r * MLP.inputs);
              yb[r * MLP.classes + train.y[i]] = 1;
            }
            t++;
            const lrT = (MLP.lr * Math.sqrt(1 - B2 ** t)) / (1 - B1 ** t);
            const x = mk(xb.slice(0, bs * MLP.inputs), [bs, MLP.inputs]);
            const y = mk(yb.slice(0, bs * MLP.classes), [bs, MLP.classes]);
            const [p2, m2, v2, loss] = jaxStep(p, m, v, x, y, random.key(t), np.array(lrT));
            loss.dispose();
            p = p2;
            m = m2;
            v = v2;
            // jax-js only records the step; run it now, as the other libraries do (see the note).
            await blockUntilReady([p, m, v]);
          }
        },
        async evaluate(test) {
          const pred = jaxPredict(tree.ref(p), mk(test.x, [test.n, MLP.inputs]));
          const got = await pred.data();
          let ok = 0;
          for (let i = 0; i < test.n; i++) if (got[i] === test.y[i]) ok++;
          return ok / test.n;
        },
        dispose() {
          tree.dispose(p);
          tree.dispose(m);
          tree.dispose(v);
        },
      };
    },
    live: () => undefined,
  };
}

// ---------------------------------------------------------------------------------------------
// PyTorch: native, one thread, in its own process kept running through the rounds
// ---------------------------------------------------------------------------------------------

/** Shared by PyTorch's thread counts: the BLAS check runs once. */
let torchProbe: TorchProbe | undefined;

function torchMlp(threads?: number): MlpContender {
  let version = '?';
  const t = threads ?? 1;
  return {
    id: threadedId('torch', threads),
    label: threadedLabel('pytorch', threads),
    ...(threads !== undefined ? { threads } : {}),
    get note() {
      return (
        `PyTorch ${version} (CPU, native, \`torch.set_num_threads(${t})\`, OMP/OPENBLAS_NUM_THREADS=${t}; the script checks \`torch.get_num_threads()\` and OpenBLAS's \`openblas_get_num_threads()\`), in its own process (Debian's /usr/bin/python3) kept running through the rounds: ` +
        '`tooling/bench/python/mlp_torch.py`, `nn.Sequential(Linear(784, 128), ReLU(), Dropout(0.2), Linear(128, 10))` (glorot-uniform weights and zero biases, as Axon\'s `Dense`), ' +
        '`torch.optim.Adam(lr=1e-3)` (β 0.9/0.999, ε 1e-8, as Axon\'s), `F.cross_entropy` on the logits (Axon\'s `fit` fuses its final softmax into the loss the same way); ' +
        'per epoch `torch.randperm`, `x[idx]` per batch, loss and accuracy summed as tensors and read back once at the end of the epoch (as Axon\'s `fit`); ' +
        'each epoch timed by `time.perf_counter` in Python, from the shuffle to that read-back (the pipe\'s round trip is not counted).'
      );
    },
    async start() {
      torchProbe ??= probeTorch();
      if (!torchProbe.ok) throw new SkipError(torchProbe.skipped, torchProbe.why ?? torchProbe.skipped);
      version = torchProbe.version;
    },
    async prepare(train, batch = MLP.batch) {
      const w = await startTorchWorker('mlp_torch.py', train.n, batch, t, mnistDir());
      return {
        selfTimed: true,
        epoch: async () => numberField(await w.request('epoch'), 'seconds'),
        // the same 10,000 test digits, read by the script from the same IDX file
        evaluate: async () => numberField(await w.request('evaluate'), 'testAccuracy'),
        dispose: () => w.close(),
      };
    },
    live: () => undefined,
    // one line for every thread count (the first contender's)
    notes: () => {
      const n = t === 1 && torchProbe ? probeNote(torchProbe) : undefined;
      return n ? [n] : [];
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------------------------

export const secondsPerEpoch: Metric = { unit: 's/epoch', higherIsBetter: false, digits: 3, value: (s) => s };

/**
 * Axon once per thread count (`opts.threads`; once on the backend's default when undefined), the
 * JS peers (one thread in Node), and PyTorch once per thread count, as `--only` keeps them.
 */
export function mlpContenders(opts: SuiteOptions): MlpContender[] {
  const counts: readonly (number | undefined)[] = opts.threads ?? [undefined];
  const axon = counts.map((n) => axonMlpContender(opts, n));
  const js = [tfjsMlp('wasm'), tfjsMlp('cpu'), jaxMlp()].filter((c) => wantPeer(opts, c.id));
  const torch = wantPeer(opts, 'torch') ? counts.map((n) => torchMlp(n)) : [];
  return [...axon, ...js, ...torch];
}

/** One row of the suite: the first `digits` MNIST training digits at batch `batch`. */
export interface MlpCase {
  readonly digits: number;
  readonly batch: number;
}

/**
 * The rows `--sizes` (digits) and `--batch` ask for, paired in order; a single value of either
 * goes with every value of the other. Default: 8,000 digits at batch 128.
 */
export function mlpCases(sizes?: readonly number[], batches?: readonly number[]): MlpCase[] {
  const ds = sizes && sizes.length > 0 ? sizes : [MLP.trainDigits];
  const bs = batches && batches.length > 0 ? batches : [MLP.batch];
  if (ds.length !== bs.length && ds.length !== 1 && bs.length !== 1) {
    throw new Error(
      `mlp: --sizes and --batch pair up (one row per pair; a single value goes with every other): ` +
        `got ${ds.length} sizes (${ds.join(',')}) and ${bs.length} batch sizes (${bs.join(',')})`,
    );
  }
  return Array.from({ length: Math.max(ds.length, bs.length) }, (_, i) => ({ digits: ds[ds.length === 1 ? 0 : i], batch: bs[bs.length === 1 ? 0 : i] }));
}

/** The targets against PyTorch (one thread): Axon's epoch at most `within` × PyTorch's. */
export const MLP_GOALS: readonly (MlpCase & { readonly within: number })[] = [
  { digits: 60000, batch: 32, within: 1 },
  { digits: 8000, batch: 128, within: 1.3 },
];

/** The goal line for a row with a target, from the medians of Axon's and PyTorch's cells. */
export function goalNote(c: MlpCase, axon: Cell | undefined, torch: Cell | undefined): string | undefined {
  const goal = MLP_GOALS.find((g) => g.digits === c.digits && g.batch === c.batch);
  if (!goal || !axon || !torch || 'skipped' in axon || 'skipped' in torch) return undefined;
  const slower = axon.median / torch.median;
  const bound = goal.within === 1 ? 'no slower than PyTorch\'s' : `within ${goal.within}× of PyTorch's`;
  const verdict = slower <= goal.within ? 'goal met' : `goal **not met** (${(slower / goal.within).toFixed(2)}× over the bound)`;
  return (
    `**Goal at batch ${c.batch} on ${c.digits} digits: Axon's epoch ${bound} (1 thread).** ` +
    `Here Axon's epoch takes ${slower.toFixed(2)}× PyTorch's (${axon.median.toFixed(3)} s vs ${torch.median.toFixed(3)} s, medians): ${verdict}.`
  );
}

export const mlpSuite: Suite = {
  id: 'mlp',
  title: 'MLP training epoch (MNIST 784-128-10), s/epoch',
  describe: 'seconds per epoch of the MLP 784-128-10 (dropout, Adam) on 8,000 MNIST digits at batch 128 (--sizes/--batch: more rows); Axon and PyTorch at each --threads count',
  inAll: true,
  async run(opts: SuiteOptions): Promise<SuiteResult> {
    const cases = mlpCases(opts.sizes, opts.batches);
    const test = loadMnist('t10k');
    const contenders = mlpContenders(opts);
    const warnings: string[] = [];
    const warn = (w: string) => {
      if (!warnings.includes(w)) warnings.push(w);
    };
    const goals: string[] = [];
    const rows: CaseResult[] = [];
    const timing = { warmup: Math.max(1, opts.warmup ?? 1), runs: opts.runs ?? 5 };
    for (const c of cases) {
      const train = loadMnist('train', c.digits);
      const label = `${train.n} digits, batch ${c.batch}`;
      const tag = cases.length > 1 ? `${label}: ` : '';
      if (cases.length > 1) opts.log(`-- ${label}`);
      const cells: Record<string, Cell> = {};
      const extra: Record<string, string> = {};
      // Start and build every contender's model, then time their epochs in rounds (one epoch of
      // each in turn), so that a change of machine load hits every contender alike.
      const runs = new Map<string, { k: MlpContender; run: MlpRun }>();
      const fail = (k: MlpContender, e: unknown) => {
        const why = e instanceof Error ? e.message : String(e);
        cells[k.id] = { skipped: 'failed' };
        warn(`${tag}${k.label} failed: ${why}`);
        opts.log(`${k.label}: FAILED: ${why}`);
      };
      const liveBefore = new Map<() => number | undefined, number | undefined>();
      for (const k of contenders) {
        try {
          await k.start();
        } catch (e) {
          const why = e instanceof Error ? e.message : String(e);
          opts.log(`${k.axon ? 'axon' : k.label}: ${k.axon ? 'not available yet' : 'skipped'} (${why})`);
          cells[k.id] = { skipped: k.axon ? 'not available yet' : e instanceof SkipError ? e.cell : 'unavailable' };
          if (!k.axon) warn(`${k.label} did not run: ${why}`);
          continue;
        }
        if (!liveBefore.has(k.live)) liveBefore.set(k.live, k.live());
        try {
          runs.set(k.id, { k, run: await k.prepare(train, c.batch) });
        } catch (e) {
          fail(k, e);
        }
      }
      opts.log(`training: ${timing.warmup} warm-up epoch(s), then ${timing.runs} rounds of one timed epoch per contender`);
      const measured = await measureRoundRobin(
        [...runs.values()].map(({ k, run }) => ({ id: k.id, before: () => k.start(), op: () => run.epoch(), selfTimed: run.selfTimed })),
        timing,
        (id, e) => fail(runs.get(id)!.k, e),
      );
      for (const { k, run } of runs.values()) {
        const m: Measurement | undefined = measured.get(k.id);
        try {
          if (m) {
            cells[k.id] = m;
            await k.start();
            const acc = await run.evaluate(test);
            const kernels = run.kernelsPerStep ? await run.kernelsPerStep() : undefined;
            extra[k.id] = `acc ${(acc * 100).toFixed(1)}%${kernels !== undefined ? `, ${kernels} kernels/step` : ''}`;
            opts.log(`${k.label.padEnd(12)} ${m.median.toFixed(3)} s/epoch (best ${m.min.toFixed(3)}), test accuracy ${(acc * 100).toFixed(1)}% after ${timing.warmup + timing.runs} epochs`);
          }
        } catch (e) {
          fail(k, e);
        } finally {
          run.dispose();
        }
      }
      for (const [live, before] of liveBefore) {
        const after = live();
        if (before !== undefined && after !== undefined && after !== before) {
          const who = contenders.filter((k) => k.live === live).map((k) => k.label).join(' / ');
          warn(`${tag}${who}: ${after - before} tensors left alive after dispose`);
        }
      }
      rows.push({ label, cells, extra });
      // The 1-thread goals against PyTorch, and issue 12's bar on threads at batch 128.
      const one = (id: string) => cells[opts.threads ? threadedId(id, 1) : id];
      const g = goalNote({ digits: train.n, batch: c.batch }, one('axon'), one('torch'));
      if (g) goals.push(g);
      const fig = (cell: Cell | undefined) => (cell && !isSkipped(cell) ? { median: cell.median, best: cell.min } : undefined);
      if (c.batch === 128 && opts.threads?.includes(1) && opts.threads.includes(2)) {
        const bar = mlpBarLine(label, fig(cells['axon-1t']), fig(cells['axon-2t']));
        if (bar) goals.push(bar);
      }
    }
    const threadsNote = opts.threads ? await axonThreadsNote(opts.threads) : undefined;
    const what = cases.map((c) => `the first ${Math.min(c.digits, 60000)} MNIST training digits at batch ${c.batch}`).join('; ');
    return {
      id: 'mlp',
      title: this.title,
      metric: secondsPerEpoch,
      contenders: contenders.map(({ id, label, note, axon, threads }) => ({ id, label, note, axon, threads })),
      cases: rows,
      notes: [
        ...goals,
        `Model: Dense(784→128, relu) → Dropout(0.2) → Dense(128→10, softmax); Adam (lr 1e-3, β 0.9/0.999); ${what} (one row each), ` +
          `shuffled each epoch; ${timing.warmup} warm-up epoch(s), then ${timing.runs} timed epochs, each its own sample, taken in rounds (one epoch of each contender in turn).`,
        '"acc": accuracy on the 10,000 MNIST test digits after all epochs (not timed) — a check that the model trained, not a quality comparison.',
        '"kernels/step": backend kernels one training step launches, counted by `profile` from @axon/core on the second step of a separate two-step fit (not timed).',
        ...contenders.flatMap((k) => k.notes?.() ?? []),
        ...(threadsNote ? [threadsNote] : []),
      ],
      warnings,
    };
  },
};
