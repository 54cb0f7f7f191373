/**
 * Axon's side of each suite. @axon/core and @axon/layers are imported statically (their API is
 * typechecked here); the backend package (`@axon/backend-<--backend>`) is imported at run time, so
 * that the peers still run when it cannot load: the Axon contender then reports
 * "not available yet" instead of a number.
 */

import { matmul, memory, setBackend, startProfile, tensor, type Profiler, type Tensor } from '@axon/core';
import '@axon/autograd'; // registers gradients; `fit` needs it loaded
import { Dense, Dropout, LambdaCallback, sequential, type Sequential } from '@axon/layers';
import type { MatmulContender } from './suites/matmul.js';
import type { MlpContender, MlpRun } from './suites/mlp.js';
import { MLP } from './suites/mlp.js';
import type { Digits } from './mnist.js';
import type { SuiteOptions } from './suite.js';

/** Imports a workspace package by a computed name, so the bench builds before the package exists. */
async function importOptional(name: string): Promise<Record<string, unknown>> {
  try {
    return (await import(/* @vite-ignore */ name)) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${name} cannot be imported: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
}

let started: Promise<void> | null = null;

/** Imports the backend package (which registers the backend) and makes it current. */
export function startAxon(backend: 'wasm' | 'webgpu'): Promise<void> {
  started ??= (async () => {
    await importOptional(`@axon/backend-${backend}`);
    await setBackend(backend);
  })();
  return started;
}

export function axonMatmulContender(opts: SuiteOptions): MatmulContender {
  return {
    id: 'axon',
    label: `axon-${opts.backend}`,
    axon: true,
    note: '`matmul(a.T, b)` / `matmul(a, b.T)` with `.T` a zero-copy view; result read with `dataSync()`, then disposed.',
    start: () => startAxon(opts.backend),
    prepare(a, b, n, layout) {
      const ta = tensor(a, [n, n], 'float32');
      const tb = tensor(b, [n, n], 'float32');
      const lhs = layout === 'tn' ? ta.T : ta;
      const rhs = layout === 'nt' ? tb.T : tb;
      return {
        run() {
          const out = matmul(lhs, rhs);
          const d = out.dataSync() as Float32Array;
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
    live: () => memory().numTensors,
  };
}

// ---------------------------------------------------------------------------------------------
// MLP training epoch: Axon's Keras-style `sequential` + `fit` (the seed scenario S2)
// ---------------------------------------------------------------------------------------------

/**
 * One training epoch with Axon's `fit`, as a user of the Keras front end writes it.
 * @example await axonMlpEpoch(model, x, y, 128);
 */
export async function axonMlpEpoch(model: Sequential, x: Tensor, y: Tensor, batch: number = MLP.batch): Promise<void> {
  await model.fit(x, y, { batchSize: batch, epochs: 1, shuffle: true, verbose: 0 });
}

/**
 * Kernels one `fit` training step launches: a two-step fit over the first 2 batches, the second
 * step profiled from its `onBatchBegin` to its `onBatchEnd`.
 * @example const kernels = await axonKernelsPerStep(model, x, y, 128);
 */
export async function axonKernelsPerStep(model: Sequential, x: Tensor, y: Tensor, batch: number = MLP.batch): Promise<number> {
  const n = Math.min(2 * batch, x.shape[0]!);
  const xs = x.slice([0, 0], [n, x.shape[1]!]);
  const ys = y.slice([0], [n]);
  let p: Profiler | null = null;
  let kernels = 0;
  const cb = new LambdaCallback({
    onBatchBegin: (b: number) => {
      if (b === 1) p = startProfile();
    },
    onBatchEnd: () => {
      if (p !== null) kernels = (p as Profiler).stop().kernels;
      p = null;
    },
  });
  try {
    await model.fit(xs, ys, { batchSize: batch, epochs: 1, shuffle: false, verbose: 0, callbacks: [cb] });
  } finally {
    (p as Profiler | null)?.stop();
    xs.dispose();
    ys.dispose();
  }
  return kernels;
}

export function axonMlpContender(opts: SuiteOptions): MlpContender {
  return {
    id: 'axon',
    label: `axon-${opts.backend}`,
    axon: true,
    note:
      "`sequential([new Dense(128, { activation: 'relu', inputShape: [784] }), new Dropout(0.2), new Dense(10, { activation: 'softmax' })])`, " +
      "`compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] })` (Adam: lr 1e-3, β 0.9/0.999, ε 1e-8; the final softmax fused into the loss), `fit(x, y, { batchSize, epochs: 1, shuffle: true, verbose: 0 })` per timed epoch (`batchSize`: the row's).",
    start: () => startAxon(opts.backend),
    async prepare(train: Digits, batch: number = MLP.batch): Promise<MlpRun> {
      const model = sequential([
        new Dense(MLP.hidden, { activation: 'relu', inputShape: [MLP.inputs] }),
        new Dropout(MLP.dropout),
        new Dense(MLP.classes, { activation: 'softmax' }),
      ]);
      model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
      const x = tensor(train.x, [train.n, MLP.inputs], 'float32');
      const y = tensor(Int32Array.from(train.y), [train.n], 'int32');
      return {
        epoch: () => axonMlpEpoch(model, x, y, batch),
        evaluate: (test) => axonAccuracy(model, test, [MLP.inputs], 1000),
        kernelsPerStep: () => axonKernelsPerStep(model, x, y, batch),
        dispose() {
          x.dispose();
          y.dispose();
          model.dispose();
        },
      };
    },
    live: () => memory().numTensors,
  };
}

/**
 * Test accuracy of an Axon classifier on MNIST digits (not timed): `predict` in batches, then the
 * arg-max of each row against the label.
 */
export async function axonAccuracy(model: { predict(x: Tensor, o: { batchSize: number }): Tensor }, test: Digits, exampleShape: readonly number[], batchSize: number): Promise<number> {
  const tx = tensor(test.x, [test.n, ...exampleShape], 'float32');
  const probs = model.predict(tx, { batchSize });
  const d = await probs.data();
  const classes = probs.shape[1]!;
  probs.dispose();
  tx.dispose();
  let ok = 0;
  for (let i = 0; i < test.n; i++) {
    let best = 0;
    for (let j = 1; j < classes; j++) if (d[i * classes + j]! > d[i * classes + best]!) best = j;
    if (best === test.y[i]) ok++;
  }
  return ok / test.n;
}
