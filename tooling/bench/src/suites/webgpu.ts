/**
 * WebGPU suite (`pnpm bench --backend webgpu`): Axon's WebGPU backend beside
 * @tensorflow/tfjs-backend-webgpu, in one process, on the same Dawn instance and adapter
 * (lavapipe or SwiftShader on a machine without a GPU, the GPU where there is one):
 *
 * - f32 matmul GFLOP/s at n = 256, 512, 1024 (`--sizes` for others), A·B and Aᵀ·B / A·Bᵀ, the result
 *   read back (`await data()`) inside the timed call; the first result is checked against a
 *   float64 reference at sampled entries;
 * - an MLP 784-128-10 (relu, dropout 0.2, softmax, Adam, batch 128) training step, timed as
 *   `fit` over 1,024 MNIST digits (8 steps) per epoch, shown as steps per second.
 */

import { matmul, memory, setBackend, tensor, type Tensor } from '@axon/core';
import type { CaseResult, Cell, ContenderInfo, Metric, SuiteResult } from '../harness.js';
import { measure, measureRoundRobin } from '../harness.js';
import { mulberry32, uniformArray } from '../data.js';
import { loadMnist, type Digits } from '../mnist.js';
import type { Suite, SuiteOptions } from '../suite.js';
import { tf, tfLiveTensors } from '../peers/tfjs.js';
import { adapterName, useTfWebgpu, webgpuInNode } from '../peers/webgpu.js';
import { packageVersion } from '../peers/version.js';
import { axonMlpContender } from '../axon.js';
import { MLP, type MlpRun } from './mlp.js';
import { LAYOUT_LABEL, type Layout } from './matmul.js';

const LAYOUTS: readonly Layout[] = ['nn', 'tn', 'nt'];
const MLP_DIGITS = 1024;

interface Side {
  readonly info: ContenderInfo;
  start(): Promise<void>;
  matmul(a: Float32Array, b: Float32Array, n: number, layout: Layout): { run(): Promise<Float32Array>; dispose(): void };
  mlp(train: Digits): Promise<MlpRun>;
  live(): number;
}

let axonDescription = '?';

/**
 * Axon's WebGPU backend's `adapterDescription` (after {@link startAxonWebgpu}; `?` before).
 * @example await startAxonWebgpu(); axonWebgpuDescription() // e.g. 'llvmpipe: Mesa 25.0.7 …'
 */
export const axonWebgpuDescription = (): string => axonDescription;

/**
 * Starts Axon's WebGPU backend on the bench's Dawn instance (`navigator.gpu`) and makes it current.
 * @example await startAxonWebgpu(); // getBackend().name === 'webgpu'
 */
export async function startAxonWebgpu(): Promise<void> {
  await webgpuInNode(); // navigator.gpu: Axon then uses the same Dawn instance as tfjs
  await import(/* @vite-ignore */ '@axon/backend-webgpu');
  const b = (await setBackend('webgpu')) as { adapterDescription?: string };
  axonDescription = b.adapterDescription ?? '?';
}

const axonSide: Side = {
  info: {
    id: 'axon',
    label: 'axon-webgpu',
    axon: true,
    note:
      '`@axon/backend-webgpu` after `await setBackend(\'webgpu\')`: `matmul(a.T, b)` / `matmul(a, b.T)` with `.T` a zero-copy view, `await out.data()`; ' +
      "MLP: `sequential([Dense(128, relu), Dropout(0.2), Dense(10, softmax)])`, `compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] })`, `fit(x, y, { batchSize: 128, epochs: 1, shuffle: true })`.",
  },
  start: startAxonWebgpu,
  matmul(a, b, n, layout) {
    const ta = tensor(a, [n, n], 'float32');
    const tb = tensor(b, [n, n], 'float32');
    const lhs: Tensor = layout === 'tn' ? ta.T : ta;
    const rhs: Tensor = layout === 'nt' ? tb.T : tb;
    return {
      async run() {
        const out = matmul(lhs, rhs);
        const d = (await out.data()) as Float32Array;
        out.dispose();
        return d;
      },
      dispose() {
        if (lhs !== ta) lhs.dispose();
        if (rhs !== tb) rhs.dispose();
        ta.dispose();
        tb.dispose();
      },
    };
  },
  mlp: (train) => axonMlpContender({ backend: 'webgpu', minSampleMs: 0, cpuMaxSize: 0, log: () => {} }).prepare(train),
  live: () => memory().numTensors,
};

const tfSide: Side = {
  info: {
    id: 'tfjs-webgpu',
    label: 'tfjs-webgpu',
    note:
      `@tensorflow/tfjs-backend-webgpu ${packageVersion('@tensorflow/tfjs-backend-webgpu')} (\`navigator.gpu\` = the same Dawn instance): \`tf.matMul(a, b, transposeA, transposeB)\`, \`await c.data()\`; ` +
      "MLP: `tf.sequential` of the same layers, `compile({ optimizer: tf.train.adam(1e-3), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] })`, `fit(x, y, { batchSize: 128, epochs: 1, shuffle: true })`.",
  },
  start: useTfWebgpu,
  matmul(a, b, n, layout) {
    const ta = tf.tensor2d(a, [n, n]);
    const tb = tf.tensor2d(b, [n, n]);
    return {
      async run() {
        const c = tf.matMul(ta, tb, layout === 'tn', layout === 'nt');
        const d = (await c.data()) as Float32Array;
        c.dispose();
        return d;
      },
      dispose() {
        ta.dispose();
        tb.dispose();
      },
    };
  },
  async mlp(train) {
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
        await model.fit(x, y, { batchSize: MLP.batch, epochs: 1, shuffle: true, verbose: 0 });
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
        optimizer.dispose();
      },
    };
  },
  live: tfLiveTensors,
};

/** Max relative error of `got` against float64 sums at 64 sampled entries. */
function checkProduct(a: Float32Array, b: Float32Array, n: number, layout: Layout, got: Float32Array): number {
  const next = mulberry32(n * 31 + layout.length);
  let worst = 0;
  for (let s = 0; s < 64; s++) {
    const i = Math.floor(next() * n);
    const j = Math.floor(next() * n);
    let ref = 0;
    let mag = 0;
    for (let k = 0; k < n; k++) {
      const x = layout === 'tn' ? a[k * n + i] : a[i * n + k];
      const y = layout === 'nt' ? b[j * n + k] : b[k * n + j];
      ref += x * y;
      mag += Math.abs(x * y);
    }
    worst = Math.max(worst, Math.abs(got[i * n + j] - ref) / Math.max(mag, 1e-6));
  }
  return worst;
}

/** GFLOP/s for matmul rows (work = 2n³), steps per second for the MLP row (work = steps per epoch). */
const metric: Metric = {
  unit: 'GFLOP/s or steps/s',
  higherIsBetter: true,
  digits: 2,
  value: (s, c) => (c.label.startsWith('MLP') ? (c.work ?? 1) / s : (c.work ?? 0) / s / 1e9),
};

export const webgpuSuite: Suite = {
  id: 'webgpu',
  title: 'WebGPU: Axon vs tfjs-webgpu (matmul GFLOP/s, MLP training steps/s)',
  describe: 'Axon WebGPU vs tfjs-webgpu on one Dawn adapter: matmul GFLOP/s at 256/512/1024, MLP 784-128-10 train step (also --backend webgpu)',
  inAll: false,
  async run(opts: SuiteOptions): Promise<SuiteResult> {
    const sizes = opts.sizes ?? [256, 512, 1024];
    const runs = opts.runs ?? 5;
    const warnings: string[] = [];
    const sides: Side[] = [];
    const failedStart: Record<string, string> = {};
    for (const s of [axonSide, tfSide]) {
      if (opts.only && !s.info.axon && !opts.only.includes(s.info.id)) continue;
      try {
        await s.start();
        sides.push(s);
      } catch (e) {
        const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
        failedStart[s.info.id] = why;
        warnings.push(`${s.info.label} did not start: ${why}`);
        opts.log(`${s.info.label}: did not start (${why})`);
      }
    }
    const adapter = await adapterName().catch((e: unknown) => `no adapter (${e instanceof Error ? e.message : String(e)})`);
    opts.log(`adapter: ${adapter}; Axon: ${axonDescription}`);
    const skippedCells = (): Record<string, Cell> =>
      Object.fromEntries(Object.entries(failedStart).map(([id]) => [id, { skipped: id === 'axon' ? 'not available yet' : 'unavailable' }]));

    const cases: CaseResult[] = [];
    const live = new Map<Side, number>(sides.map((s) => [s, s.live()]));
    for (const n of sizes) {
      const a = uniformArray(n * n, n);
      const b = uniformArray(n * n, n + 1);
      for (const layout of LAYOUTS) {
        const label = `${n} ${LAYOUT_LABEL[layout]}`;
        const cells: Record<string, Cell> = skippedCells();
        for (const s of sides) {
          try {
            await s.start();
            const inst = s.matmul(a, b, n, layout);
            try {
              const err = checkProduct(a, b, n, layout, await inst.run());
              if (err > 1e-3) {
                cells[s.info.id] = { skipped: `wrong result (rel. error ${err.toExponential(1)})` };
                warnings.push(`${s.info.label} ${label}: wrong result, relative error ${err.toExponential(1)}`);
                continue;
              }
              const m = await measure(() => inst.run(), { warmup: opts.warmup ?? 2, runs, minSampleMs: opts.minSampleMs, maxReps: 50 });
              cells[s.info.id] = m;
              opts.log(`${label.padEnd(10)} ${s.info.label.padEnd(12)} ${((2 * n ** 3) / m.median / 1e9).toFixed(2)} GFLOP/s`);
            } finally {
              inst.dispose();
            }
          } catch (e) {
            const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
            cells[s.info.id] = { skipped: 'failed' };
            warnings.push(`${s.info.label} ${label} failed: ${why}`);
          }
        }
        cases.push({ label, work: 2 * n ** 3, cells });
      }
    }

    // MLP training: fit over MLP_DIGITS digits per epoch; 1 warm-up epoch, then rounds.
    const train = loadMnist('train', MLP_DIGITS);
    const test = loadMnist('t10k', 2000);
    const steps = Math.ceil(train.n / MLP.batch);
    const mlpCells: Record<string, Cell> = skippedCells();
    const extra: Record<string, string> = {};
    const prepared = new Map<string, { s: Side; run: MlpRun }>();
    for (const s of sides) {
      try {
        await s.start();
        prepared.set(s.info.id, { s, run: await s.mlp(train) });
      } catch (e) {
        mlpCells[s.info.id] = { skipped: 'failed' };
        warnings.push(`${s.info.label} MLP failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    const measured = await measureRoundRobin(
      [...prepared.values()].map(({ s, run }) => ({ id: s.info.id, before: () => s.start(), op: () => run.epoch() })),
      { warmup: 1, runs: Math.max(3, Math.min(runs, 5)) },
      (id, e) => {
        mlpCells[id] = { skipped: 'failed' };
        warnings.push(`${id} MLP failed: ${e instanceof Error ? e.message : String(e)}`);
      },
    );
    for (const { s, run } of prepared.values()) {
      try {
        const m = measured.get(s.info.id);
        if (m) {
          mlpCells[s.info.id] = m;
          await s.start();
          const acc = await run.evaluate(test);
          extra[s.info.id] = `= ${((m.median / steps) * 1000).toFixed(0)} ms/step, acc ${(acc * 100).toFixed(1)}%`;
          opts.log(`MLP ${s.info.label.padEnd(12)} ${((m.median / steps) * 1000).toFixed(1)} ms/step, test accuracy ${(acc * 100).toFixed(1)}% (2,000 digits)`);
        }
      } catch (e) {
        mlpCells[s.info.id] = { skipped: 'failed' };
        warnings.push(`${s.info.label} MLP evaluation failed: ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        run.dispose();
      }
    }
    cases.push({ label: `MLP train step (steps/s)`, work: steps, cells: mlpCells, extra });
    for (const [s, before] of live) {
      const after = s.live();
      if (after !== before) warnings.push(`${s.info.label}: ${after - before} tensors left alive after dispose`);
    }

    const goal: string[] = [];
    const ratios = cases
      .filter((c) => !c.label.startsWith('MLP'))
      .map((c) => {
        const a = c.cells.axon;
        const t = c.cells['tfjs-webgpu'];
        return a && t && 'median' in a && 'median' in t ? { label: c.label, r: t.median / a.median } : undefined;
      })
      .filter((x): x is { label: string; r: number } => x !== undefined);
    if (ratios.length > 0) {
      const worst = ratios.reduce((w, x) => (x.r < w.r ? x : w));
      const best = ratios.reduce((w, x) => (x.r > w.r ? x : w));
      goal.push(
        `**Goal: on CPU emulation Axon's WebGPU matmul within 2× of tfjs-webgpu or faster, in the same run.** Axon ÷ tfjs-webgpu over the matmul rows: ` +
          `${worst.r.toFixed(2)}× (${worst.label}) to ${best.r.toFixed(2)}× (${best.label}): ${worst.r >= 0.5 ? 'goal met in every row' : `goal **not met** in ${ratios.filter((x) => x.r < 0.5).map((x) => x.label).join(', ')}`}.`,
      );
    }
    return {
      id: 'webgpu',
      title: this.title,
      metric,
      contenders: [axonSide.info, tfSide.info],
      cases,
      notes: [
        `Adapter (Dawn, npm \`webgpu\` ${packageVersion('webgpu')}, VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? 'unset'}): **${adapter}**; Axon's \`adapterDescription\`: ${axonDescription}. Both libraries use this one Dawn instance through \`navigator.gpu\`.`,
        `Matmul rows: GFLOP/s = 2n³ / seconds per call, the n×n result read back in each call; inputs uniform in [-1, 1); the first result of each cell is checked against float64 sums at 64 entries. ${runs} timed samples after warm-up.`,
        `MLP row: steps per second (higher is better; ms/step after the figure) of the MLP 784-128-10 (relu, dropout 0.2, softmax, Adam lr 1e-3, batch 128), timed as \`fit\` over the first ${MLP_DIGITS} MNIST digits (${steps} steps) per epoch, one warm-up epoch, then epochs in rounds (one of each library in turn); "acc" is accuracy on 2,000 test digits after those epochs (a check that it trains).`,
        ...goal,
      ],
      warnings,
    };
  },
};
