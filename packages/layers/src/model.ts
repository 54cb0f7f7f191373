/**
 * The Keras front end's base class {@link Model}: compile / fit / evaluate / predict / summary.
 * {@link Sequential} (`sequential.ts`) and functional {@link GraphModel}s (`graph.ts`) extend it;
 * the training loop is in `training.ts`, the compile settings in `compile.ts`.
 */
import { AxonError, type Tensor, fmtValue } from '@axon/core';
import { optimizer as makeOptimizer, Optimizer, type OptimizerConfig, type OptimizerStateDict } from '@axon/optimizers';
import type { History, Logs } from './callbacks.js';
import { type CompileConfig, type Compiled, type SavedCompileConfig, notCompiledError, resolveCompile, resolveSavedCompile, savedCompileConfig, unsavedNote } from './compile.js';
import type { BatchSource, DataInput } from './data.js';
import type { EvaluateOptions, FitOptions } from './fitoptions.js';
import { Module } from './module.js';
import type { SymbolicShape, SymbolicTensor } from './symbolic.js';
import { type ModelInternals, evaluateModel, fitModel, predictModel } from './training.js';
import { optBool, optionsOf } from './validate.js';

/** Set by Model's static block: creates a compiled model's optimizer and loads a state into it. */
let restoreOptimizerState: (m: Model, dict: OptimizerStateDict) => void;

/**
 * @internal Creates the optimizer of a compiled `m` over its parameters (as the first `fit` would)
 * and loads `dict` into it (validated; on failure nothing changes and the error is thrown).
 */
export function loadOptimizerState(m: Model, dict: OptimizerStateDict): void {
  restoreOptimizerState(m, dict);
}

/** Set by Model's static block: the private parts of a model that the training loop uses. */
let internalsOf: (m: Model) => ModelInternals;

/** @internal Elements of a module's float buffers (running statistics): Keras's non-trainable parameters. */
export function countStats(m: Module): number {
  return m.namedBuffers().reduce((n, [, b]) => n + (b.dtype === 'float32' ? b.size : 0), 0);
}

// FinalAct and GraphNode are declared here, where the docs build's `intentionallyNotExported` list
// (apps/docs/typedoc.json) names them: moving them means updating that list in the same change.

/** @internal The final activation a loss can fuse (see `finalActivation` in fusion.ts). */
export type FinalAct = 'softmax' | 'sigmoid' | null;

/** A node of a functional graph: a layer applied to symbolic inputs. @internal */
export interface GraphNode {
  readonly layer: Module;
  readonly inputs: readonly SymbolicTensor[];
  /** The node's first output (the one that stands for the node: `outputs[0]`). */
  readonly output: SymbolicTensor;
  /** Every output of the call (several for a recurrent layer with `returnState`). */
  readonly outputs: readonly SymbolicTensor[];
}

function fmtSym(s: SymbolicShape | null): string {
  return s ? `[${s.map((d) => d ?? 'null').join(', ')}]` : '?';
}

/**
 * A trainable model with Keras's API. {@link Sequential} and functional {@link GraphModel}s are
 * Models; a PyTorch-style subclass of Model gets `compile`/`fit` too.
 * @example
 * const m: Model = sequential([new Dense(1, { inputShape: [3] })]);
 * m.compile({ optimizer: 'sgd', loss: 'mse' });
 * const x = randn([32, 3]);
 * const y = x.matmul(tensor([[1], [2], [3]])); // y = x·[1, 2, 3]
 * const history = await m.fit(x, y, { epochs: 10, verbose: 0 });
 * history.history.loss![9]! < history.history.loss![0]! // true
 */
export abstract class Model extends Module {
  private stopState: { reason: string; checkpoint: boolean } | null = null;
  /** The optimizer (created on the first `fit` when compiled by name). */
  optimizer: Optimizer | null = null;
  private compiled: Compiled | null = null;
  private ownsOptimizer = false;
  /** Compile settings restored from a file that could not compile the model (a custom loss or optimizer). */
  private pendingCompile: SavedCompileConfig | null = null;
  /** Said once by the next `fit`/`evaluate`: metrics that were functions and were not restored. */
  private compileNote: string | null = null;

  static {
    restoreOptimizerState = (m, dict) => {
      const had = m.optimizer;
      const opt = m.ensureOptimizer();
      try {
        opt.loadStateDict(dict);
      } catch (e) {
        if (opt !== had) {
          opt.dispose();
          m.optimizer = had;
          m.ownsOptimizer = false;
        }
        throw e;
      }
    };
    internalsOf = (m) => ({
      requireCompiled: (op) => m.requireCompiled(op),
      takeCompileNote: () => m.takeCompileNote(),
      ensureOptimizer: () => m.ensureOptimizer(),
      get stopState() {
        return m.stopState;
      },
      get compiled() {
        return m.compiled;
      },
    });
  }

  /**
   * Set to true to end `fit`: during a batch (e.g. from a SIGINT handler, or `onBatchEnd`) after the
   * current step — writing a checkpoint of that exact position first when checkpointing is on —
   * and from `onEpochEnd` (as EarlyStopping does) after the epoch. See {@link Model.requestStop}.
   * @example
   * const net = sequential([new Dense(1, { inputShape: [2] })]);
   * net.compile({ optimizer: 'sgd', loss: 'mse' });
   * // In a program: process.once('SIGINT', () => { net.stopTraining = true; });
   * const stopAtBatch3: Callback = { onBatchEnd: (batch) => { if (batch === 2) net.stopTraining = true; } };
   * const h = await net.fit(randn([32, 2]), randn([32, 1]), { epochs: 5, batchSize: 4, verbose: 0, callbacks: [stopAtBatch3] });
   * h.stopped // { epoch: 0, batch: 2, interrupted: true }
   */
  get stopTraining(): boolean {
    return this.stopState !== null;
  }

  set stopTraining(v: boolean) {
    this.stopState = v ? (this.stopState ?? { reason: 'model.stopTraining was set', checkpoint: true }) : null;
  }

  /**
   * Asks `fit` to stop, as `stopTraining = true` does, with a reason for `History.stopped` and
   * the log; `checkpoint: false` writes no checkpoint of this position (TerminateOnNaN: the
   * weights are not worth resuming from).
   * @example
   * const net = sequential([new Dense(1, { inputShape: [2] })]);
   * net.compile({ optimizer: 'sgd', loss: 'mse' });
   * const budget: Callback = { onEpochEnd: (epoch) => { if (epoch === 1) net.requestStop('time budget spent'); } };
   * const h = await net.fit(randn([8, 2]), randn([8, 1]), { epochs: 10, verbose: 0, callbacks: [budget] });
   * h.epoch // [0, 1]
   * h.stopped // { epoch: 1, batch: null, reason: 'time budget spent', interrupted: false }
   */
  requestStop(reason: string, opts: { checkpoint?: boolean } = {}): void {
    if (typeof reason !== 'string' || reason === '') throw new AxonError('requestStop', `expects a reason (a non-empty string), got ${fmtValue(reason)}`);
    const o = optionsOf<{ checkpoint?: boolean }>('requestStop', opts, ['checkpoint']);
    this.stopState = { reason, checkpoint: optBool('requestStop', 'checkpoint', o.checkpoint) ?? true };
  }

  /**
   * The shape of one input example when known (no batch axis); `fit`/`predict` check data against
   * it. Subclasses override it (the default, for PyTorch-style subclasses, is null: unknown).
   * @example sequential([new Dense(1, { inputShape: [3] })]).inputShape // [3]
   */
  get inputShape(): readonly number[] | null {
    return null;
  }

  /**
   * The shape of one example of each input (no batch axis; null where unknown), in the order
   * `fit`/`evaluate`/`predict` take them: one entry for a one-input model, one per symbolic input
   * for a functional model with several (which are then given as an array of tensors).
   * @example
   * sequential([new Dense(1, { inputShape: [3] })]).exampleShapes // [[3]]
   * const a = input({ shape: [4] });
   * const b = input({ shape: [2] });
   * model({ inputs: [a, b], outputs: new Dense(1).call(concatenate([a, b])) }).exampleShapes // [[4], [2]]
   */
  get exampleShapes(): readonly (readonly number[] | null)[] {
    return [this.inputShape];
  }

  /**
   * @internal Runs the model on one tensor per input (see {@link Model.exampleShapes}), as
   * {@link Model.forwardParts} does for one; the default passes them to `forward`.
   */
  forwardInputs(xs: readonly Tensor[], strip: boolean): Tensor {
    return xs.length === 1 ? this.forwardParts(xs[0]!, strip) : this.forward(...xs);
  }

  /**
   * The layers in order (for `summary` and for fusing a final softmax into the loss). The
   * default is the direct children.
   * @example sequential([new Dense(4, { inputShape: [2], name: 'hidden' }), new Dense(1, { name: 'out' })]).layers.map((l) => l.name) // ['hidden', 'out']
   */
  get layers(): Module[] {
    return this.children();
  }

  /**
   * Runs the model; with `strip`, without the final softmax/sigmoid of the last layer (so that
   * the loss can be computed from logits). The default (for custom subclasses) is `forward`,
   * and custom subclasses report no final activation, so `strip` is never asked of them.
   * @example
   * const net = sequential([new Dense(2, { inputShape: [2], activation: 'softmax', kernelInitializer: 'ones' })]);
   * net.forwardParts(tensor([[1, 2]]), true) // [[3, 3]]
   * net.forwardParts(tensor([[1, 2]]), false) // [[0.5, 0.5]]
   */
  forwardParts(x: Tensor, strip: boolean): Tensor {
    void strip;
    return this.forward(x);
  }

  /**
   * The final activation a loss could fuse (`'softmax'`, `'sigmoid'` or null): that of the last
   * layer for Sequential and functional models, null for custom subclasses.
   * @example sequential([new Dense(10, { activation: 'softmax', inputShape: [4] })]).finalActivation // 'softmax'
   */
  get finalActivation(): FinalAct {
    return null;
  }

  /**
   * Configures training: optimizer, loss and metrics (Keras's `compile`). Names are resolved now;
   * an optimizer given by name is created on the first `fit` (after lazily-built layers exist).
   * @example
   * const net = sequential([new Dense(1, { inputShape: [2] })]);
   * net.compile({ optimizer: { name: 'adam', learningRate: 1e-3 }, loss: 'mse', metrics: ['mae'] });
   * net.isCompiled // true
   * net.compile({ optimizer: 'adam', loss: 'hinge' }) // throws: "unknown loss 'hinge'"
   * net.compile({ optimizer: 'adam', loss: 'mse', metric: ['mae'] } as CompileConfig) // throws: "unknown option 'metric'"
   */
  compile(config: CompileConfig): this {
    const compiled = resolveCompile(`${this.className}.compile`, config);
    if (this.optimizer && this.ownsOptimizer && this.optimizer !== config.optimizer) this.optimizer.dispose();
    this.optimizer = config.optimizer instanceof Optimizer ? config.optimizer : null;
    this.ownsOptimizer = false;
    this.compiled = compiled;
    this.pendingCompile = null;
    this.compileNote = null;
    return this;
  }

  /**
   * Whether the model is compiled (by `compile`, or by `loadModel` from saved settings).
   * @example
   * const net = sequential([new Dense(1, { inputShape: [2] })]);
   * net.isCompiled // false
   * net.compile({ optimizer: 'sgd', loss: 'mse' }).isCompiled // true
   */
  get isCompiled(): boolean {
    return this.compiled !== null;
  }

  /**
   * The compile settings as JSON (Keras's `get_compile_config`), as `save` writes them into
   * `model.json`, or null when the model is not compiled. The optimizer is given by its
   * constructor settings (`optimizer.getConfig()`, every hyperparameter explicit); a loss or metric
   * that is a function, or an optimizer `optimizer()` cannot rebuild, is named in `unsaved`
   * instead. A model loaded with a custom loss and not compiled again returns what was loaded.
   * @example
   * const net = sequential([new Dense(1, { inputShape: [2] })]);
   * net.getCompileConfig() // null
   * net.compile({ optimizer: 'adam', loss: 'mse', metrics: ['mae'] });
   * net.getCompileConfig() // { loss: 'mse', metrics: ['mae'], unsaved: [] }
   * net.getCompileConfig()!.optimizer // { name: 'adam', lr: 0.001, betas: [0.9, 0.999], eps: 1e-7 }
   */
  getCompileConfig(): SavedCompileConfig | null {
    const c = this.compiled;
    if (!c) return this.pendingCompile;
    return savedCompileConfig(c, this.optimizer ?? c.optimizerSpec);
  }

  /**
   * Compiles the model from settings {@link Model.getCompileConfig} returned, e.g. read from
   * `model.json` (Keras's `compile_from_config`); `loadModel` calls it. The settings are checked
   * (names resolved) before anything changes. When they lack the loss or the optimizer (saved from
   * a function or a custom optimizer class), the model stays uncompiled and `fit`/`evaluate` say
   * what to pass to `compile`; metrics that were functions are left out, and the next
   * `fit`/`evaluate` warns once that they are not logged.
   * @example
   * const a = sequential([new Dense(1, { inputShape: [2] })]);
   * a.compile({ optimizer: { name: 'sgd', learningRate: 0.05 }, loss: 'mae', metrics: ['mse'] });
   * const b = sequential([new Dense(1, { inputShape: [2] })]);
   * b.compileFromConfig(a.getCompileConfig()!);
   * b.isCompiled // true
   * b.getCompileConfig() // { loss: 'mae', metrics: ['mse'], unsaved: [] }
   * b.compileFromConfig({ optimizer: null, loss: null, metrics: [], unsaved: ["loss 'huber' (a function)"] });
   * b.isCompiled // false
   * await b.fit(ones([2, 2]), ones([2, 1])) // throws: "loss 'huber' (a function)"
   */
  compileFromConfig(config: SavedCompileConfig): this {
    const c = resolveSavedCompile(`${this.className}.compileFromConfig`, config);
    if (c.optimizer === null || c.loss === null) {
      if (this.optimizer && this.ownsOptimizer) this.optimizer.dispose();
      this.optimizer = null;
      this.ownsOptimizer = false;
      this.compiled = null;
      this.pendingCompile = c;
      this.compileNote = null;
      return this;
    }
    this.compile({ optimizer: c.optimizer, loss: c.loss, metrics: c.metrics });
    this.compiled!.unsaved.push(...c.unsaved);
    if (c.unsaved.length) this.compileNote = unsavedNote(c.unsaved);
    return this;
  }

  private requireCompiled(op: string): Compiled {
    if (!this.compiled) throw notCompiledError(op, this.pendingCompile);
    return this.compiled;
  }

  /** The note about metrics left out when compiled from a file, once. */
  private takeCompileNote(): string | null {
    const n = this.compileNote;
    this.compileNote = null;
    return n;
  }

  private ensureOptimizer(): Optimizer {
    const c = this.requireCompiled('fit');
    if (!this.optimizer) {
      this.optimizer = makeOptimizer(c.optimizerSpec as string | OptimizerConfig, this.parameters());
      this.ownsOptimizer = true;
    }
    else if (this.optimizer.params.length === 0) this.optimizer.addParamGroup({ params: this.parameters() });
    return this.optimizer;
  }

  /**
   * Trains the model (Keras's `fit`) on `x`, `y` (tensors, typed arrays, host arrays) or on a
   * dataset of `{ x, y }` batches. Validates the data before the first step (matching lengths,
   * input shape, labels in range for the loss), runs each step inside `tidy`, disposes every batch
   * it creates, reads the loss back once per epoch (and per batch only when a callback reads
   * `logs.loss`), and returns the {@link History}.
   * @example
   * const net = sequential([new Dense(8, { inputShape: [4], activation: 'relu' }), new Dense(3, { activation: 'softmax' })]);
   * net.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
   * const xTrain = randn([64, 4]);
   * const yTrain = xTrain.argmax(-1).minimum(2).astype('int32'); // the largest feature's index, 3 counted as 2
   * const history = await net.fit(xTrain, yTrain, { epochs: 5, batchSize: 16, validationSplit: 0.25, verbose: 0,
   *   callbacks: [{ onEpochEnd: (e, logs) => console.log(e, logs.loss, logs.accuracy) }] });
   * Object.keys(history.history) // ['loss', 'accuracy', 'val_loss', 'val_accuracy']
   * history.epoch // [0, 1, 2, 3, 4]
   * await net.fit(randn([4, 5]), tensor([0, 1, 2, 0], [4], 'int32')) // throws: 'the model expects [N, 4]'
   */
  fit(x: DataInput | readonly Tensor[] | BatchSource, y?: DataInput | FitOptions, options?: FitOptions): Promise<History> {
    return fitModel(this, internalsOf(this), x, y, options);
  }

  /**
   * Computes the loss and metrics on data (Keras's `evaluate`), batched, without gradients.
   * @example
   * const net = sequential([new Dense(2, { inputShape: [2], activation: 'softmax', kernelInitializer: 'ones', biasInitializer: 'zeros' })]);
   * net.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
   * const xTest = tensor([[1, 0], [0, 1]]);
   * const yTest = tensor([0, 1], [2], 'int32');
   * const { loss, accuracy } = await net.evaluate(xTest, yTest); // equal logits: probabilities 0.5
   * loss // 0.6931
   * accuracy // 0.5
   */
  evaluate(x: DataInput | readonly Tensor[] | BatchSource, y?: DataInput | EvaluateOptions, options?: EvaluateOptions): Promise<Logs> {
    return evaluateModel(this, internalsOf(this), x, y, options);
  }

  /**
   * Runs the model on `x` in batches in eval mode without gradients (Keras's `predict`); returns
   * one tensor (the caller owns it).
   * @example
   * const net = sequential([new Dense(10, { inputShape: [4], activation: 'softmax' })]);
   * const yHat = net.predict(randn([50, 4]), { batchSize: 16 });
   * yHat.shape // [50, 10]
   * yHat.sum(-1).sub(1).abs().max().item() < 1e-5 // true
   * net.predict(new Float32Array(8)).shape // [2, 10]
   */
  predict(x: DataInput | readonly Tensor[], opts: EvaluateOptions = {}): Tensor {
    return predictModel(this, x, opts);
  }

  /** Output shapes per layer for `summary` (null where unknown). */
  protected layerShapes(): { name: string; type: string; shape: SymbolicShape | null; params: number; inbound?: string }[] {
    return this.namedChildren().map(([n, l]) => ({ name: n, type: l.className, shape: null, params: l.countParams() + countStats(l) }));
  }

  /**
   * A Keras-style table of layers, output shapes and parameter counts.
   * @example
   * const net = sequential([new Dense(3, { inputShape: [2], name: 'hidden' }), new Dense(1, { name: 'out' })], { name: 'tiny' });
   * console.log(net.summary());
   * net.summary().split('\n').slice(-3) // ['Total params: 13', 'Trainable params: 13', 'Non-trainable params: 0']
   */
  summary(): string {
    const rows = this.layerShapes();
    const hasInbound = rows.some((r) => r.inbound !== undefined);
    const head = ['Layer (type)', 'Output Shape', 'Param #', ...(hasInbound ? ['Connected to'] : [])];
    const body = rows.map((r) => [`${r.name} (${r.type})`, fmtSym(r.shape), String(r.params), ...(hasInbound ? [r.inbound ?? ''] : [])]);
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)) + 2);
    const line = (cells: string[]): string => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('').trimEnd();
    const trainable = this.countParams();
    const fixed = countStats(this);
    const total = trainable + fixed;
    const width = widths.reduce((a, b) => a + b, 0);
    const out = [`Model: "${this.name}"`, '_'.repeat(width), line(head), '='.repeat(width)];
    body.forEach((b, i) => {
      out.push(line(b));
      out.push(i === body.length - 1 ? '='.repeat(width) : '_'.repeat(width));
    });
    if (body.length === 0) out.push('='.repeat(width));
    if (rows.some((r) => r.shape === null)) out.push('(? = not built yet: give an inputShape, or run the model once)');
    out.push(`Total params: ${total.toLocaleString('en-US')}`, `Trainable params: ${trainable.toLocaleString('en-US')}`, `Non-trainable params: ${fixed.toLocaleString('en-US')}`);
    return out.join('\n');
  }

  override dispose(): void {
    super.dispose();
    this.optimizer?.dispose();
    this.optimizer = null;
  }
}

/**
 * @internal The last part of every loader: `m` (built from `json`, weights not loaded yet) must be
 * a {@link Model}; unless `compile` is false, it is compiled from `json.compile` when the file has
 * one. On failure `m` is freed and the error thrown.
 */
export function asLoadedModel(op: string, m: Module, json: unknown, source: string, compile: boolean): Model {
  try {
    if (!(m instanceof Model)) {
      throw new AxonError(op, `${source} holds a ${m.className} layer, not a model (Sequential or functional): rebuild a single layer with modelFromJson(json) and load its weights with loadWeights / decodeWeights`);
    }
    const c = json !== null && typeof json === 'object' ? (json as { compile?: unknown }).compile : undefined;
    if (compile && c !== undefined) {
      try {
        m.compileFromConfig(c as SavedCompileConfig);
      } catch (e) {
        throw new AxonError(op, `${source}: ${e instanceof Error ? e.message : String(e)} (load with { compile: false } to skip the compile settings)`);
      }
    }
    return m;
  } catch (e) {
    m.dispose();
    throw e;
  }
}
