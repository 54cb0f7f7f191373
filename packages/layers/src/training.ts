/**
 * The training loop behind {@link Model.fit}, {@link Model.evaluate} and {@link Model.predict}:
 * batching, one `tidy` step per batch, running loss and metric sums read back once per epoch, the
 * callbacks, validation, stopping, and checkpoints written and resumed from.
 */
import { gradients } from '@axon/autograd';
import {
  AxonError, type Tensor, checkAnomalies, compile, concat, fmtShape, fmtValue, gather, getRngState, isAnomalyDetectionEnabled, isTensor, keep, noGrad, randint, tidy, tensor,
} from '@axon/core';
import { LRScheduler, type Optimizer } from '@axon/optimizers';
import { History, type Logs } from './callbacks.js';
import { type CheckpointInfo, type DataPosition, decodeNumber, deleteCheckpoints, encodeNumber, readLatestCheckpoint, writeCheckpoint } from './checkpoint.js';
import type { Compiled } from './compile.js';
import { type Batch, type BatchSource, type DataInput, type Owned, asIndexedSource, batchTensors, isBatchSource, matchRows, permutation, rows, toTensorData, validateData } from './data.js';
import { type EvaluateOptions, type FitOptions, batchSizeOf, checkpointConfig, fitOptions } from './fitoptions.js';
import { type LossFusion, lossFusion, metricValues } from './fusion.js';
import type { Model } from './model.js';
import { applyCheckpoint, checkResumable } from './resume.js';
import { type HostTensorEntry, toHostTensors } from './safetensors.js';

/** @internal A request to stop `fit` (see `Model.requestStop`): why, and whether to checkpoint the position. */
export interface StopState {
  readonly reason: string;
  readonly checkpoint: boolean;
}

/**
 * @internal The private parts of a {@link Model} the training loop uses: `Model` passes them to
 * {@link fitModel} and {@link evaluateModel}.
 */
export interface ModelInternals {
  /** The compile settings, or the error saying how to compile the model. */
  requireCompiled(op: string): Compiled;
  /** The note about metrics left out when compiled from a file, once. */
  takeCompileNote(): string | null;
  /** The optimizer, created over the model's parameters when it was compiled by name. */
  ensureOptimizer(): Optimizer;
  /** Set when `fit` is asked to stop. */
  readonly stopState: StopState | null;
  /** The compile settings (null when not compiled). */
  readonly compiled: Compiled | null;
}

/** An anomaly found during a step, with the epoch and batch added; other errors as they are. */
function stepError(e: unknown, epoch: number, batch: number): unknown {
  if (!(e instanceof AxonError) || e.op !== 'anomaly') return e;
  const err = new AxonError('fit', `epoch ${epoch + 1}, batch ${batch + 1}: ${e.message}`);
  Object.defineProperty(err, 'cause', { value: e, enumerable: false });
  return err;
}

/** Resolves once pending timers and I/O (e.g. a SIGINT handler) had a chance to run. */
function yieldToEventLoop(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((r) => setImmediate(r));
  if (typeof MessageChannel === 'function') {
    return new Promise((r) => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => {
        ch.port1.close();
        r();
      };
      ch.port2.postMessage(0);
    });
  }
  return new Promise((r) => setTimeout(r, 0));
}

function fmtNum(v: number): string {
  return Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(3);
}

/** Whether `x` is several inputs: a non-empty array of tensors (one per model input, in order). */
function isInputList(x: unknown): x is readonly Tensor[] {
  return Array.isArray(x) && x.length > 0 && x.every(isTensor);
}

/** The name of a model's input `i` (a functional model's symbolic input names it). */
function inputLabel(model: Model, i: number): string {
  const ins = (model as unknown as { inputs?: readonly { name?: string }[] }).inputs;
  const name = Array.isArray(ins) ? ins[i]?.name : undefined;
  return name ? `x[${i}] (input '${name}')` : `x[${i}]`;
}

/**
 * @internal `x` as one tensor per model input: a single input converted as before, or an array of
 * tensors checked against the model's inputs (count, shapes, one batch size) before anything is
 * allocated.
 */
export function inputData(model: Model, op: string, what: string, x: DataInput | readonly Tensor[]): Owned[] {
  const shapes = model.exampleShapes;
  if (!isInputList(x)) {
    if (shapes.length > 1) throw new AxonError(op, `the model has ${shapes.length} inputs: give ${what} as an array of ${shapes.length} tensors (${shapes.map((_, i) => inputLabel(model, i)).join(', ')}), got ${isTensor(x) ? `one tensor ${fmtShape(x.shape)}` : 'one array'}`);
    return [toTensorData(op, what, x, shapes[0] ?? null)];
  }
  if (x.length !== shapes.length) throw new AxonError(op, `${what} has ${x.length} tensors, but the model has ${shapes.length} input(s)`);
  x.forEach((t, i) => {
    t.assertLive(op);
    const label = `${what === 'x' ? '' : `${what} `}${inputLabel(model, i)}`;
    if (t.rank < 1) throw new AxonError(op, `${label} must have a batch axis, got ${fmtShape(t.shape)}`);
    const want = shapes[i];
    const got = t.shape.slice(1);
    if (want && (got.length !== want.length || got.some((d, k) => d !== want[k]))) throw new AxonError(op, `${label} has shape ${fmtShape(t.shape)}, but the model expects [N, ${want.join(', ')}]`);
    if (t.shape[0] !== x[0]!.shape[0]) throw new AxonError(op, `every input needs the same batch size: ${inputLabel(model, 0)} has ${x[0]!.shape[0]} examples ${fmtShape(x[0]!.shape)}, ${label} has ${t.shape[0]} ${fmtShape(t.shape)}`);
  });
  return x.map((t) => ({ t, owned: false }));
}

/** One training step (inside tidy): returns the batch loss and metric values, detached. */
type TrainStep = (xb: readonly Tensor[], yb: Tensor) => Tensor[];

/**
 * The training step. The forward pass, the loss, the gradients and the metric values run as one
 * compiled function (`compile`): traced on the first batch of each shape, then replayed without
 * their JavaScript; the optimizer then updates the parameters (one fused kernel each). A model
 * that cannot be compiled (e.g. BatchNorm updating its running statistics, a layer reading values
 * on the host) runs uncompiled, with the same results.
 */
function makeTrainStep(model: Model, opt: Optimizer, c: Compiled, fus: LossFusion, compiled = true): TrainStep {
  const params = model.parameters().filter((p) => p.requiresGrad);
  let reached: boolean[] = [];
  const nIn = model.exampleShapes.length;
  // every input is an argument of the compiled step: (x0, …, xk, y, ...params)
  const body = (...args: Tensor[]): Tensor[] => {
    const xb = args.slice(0, nIn);
    const yb = args[nIn]!;
    const ps = args.slice(nIn + 1);
    const out = model.forwardInputs(xb, fus.strip);
    const loss = fus.fn(out, yb);
    if (loss.size !== 1) throw new AxonError('fit', `the loss must be a scalar, got ${fmtShape(loss.shape)}`);
    const gs = gradients(loss, ps);
    reached = gs.map((g) => g !== null);
    const l = noGrad(() => loss.detach().reshape([]));
    return [l, ...metricValues(model, c, noGrad(() => out.detach()), yb, fus.metricsFromLogits, fus.strip), ...gs.filter((g): g is Tensor => g !== null)];
  };
  const run = compiled ? compile(body, { name: 'trainStep', fallback: true }) : body;
  return (xb, yb) => {
    if (xb.length !== nIn) throw new AxonError('fit', `expects ${nIn} input(s), got ${xb.length}`);
    const r = run(...xb, yb, ...params);
    const k = reached.filter(Boolean).length;
    const grads = r.slice(r.length - k);
    let j = 0;
    params.forEach((p, i) => {
      if (!reached[i]) return;
      const g = grads[j++]!;
      // as backward() would: accumulate into .grad
      const next = p.grad ? noGrad(() => p.grad!.add(g)) : g;
      keep(next);
      if (p.grad) p.grad.dispose();
      p.grad = next;
    });
    opt.step();
    opt.zeroGrad();
    return r.slice(0, r.length - k);
  };
}

/** @internal `Model.fit`. */
export async function fitModel(model: Model, internals: ModelInternals, x: DataInput | readonly Tensor[] | BatchSource, y?: DataInput | FitOptions, options?: FitOptions): Promise<History> {
  const op = 'fit';
  const c = internals.requireCompiled(op);
  const dataset = isBatchSource(x) ? x : null;
  if (!dataset && (y === undefined || (y !== null && typeof y === 'object' && !isTensor(y) && !ArrayBuffer.isView(y) && !Array.isArray(y) && !('data' in y)))) {
    throw new AxonError(op, 'expects fit(x, y, options) or fit(dataset, options)');
  }
  const opts: FitOptions = fitOptions(op, dataset ? y : options);
  const epochs = opts.epochs ?? 1;
  const batchSize = opts.batchSize ?? 32;
  const split = opts.validationSplit ?? 0;
  if (dataset && split > 0) throw new AxonError(op, 'validationSplit needs tensor/array data; give a dataset validationData instead');
  const schedulerStep = opts.schedulerStep ?? 'epoch';
  if (schedulerStep !== 'epoch' && schedulerStep !== 'batch') throw new AxonError(op, `schedulerStep must be 'epoch' or 'batch', got ${fmtValue(schedulerStep)}`);
  if (opts.scheduler !== undefined && !(opts.scheduler instanceof LRScheduler) && typeof opts.scheduler !== 'function') {
    throw new AxonError(op, 'scheduler must be an LRScheduler or a function (optimizer) => LRScheduler');
  }
  const verbose = opts.verbose ?? 1;
  const log = opts.log ?? ((s: string) => console.log(s));
  const report = opts.log ?? ((s: string) => console.warn(s));
  const callbacks = [...(opts.callbacks ?? [])];
  const ckpt = checkpointConfig(op, opts, callbacks);
  const history = new History();
  const indexed = dataset ? asIndexedSource(dataset) : null;
  const note = internals.takeCompileNote();
  if (note !== null) {
    history.warnings.push(note);
    report(note);
  }

  const owned: Tensor[] = [];
  const live = new Set<Tensor>(); // running sums, freed even when a step or callback throws
  const own = (o: Owned): Tensor => {
    if (o.owned) owned.push(o.t);
    return o.t;
  };
  const track = (ts: Tensor[] | null): Tensor[] | null => {
    if (ts) for (const t of ts) live.add(t);
    return ts;
  };
  const release = (ts: Tensor[] | null): void => {
    if (ts) for (const t of ts) {
      t.dispose();
      live.delete(t);
    }
  };
  try {
    // ---------------------------------------------------------------- data
    let xAll: Tensor[] | null = null;
    let yAll: Tensor | null = null;
    let xTrain: Tensor[] | null = null;
    let yTrain: Tensor | null = null;
    let val: { x: Tensor[]; y: Tensor } | BatchSource | null = null;
    if (!dataset) {
      xAll = inputData(model, op, 'x', x as DataInput | readonly Tensor[]).map(own);
      yAll = own(toTensorData(op, 'y', y as DataInput, null));
      yAll = own({ t: matchRows(xAll[0]!, yAll, y as DataInput), owned: true });
      const yHost = c.loss.kind === 'sparseCategorical' || c.loss.kind === 'binary' ? await yAll.data() : null;
      validateData(model, op, c, xAll, yAll, yHost);
      if (c.loss.kind === 'sparseCategorical' && yAll.dtype !== 'int32') yAll = own({ t: noGrad(() => yAll!.astype('int32')), owned: true });
      const n = xAll[0]!.shape[0]!;
      const nVal = Math.floor(n * split);
      if (split > 0 && (nVal === 0 || nVal === n)) throw new AxonError(op, `validationSplit ${split} of ${n} examples leaves ${nVal === 0 ? 'no validation' : 'no training'} examples`);
      xTrain = nVal > 0 ? xAll.map((t) => own({ t: rows(t, 0, n - nVal), owned: true })) : xAll;
      yTrain = nVal > 0 ? own({ t: rows(yAll, 0, n - nVal), owned: true }) : yAll;
      if (nVal > 0) val = { x: xAll.map((t) => own({ t: rows(t, n - nVal, nVal), owned: true })), y: own({ t: rows(yAll, n - nVal, nVal), owned: true }) };
    }
    if (opts.validationData !== undefined) {
      if (val) throw new AxonError(op, 'give validationSplit or validationData, not both');
      const vd = opts.validationData;
      if (isBatchSource(vd)) val = vd;
      else if (Array.isArray(vd) && vd.length === 2) {
        const vx = inputData(model, op, 'validationData x', vd[0] as DataInput | readonly Tensor[]).map(own);
        const vy0 = own(toTensorData(op, 'validationData y', vd[1] as DataInput, null));
        const vy = own({ t: matchRows(vx[0]!, vy0, vd[1] as DataInput), owned: true });
        validateData(model, op, c, vx, vy, c.loss.kind === 'sparseCategorical' || c.loss.kind === 'binary' ? await vy.data() : null);
        val = { x: vx, y: c.loss.kind === 'sparseCategorical' && vy.dtype !== 'int32' ? own({ t: noGrad(() => vy.astype('int32')), owned: true }) : vy };
      } else throw new AxonError(op, 'validationData must be [x, y] or a dataset of { x, y } batches');
    }
    const valIndexed = val && isBatchSource(val) ? asIndexedSource(val) : null;
    const shuffle = opts.shuffle ?? true;
    const position: DataPosition = dataset
      ? { kind: 'dataset', iteration: indexed ? indexed.iteration : null, valIteration: valIndexed ? valIndexed.iteration : null }
      : { kind: 'arrays', n: xTrain![0]!.shape[0]!, batchSize, shuffle };

    // ---------------------------------------------------------------- resume (read and checked before anything changes)
    const resume = ckpt?.resume ? await readLatestCheckpoint(ckpt.dir) : null;
    if (resume) checkResumable(op, resume.entry, position, ckpt!.dir);

    // ---------------------------------------------------------------- setup
    // with a dataset, lazily-built layers are built on the first batch, before the optimizer is created
    let firstBatchChecked = !dataset;
    const fus = lossFusion(model, c);
    const names = ['loss', ...c.metrics.map((m) => m.name)];
    model.stopTraining = false;
    for (const cb of callbacks) cb.setModel?.(model);
    for (const cb of callbacks) await cb.onTrainBegin?.({});
    const wantBatchLogs = callbacks.some((cb) => cb.onBatchEnd);
    let seed = opts.seed;
    if (seed === undefined) {
      const r = noGrad(() => randint(0, 2 ** 24, [1]));
      seed = (await r.data())[0]!;
      r.dispose();
    }
    const shuffleSeed = resume ? resume.entry.seed : seed;
    let opt: Optimizer | null = null;
    let trainStep: TrainStep | null = null;
    let scheduler: LRScheduler | null = null;
    let globalStep = 0;
    let startEpoch = opts.initialEpoch ?? 0;
    let resumeStep = 0;
    let resumeSums: { sums: Tensor[]; seen: number } | null = null;
    /** Creates the optimizer (and scheduler) once the layers are built, then restores a checkpoint. */
    const ready = (): void => {
      if (opt) return;
      opt = internals.ensureOptimizer();
      trainStep = makeTrainStep(model, opt, c, fus, opts.compile ?? true);
      if (opts.scheduler !== undefined) {
        scheduler = opts.scheduler instanceof LRScheduler ? opts.scheduler : opts.scheduler(opt);
        if (!(scheduler instanceof LRScheduler)) throw new AxonError(op, 'the scheduler function must return an LRScheduler');
        if (scheduler.optimizer !== opt) throw new AxonError(op, "the scheduler drives another optimizer than the model's (give a function (optimizer) => scheduler)");
      }
      if (resume) {
        const restored = applyCheckpoint(model, internals, op, opt, scheduler, resume.entry, resume.contents);
        resumeSums = restored ? { sums: track(restored.sums)!, seen: restored.seen } : null;
        const h = resume.entry.history;
        for (let i = 0; i < h.epoch.length; i++) {
          const logs: Logs = {};
          for (const [k, v] of Object.entries(h.history)) if (v[i] !== undefined) logs[k] = decodeNumber(v[i]!);
          history.record(h.epoch[i]!, logs);
        }
        history.resumedFrom = resume.info;
      }
    };
    if (resume) {
      startEpoch = resume.entry.epoch;
      resumeStep = resume.entry.step;
      globalStep = resume.entry.globalStep;
      if (resume.entry.data.kind === 'dataset') {
        if (indexed && resume.entry.data.iteration !== null) indexed.iteration = resume.entry.data.iteration;
        if (valIndexed && resume.entry.data.valIteration !== null) valIndexed.iteration = resume.entry.data.valIteration;
      }
      if (verbose > 0) log(`Resuming from ${resume.info.file}: epoch ${startEpoch + 1}, after batch ${resumeStep} (step ${globalStep})`);
    } else if (ckpt?.resume && verbose > 0) log(`No checkpoint in '${ckpt.dir}': starting from the beginning`);
    if (firstBatchChecked) ready();

    // ---------------------------------------------------------------- checkpoints
    let lastCheckpoint = '';
    const writeCkpt = async (reason: CheckpointInfo['reason'], epochPos: number, stepPos: number, sums: Tensor[] | null, seen: number, iteration: number | null): Promise<CheckpointInfo> => {
      const rng = getRngState();
      const o = opt!;
      const optSd = o.stateDict();
      let info: CheckpointInfo;
      try {
        const tensors: Record<string, HostTensorEntry> = {};
        for (const [k, v] of Object.entries(await toHostTensors(model.stateDict()))) tensors[`model.${k}`] = v;
        for (const [k, v] of Object.entries(await toHostTensors(optSd.tensors))) tensors[`optimizer.${k}`] = v;
        if (sums) for (const [i, t] of sums.entries()) tensors[`fit.sum.${i}`] = (await toHostTensors({ t }))['t']!;
        const hist: Record<string, (number | string)[]> = {};
        for (const [k, v] of Object.entries(history.history)) hist[k] = v.map(encodeNumber);
        info = await writeCheckpoint(ckpt!.dir, ckpt!.keep, {
          epoch: epochPos,
          step: stepPos,
          globalStep,
          reason,
          rng,
          seed: shuffleSeed,
          data: position.kind === 'dataset' ? { kind: 'dataset', iteration, valIteration: valIndexed ? valIndexed.iteration : null } : position,
          optimizer: optSd.meta,
          scheduler: scheduler ? (scheduler as LRScheduler).stateDict() : null,
          extraState: model.extraStateDict(),
          sums: sums ? { names, seen } : null,
          history: { epoch: [...history.epoch], history: hist },
          time: new Date().toISOString(),
        }, tensors);
      } finally {
        for (const t of Object.values(optSd.tensors)) t.dispose();
      }
      lastCheckpoint = `${epochPos}:${stepPos}`;
      history.checkpoints.push(info);
      for (const cb of callbacks) await cb.onCheckpoint?.(info);
      return info;
    };
    const readLogs = async (sums: Tensor[] | null, seen: number): Promise<Logs> => {
      const logs: Logs = {};
      if (sums) {
        const values = await Promise.all(sums.map((t) => t.data()));
        names.forEach((nm, i) => (logs[nm] = values[i]![0]! / seen));
      }
      return logs;
    };
    let lastYield = Date.now();
    let warnedNonFinite = false;

    // ---------------------------------------------------------------- epochs
    epochs: for (let epoch = startEpoch; epoch < epochs; epoch++) {
      const t0 = Date.now();
      for (const cb of callbacks) await cb.onEpochBegin?.(epoch, {});
      model.train();
      let sums: Tensor[] | null = null;
      let seen = 0;
      let batchIndex = 0;
      /** Takes over the running sums of a checkpoint inside this (the first resumed) epoch, once restored. */
      const adoptResumedSums = (): void => {
        const rs = resumeSums as { sums: Tensor[]; seen: number } | null;
        if (!rs || epoch !== startEpoch) return;
        sums = rs.sums;
        seen = rs.seen;
        resumeSums = null;
      };
      if (epoch === startEpoch && resume) batchIndex = resumeStep;
      adoptResumedSums();
      const passIteration = indexed ? indexed.iteration : null;
      /** Ends the epoch early: checkpoint of this exact position (unless asked not to), report. */
      const interrupt = async (lastBatch: number | null): Promise<void> => {
        const st = internals.stopState!;
        let info: CheckpointInfo | null = null;
        if (st.checkpoint && ckpt && opt && lastCheckpoint !== `${epoch}:${batchIndex}`) info = await writeCkpt('stop', epoch, batchIndex, sums, seen, passIteration);
        const logs = await readLogs(sums, seen);
        history.stopped = { epoch, batch: lastBatch, reason: st.reason, interrupted: true, logs };
        const parts = Object.entries(logs).map(([k, v]) => `${k}: ${fmtNum(v)}`);
        const where = lastBatch === null ? 'before its end' : `after batch ${lastBatch + 1}`;
        const saved = info ? `; checkpoint written to ${info.file} (continue with fit(..., { checkpoint: { dir: ${JSON.stringify(ckpt!.dir)}, resume: true } }))` : ckpt && lastCheckpoint ? `; the last checkpoint in '${ckpt.dir}' stays the latest` : '';
        report(`Epoch ${epoch + 1}/${epochs} stopped ${where}: ${st.reason}${parts.length ? ` - ${parts.join(' - ')}` : ''}${saved}`);
      };
      const runBatch = async (xb: readonly Tensor[], yb: Tensor): Promise<boolean> => {
        const bs = xb[0]!.shape[0]!;
        for (const cb of callbacks) await cb.onBatchBegin?.(batchIndex, { batch: batchIndex, size: bs });
        const prev: Tensor[] | null = sums;
        let res: { next: Tensor[]; batchLoss: Tensor | null };
        try {
          res = tidy(() => {
            const vals = trainStep!(xb, yb);
            const next = noGrad(() => vals.map((v, i) => (prev ? prev[i]!.add(v.mul(bs)) : v.mul(bs))));
            return { next, batchLoss: wantBatchLogs ? vals[0]! : null };
          });
        } catch (e) {
          throw stepError(e, epoch, batchIndex);
        }
        release(prev);
        sums = track(res.next.map((t) => keep(t)));
        seen += bs;
        globalStep++;
        if (isAnomalyDetectionEnabled()) {
          try {
            await checkAnomalies();
          } catch (e) {
            res.batchLoss?.dispose();
            throw stepError(e, epoch, batchIndex);
          }
        }
        if (scheduler && schedulerStep === 'batch') (scheduler as LRScheduler).step();
        if (wantBatchLogs) {
          const bl = res.batchLoss!;
          const logs: Logs = { batch: batchIndex, size: bs };
          if (bl.backend.supportsSyncRead) {
            // Read lazily: only a callback that looks at logs.loss pays for the read-back.
            let cached: number | null = null;
            Object.defineProperty(logs, 'loss', {
              enumerable: true,
              get: () => (cached ??= bl.isDisposed ? NaN : bl.dataSync()[0]!),
            });
          } else {
            // Backends without synchronous reads (WebGPU): read it before the callbacks run.
            logs.loss = (await bl.data())[0]!;
          }
          try {
            for (const cb of callbacks) await cb.onBatchEnd?.(batchIndex, logs);
          } finally {
            bl.dispose();
          }
        }
        batchIndex++;
        if (ckpt && typeof ckpt.every === 'number' && globalStep % ckpt.every === 0 && !model.stopTraining) await writeCkpt('steps', epoch, batchIndex, sums, seen, passIteration);
        if (Date.now() - lastYield >= 50) {
          // let timers and signal handlers (e.g. a SIGINT handler setting stopTraining) run
          await yieldToEventLoop();
          lastYield = Date.now();
        }
        if (!model.stopTraining) return false;
        await interrupt(batchIndex - 1);
        return true;
      };

      let stopped = false;
      if (dataset) {
        if (indexed) indexed.iteration = passIteration! + 1;
        const pass: BatchSource = indexed ? indexed.iterate(passIteration!) : dataset;
        let skip = batchIndex;
        for await (const batch of pass as AsyncIterable<Batch>) {
          const { xb, yb, toFree } = batchTensors(model, op, c, batch, !firstBatchChecked);
          try {
            if (!firstBatchChecked) {
              firstBatchChecked = true;
              ready();
              adoptResumedSums();
            }
            if (skip > 0) {
              skip--; // consumed before the checkpoint this run resumed from
              continue;
            }
            stopped = await runBatch([xb], yb);
          } finally {
            for (const t of toFree) t.dispose();
          }
          if (stopped) break;
        }
        if (skip > 0) throw new AxonError(op, `the dataset yielded ${batchIndex - skip} batches in epoch ${epoch + 1}, fewer than the ${batchIndex} the checkpoint had consumed: it is not the data the checkpoint was written with`);
      } else {
        const n = xTrain![0]!.shape[0]!;
        // the epoch's order stays on the host: each batch uploads its own indices (a slice of a
        // device tensor would make gather's range check read the whole permutation every step)
        const perm = shuffle ? permutation(n, shuffleSeed + epoch) : null;
        for (let start = batchIndex * batchSize; start < n; start += batchSize) {
          const size = Math.min(batchSize, n - start);
          // every input is cut (and shuffled) with the same rows as y
          const [xb, yb] = noGrad((): [Tensor[], Tensor] => {
            if (!perm) return [xTrain!.map((t) => rows(t, start, size)), rows(yTrain!, start, size)];
            const idx = tensor(perm.subarray(start, start + size), [size], 'int32');
            try {
              return [xTrain!.map((t) => gather(t, idx, 0)), gather(yTrain!, idx, 0)];
            } finally {
              idx.dispose();
            }
          });
          try {
            stopped = await runBatch(xb, yb);
          } finally {
            for (const t of xb) t.dispose();
            yb.dispose();
          }
          if (stopped) break;
        }
      }
      if (stopped) break epochs;
      const finalSums = sums as Tensor[] | null;
      const logs = await readLogs(finalSums, seen);
      if (val) {
        const v = await evaluateImpl(model, 'fit', val, batchSize, c);
        for (const [k, value] of Object.entries(v)) logs[`val_${k}`] = value;
      }
      if (model.stopTraining) {
        // asked during the epoch's last batch or its validation: resume redoes the epoch's end
        await interrupt(null);
        break epochs;
      }
      release(finalSums);
      sums = null;
      if (verbose > 0) {
        const parts = Object.entries(logs).map(([k, v]) => `${k}: ${fmtNum(v)}`);
        log(`Epoch ${epoch + 1}/${epochs} - ${((Date.now() - t0) / 1000).toFixed(1)}s - ${parts.join(' - ')}`);
      }
      const bad = Object.entries(logs).filter(([, v]) => !Number.isFinite(v));
      if (bad.length && !warnedNonFinite) {
        warnedNonFinite = true;
        const line = `Epoch ${epoch + 1}/${epochs}: ${bad.map(([k, v]) => `${k} is ${v}`).join(', ')} — training diverged (try a lower learning rate; TerminateOnNaN stops at the first such batch, setAnomalyDetection(true) names the op that produced it)`;
        history.warnings.push(line);
        report(line);
      }
      if (scheduler && schedulerStep === 'epoch') (scheduler as LRScheduler).step();
      for (const cb of callbacks) await cb.onEpochEnd?.(epoch, logs);
      // after the callbacks, as Keras' History: what they log (ReduceLROnPlateauCallback's lr) is kept
      history.record(epoch, logs);
      const stoppedByCallback = model.stopTraining; // e.g. EarlyStopping: training is finished
      if (ckpt && ckpt.every === 'epoch') await writeCkpt('epoch', epoch + 1, 0, null, 0, indexed ? indexed.iteration : null);
      if (model.stopTraining) {
        const interrupted = !stoppedByCallback; // asked while the checkpoint was written (a signal handler)
        history.stopped = { epoch, batch: null, reason: internals.stopState!.reason, interrupted, logs };
        if (interrupted) report(`Stopped after epoch ${epoch + 1}/${epochs}: ${internals.stopState!.reason}${ckpt ? `; the checkpoint in '${ckpt.dir}' continues from epoch ${epoch + 2}` : ''}`);
        break;
      }
    }
    if (resume && !opt) {
      // Nothing was left to train, but the checkpoint's state is still restored: a dataset's first
      // batch builds lazily-sized layers first (a pass read by index does not move `iteration`).
      if (dataset && !firstBatchChecked) {
        for await (const batch of (indexed ? indexed.iterate(indexed.iteration) : dataset) as AsyncIterable<Batch>) {
          const { toFree } = batchTensors(model, op, c, batch, true);
          for (const t of toFree) t.dispose();
          break;
        }
      }
      ready();
    }
    const lastLogs: Logs = {};
    for (const [k, v] of Object.entries(history.history)) lastLogs[k] = v[v.length - 1]!;
    for (const cb of callbacks) await cb.onTrainEnd?.(lastLogs);
    if (ckpt?.deleteOnFinish && !history.stopped?.interrupted) await deleteCheckpoints(ckpt.dir);
    return history;
  } finally {
    for (const t of owned) t.dispose();
    for (const t of live) t.dispose();
    model.train();
  }
}

async function evaluateImpl(model: Model, op: string, data: { x: readonly Tensor[]; y: Tensor } | BatchSource, batchSize: number, c: Compiled): Promise<Logs> {
  const fus = lossFusion(model, c);
  const names = ['loss', ...c.metrics.map((m) => m.name)];
  const wasTraining = model.training;
  model.eval();
  let sums: Tensor[] | null = null;
  let seen = 0;
  const step = (xb: readonly Tensor[], yb: Tensor): void => {
    const bs = xb[0]!.shape[0]!;
    const prev: Tensor[] | null = sums;
    const next = tidy(() =>
      noGrad(() => {
        const out = model.forwardInputs(xb, fus.strip);
        const vals = [fus.fn(out, yb).reshape([]), ...metricValues(model, c, out, yb, fus.metricsFromLogits, fus.strip)];
        return vals.map((v, i) => (prev ? prev[i]!.add(v.mul(bs)) : v.mul(bs)));
      }),
    );
    if (prev) for (const t of prev) t.dispose();
    sums = next;
    seen += bs;
  };
  try {
    if (isBatchSource(data)) {
      let first = true;
      for await (const batch of data as AsyncIterable<Batch>) {
        const { xb, yb, toFree } = batchTensors(model, op, c, batch, first);
        first = false;
        try {
          step([xb], yb);
        } finally {
          for (const t of toFree) t.dispose();
        }
      }
    } else {
      const n = data.x[0]!.shape[0]!;
      for (let start = 0; start < n; start += batchSize) {
        const size = Math.min(batchSize, n - start);
        const xb = data.x.map((t) => rows(t, start, size));
        const yb = rows(data.y, start, size);
        try {
          step(xb, yb);
        } finally {
          for (const t of xb) t.dispose();
          yb.dispose();
        }
      }
    }
    const logs: Logs = {};
    const finalSums = sums as Tensor[] | null;
    if (finalSums) {
      const values = await Promise.all(finalSums.map((t) => t.data()));
      names.forEach((nm, i) => (logs[nm] = values[i]![0]! / seen));
      for (const t of finalSums) t.dispose();
    }
    return logs;
  } catch (e) {
    const leftover = sums as Tensor[] | null;
    if (leftover) for (const t of leftover) t.dispose();
    throw e;
  } finally {
    if (wasTraining) model.train();
  }
}

/** @internal `Model.evaluate`. */
export async function evaluateModel(model: Model, internals: ModelInternals, x: DataInput | readonly Tensor[] | BatchSource, y?: DataInput | EvaluateOptions, options?: EvaluateOptions): Promise<Logs> {
  const op = 'evaluate';
  const c = internals.requireCompiled(op);
  const note = internals.takeCompileNote();
  if (note !== null) console.warn(note);
  if (isBatchSource(x)) {
    batchSizeOf(op, y);
    return evaluateImpl(model, op, x, 32, c);
  }
  const batchSize = batchSizeOf(op, options);
  const xos = inputData(model, op, 'x', x);
  const xs = xos.map((o) => o.t);
  const freeX = (): void => {
    for (const o of xos) if (o.owned) o.t.dispose();
  };
  let yo0: ReturnType<typeof toTensorData>;
  try {
    yo0 = toTensorData(op, 'y', y as DataInput, null);
  } catch (e) {
    freeX();
    throw e;
  }
  const yo = { t: matchRows(xs[0]!, yo0.t, y as DataInput), owned: true };
  if (yo0.owned && yo.t !== yo0.t) yo0.t.dispose();
  let yt = yo.t;
  try {
    validateData(model, op, c, xs, yt, c.loss.kind === 'sparseCategorical' || c.loss.kind === 'binary' ? await yt.data() : null);
    if (c.loss.kind === 'sparseCategorical' && yt.dtype !== 'int32') yt = noGrad(() => yo.t.astype('int32'));
    return await evaluateImpl(model, op, { x: xs, y: yt }, batchSize, c);
  } finally {
    freeX();
    if (yo.owned) yo.t.dispose();
    if (yt !== yo.t) yt.dispose();
  }
}

/** @internal `Model.predict`. */
export function predictModel(model: Model, x: DataInput | readonly Tensor[], opts: EvaluateOptions): Tensor {
  const op = 'predict';
  const batchSize = batchSizeOf(op, opts);
  const xos = inputData(model, op, 'x', x);
  if (xos.length > 1) {
    // several inputs: shapes and batch sizes were checked by inputData; each batch cuts every input alike
    const xs = xos.map((o) => o.t);
    const wasTraining = model.training;
    try {
      model.eval();
      const n = xs[0]!.shape[0]!;
      return tidy(() =>
        noGrad(() => {
          if (n <= batchSize) {
            const y = model.call(...xs);
            return xs.includes(y) ? y.clone() : y;
          }
          const parts: Tensor[] = [];
          for (let start = 0; start < n; start += batchSize) {
            const size = Math.min(batchSize, n - start);
            parts.push(model.call(...xs.map((t) => rows(t, start, size))));
          }
          return concat(parts, 0);
        }),
      );
    } finally {
      if (wasTraining) model.train();
    }
  }
  const xo = xos[0]!;
  const inShape = model.inputShape;
  const wasTraining = model.training;
  try {
    const xt = xo.t;
    if (xt.rank < 1) throw new AxonError(op, `x must have a batch axis, got ${fmtShape(xt.shape)}`);
    if (inShape) {
      const got = xt.shape.slice(1);
      if (got.length !== inShape.length || got.some((d, i) => d !== inShape[i])) throw new AxonError(op, `x has shape ${fmtShape(xt.shape)}, but the model expects [N, ${inShape.join(', ')}]`);
    }
    model.eval();
    const n = xt.shape[0]!;
    return tidy(() =>
      noGrad(() => {
        if (n <= batchSize) {
          const y = model.call(xt);
          return y === xt ? xt.clone() : y;
        }
        const parts: Tensor[] = [];
        for (let start = 0; start < n; start += batchSize) {
          const size = Math.min(batchSize, n - start);
          parts.push(model.call(rows(xt, start, size)));
        }
        return concat(parts, 0);
      }),
    );
  } finally {
    if (wasTraining) model.train();
    if (xo.owned) xo.t.dispose();
  }
}
