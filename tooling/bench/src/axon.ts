/**
 * Axon's side of each suite. @axon/core and @axon/layers are imported statically (their API is
 * typechecked here); the backend package (`@axon/backend-<--backend>`) is imported at run time, so
 * that the peers still run when it cannot load: the Axon contender then reports
 * "not available yet" instead of a number.
 */

import { matmul, memory, registerBackend, setBackend, startProfile, tensor, type Backend, type Profiler, type Tensor } from '@axon/core';
import '@axon/autograd'; // registers gradients; `fit` needs it loaded
import { Dense, Dropout, LambdaCallback, sequential, type Sequential } from '@axon/layers';
import type { MatmulContender } from './suites/matmul.js';
import type { MlpContender, MlpRun } from './suites/mlp.js';
import { MLP } from './suites/mlp.js';
import type { Digits } from './mnist.js';
import type { SuiteOptions } from './suite.js';
import { threadedId, threadedLabel } from './threads.js';

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

/**
 * Live Axon tensors, over every backend (one function for all of Axon's contenders, so that a
 * suite's leak check counts them together).
 */
export const axonLive = (): number => memory().numTensors;

/** The registry name of the bench's wasm backend at `threads` threads. */
export function threadBackendName(threads: number): string {
  return `wasm-bench-${threads}t`;
}

/** What the bench reads of a wasm backend with threads (structurally: the package is imported at run time). */
interface ThreadedBackend extends Backend {
  startThreads?(): Promise<number>;
  /** Calls split over threads so far, by op (the wasm backend's internal count, where it has one). */
  readonly parallelRuns?: Readonly<Record<string, number>>;
}

const threadBackends = new Map<number, Promise<ThreadedBackend>>();

/**
 * Makes Axon's wasm backend at `threads` threads current, with its workers running, so that no
 * worker start lands in a timed region. Each thread count is its own backend instance, created
 * as a user's `createWasmBackend({ threads })` (registered as `wasm-bench-<n>t`): at 1 thread the
 * single-threaded backend (what `setNumThreads(1)` before the first op gives), at n its shared
 * memory and n − 1 workers, started with `startThreads()`. Tensors belong to one backend, so each
 * contender prepares its inputs after calling this. Throws when the backend cannot run `threads`
 * threads here (the backend's `features.threadsReason` says why).
 * @example await useAxonThreads(2); // then matmul(a, b) runs on 2 threads
 */
export async function useAxonThreads(threads: number): Promise<void> {
  const name = threadBackendName(threads);
  let made = threadBackends.get(threads);
  if (made === undefined) {
    made = (async () => {
      const mod = await importOptional('@axon/backend-wasm');
      const create = mod.createWasmBackend;
      if (typeof create !== 'function') throw new Error('@axon/backend-wasm has no createWasmBackend');
      registerBackend({ name, priority: -100, create: () => (create as (o: { threads: number }) => Promise<Backend>)({ threads }) });
      return (await setBackend(name)) as ThreadedBackend;
    })();
    threadBackends.set(threads, made);
    made.catch(() => threadBackends.delete(threads));
  }
  const b = await made;
  await setBackend(name);
  const running = threads === 1 ? 1 : typeof b.startThreads === 'function' ? await b.startThreads() : undefined;
  // a backend from before threads runs one thread and does not say so
  const has = b.features?.threads ?? (threads === 1 ? 1 : undefined);
  if (running === undefined || has === undefined) throw new Error('this @axon/backend-wasm has no threads (createWasmBackend({ threads }), startThreads())');
  if (running !== threads || has !== threads) {
    throw new Error(`asked for ${threads} threads, the backend runs ${running} (features.threads ${String(has)}: ${String(b.features?.threadsReason)})`);
  }
}

/** One line on Axon's threads for the notes: each count's `features.threadsReason`. */
export async function axonThreadsNote(threads: readonly number[]): Promise<string | undefined> {
  const parts: string[] = [];
  for (const n of threads) {
    const b = await threadBackends.get(n)?.catch(() => undefined);
    if (!b) continue;
    // the proof that ops really ran split: how many calls of each op the backend split so far
    const runs = b.parallelRuns;
    const split = runs && n > 1 ? `, calls split over threads so far: ${Object.entries(runs).map(([op, k]) => `${op} ${k}`).join(', ') || 'none'}` : '';
    parts.push(`${n}t: ${String(b.features?.threads)} thread(s) ("${String(b.features?.threadsReason)}"), relaxed SIMD ${b.features?.relaxedSimd === true ? 'on' : 'off'}${split}`);
  }
  return parts.length > 0
    ? `Axon's threads: one wasm backend per thread count, \`createWasmBackend({ threads })\`, workers started (\`startThreads()\`) before timing; features: ${parts.join('; ')}.`
    : undefined;
}

/** `axon-wasm 2t` at `threads` threads (`--threads`), or the plain `axon-<backend>` when undefined. */
function axonInfo(opts: SuiteOptions, threads: number | undefined): { id: string; label: string; axon: true; threads?: number } {
  return { id: threadedId('axon', threads), label: threadedLabel(`axon-${opts.backend}`, threads), axon: true, ...(threads !== undefined ? { threads } : {}) };
}

/** Selects Axon's backend: the wasm backend at `threads` threads, or `--backend`'s when undefined. */
export function axonStart(opts: SuiteOptions, threads: number | undefined): () => Promise<void> {
  return threads === undefined ? () => startAxon(opts.backend) : () => useAxonThreads(threads);
}

export function axonMatmulContender(opts: SuiteOptions, threads?: number): MatmulContender {
  return {
    ...axonInfo(opts, threads),
    note: '`matmul(a.T, b)` / `matmul(a, b.T)` with `.T` a zero-copy view; result read with `dataSync()`, then disposed.',
    start: axonStart(opts, threads),
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
    live: axonLive,
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

export function axonMlpContender(opts: SuiteOptions, threads?: number): MlpContender {
  return {
    ...axonInfo(opts, threads),
    note:
      "`sequential([new Dense(128, { activation: 'relu', inputShape: [784] }), new Dropout(0.2), new Dense(10, { activation: 'softmax' })])`, " +
      "`compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] })` (Adam: lr 1e-3, β 0.9/0.999, ε 1e-8; the final softmax fused into the loss), `fit(x, y, { batchSize, epochs: 1, shuffle: true, verbose: 0 })` per timed epoch (`batchSize`: the row's).",
    start: axonStart(opts, threads),
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
    live: axonLive,
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
