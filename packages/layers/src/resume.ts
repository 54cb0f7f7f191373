/**
 * Resuming `fit` from a checkpoint: checking that it was written by a run over the same data, and
 * restoring the model's, the optimizer's and the scheduler's state from it, all or nothing.
 */
import { AxonError, type Tensor, keep, setRngState } from '@axon/core';
import type { LRScheduler, Optimizer } from '@axon/optimizers';
import type { CheckpointEntry, DataPosition } from './checkpoint.js';
import type { Model } from './model.js';
import { type HostTensorEntry, type SafetensorsContents, fromHostTensors } from './safetensors.js';
import type { ModelInternals } from './training.js';

/** @internal Checks that a checkpoint was written by a run over the same data, before anything is restored. */
export function checkResumable(op: string, e: CheckpointEntry, pos: DataPosition, dir: string): void {
  const nat = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (!nat(e.epoch) || !nat(e.step) || !nat(e.globalStep) || !nat(e.seed) || e.data === null || typeof e.data !== 'object') {
    throw new AxonError(op, `the latest checkpoint in '${dir}' is malformed (epoch ${String(e.epoch)}, step ${String(e.step)})`);
  }
  const d = e.data;
  if (d.kind !== pos.kind) throw new AxonError(op, `the checkpoint in '${dir}' was written while training on ${d.kind === 'arrays' ? 'tensor/array data' : 'a dataset'}, not ${pos.kind === 'arrays' ? 'tensor/array data' : 'a dataset'}`);
  if (d.kind === 'arrays' && pos.kind === 'arrays' && (d.n !== pos.n || d.batchSize !== pos.batchSize || d.shuffle !== pos.shuffle)) {
    throw new AxonError(op, `the checkpoint in '${dir}' was written for ${d.n} training examples in batches of ${d.batchSize}${d.shuffle ? ', shuffled' : ''}; this fit has ${pos.n} in batches of ${pos.batchSize}${pos.shuffle ? ', shuffled' : ''} — resume with the same data and options`);
  }
}

/**
 * Restores a checkpoint's state into `model`, `opt` and `scheduler`: all or nothing (the
 * optimizer and extra state are put back if a later part fails; the scheduler and random state
 * are checked first). Returns the epoch's running sums for a checkpoint inside an epoch.
 * @internal
 */
export function applyCheckpoint(model: Model, internals: ModelInternals, op: string, opt: Optimizer, scheduler: LRScheduler | null, entry: CheckpointEntry, contents: SafetensorsContents): { sums: Tensor[]; seen: number } | null {
  if ((entry.scheduler === null) !== (scheduler === null)) {
    throw new AxonError(op, entry.scheduler ? `the checkpoint holds the state of a ${entry.scheduler.scheduler} scheduler, but this fit has no scheduler` : 'this fit has a scheduler, but the checkpoint was written without one');
  }
  if (scheduler && entry.scheduler) {
    const s = entry.scheduler;
    if (s.scheduler !== scheduler.name || !Number.isInteger(s.lastEpoch) || s.lastEpoch < 0 || !Array.isArray(s.baseLrs) || s.baseLrs.length !== scheduler.baseLrs.length) {
      throw new AxonError(op, `the checkpoint's scheduler state ${JSON.stringify(s)} does not fit this fit's ${scheduler.name} (${scheduler.baseLrs.length} param groups)`);
    }
  }
  const rng = entry.rng;
  const u32 = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 32;
  if (rng === null || typeof rng !== 'object' || !u32(rng.key) || !u32(rng.counter)) throw new AxonError(op, `the checkpoint's random state ${JSON.stringify(rng)} is not { key, counter }`);
  const part = (prefix: string): Record<string, HostTensorEntry> => {
    const out: Record<string, HostTensorEntry> = {};
    for (const [k, v] of Object.entries(contents.tensors)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
    return out;
  };
  const sumNames = entry.sums ? entry.sums.names.map((_, i) => `${i}`) : [];
  const sumHost = part('fit.sum.');
  if (entry.sums && (sumNames.some((k) => !sumHost[k]) || entry.sums.names.length !== 1 + (internals.compiled?.metrics.length ?? 0))) {
    throw new AxonError(op, `the checkpoint's running sums (${entry.sums.names.join(', ')}) do not match this model's loss and metrics`);
  }
  const modelSd = fromHostTensors(part('model.'));
  let optTensors: Record<string, Tensor> = {};
  const prevExtra = model.extraStateDict();
  const prevOpt = opt.stateDict();
  try {
    optTensors = fromHostTensors(part('optimizer.'));
    model.loadExtraStateDict(entry.extraState ?? {});
    try {
      opt.loadStateDict({ meta: entry.optimizer, tensors: optTensors });
      try {
        model.loadStateDict(modelSd);
      } catch (e) {
        opt.loadStateDict(prevOpt);
        throw e;
      }
    } catch (e) {
      model.loadExtraStateDict(prevExtra, { strict: false });
      throw e;
    }
    if (scheduler && entry.scheduler) scheduler.loadStateDict(entry.scheduler);
    setRngState(rng);
  } catch (e) {
    throw new AxonError(op, `cannot resume from the checkpoint: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    for (const t of Object.values(prevOpt.tensors)) t.dispose();
    for (const t of Object.values(modelSd)) t.dispose();
    for (const t of Object.values(optTensors)) t.dispose();
  }
  if (!entry.sums) return null;
  const sums = sumNames.map((k) => keep(fromHostTensors({ t: sumHost[k]! })['t']!));
  return { sums, seen: entry.sums.seen };
}
