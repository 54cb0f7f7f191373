/**
 * Training checkpoints on disk (Node): everything `fit` needs to continue exactly, written
 * atomically. A checkpoint folder holds `checkpoint.json` — the index, naming the last `keep`
 * checkpoints with their JSON state — and one content-addressed tensor file per checkpoint
 * (`ckpt-<sha256 prefix>.safetensors`: the model's state, the optimizer's state, the epoch's running
 * sums). The tensor file is written first (fsynced), the index last by rename, so at every instant
 * the index names complete files only.
 */
import { AxonError, readRegularFile, type RngState } from '@axon/core';
import type { OptimizerStateMeta, SchedulerState } from '@axon/optimizers';
import { contentHash, escapeRegExp, mkdirs, node, removeLeftoverFiles, step, syncDir, writeDurable } from './fsutil.js';
import type { JsonValue } from './module.js';
import { type HostTensorEntry, type SafetensorsContents, parseSafetensors, serializeSafetensors } from './safetensors.js';
import { MAX_MODEL_JSON_BYTES } from './limits.js';

/**
 * The index file of a checkpoint folder.
 * @example
 * import { join } from 'node:path';
 * join('ckpt', CHECKPOINT_INDEX) // 'ckpt/checkpoint.json'
 */
export const CHECKPOINT_INDEX = 'checkpoint.json';
const FORMAT = 'axon-checkpoint/1';

/**
 * Where `fit` wrote a checkpoint (in `History.checkpoints`, and given to `onCheckpoint`).
 * @example
 * const net = sequential([new Dense(1, { inputShape: [1] })]);
 * net.compile({ optimizer: 'sgd', loss: 'mse' });
 * const history = await net.fit(randn([8, 1]), randn([8, 1]), { epochs: 2, batchSize: 4, verbose: 0, checkpoint: { dir: 'ckpt-info' } });
 * const last: CheckpointInfo = history.checkpoints.at(-1)!;
 * last // { dir: 'ckpt-info', epoch: 2, step: 0, globalStep: 4, reason: 'epoch' }
 * last.file.startsWith('ckpt-info/ckpt-') // true
 */
export interface CheckpointInfo {
  /** The checkpoint folder. */
  readonly dir: string;
  /** Its tensor file. */
  readonly file: string;
  /** The epoch a resume continues (0-based). */
  readonly epoch: number;
  /** Batches of that epoch already done (0 at an epoch boundary). */
  readonly step: number;
  /** Training steps done in all. */
  readonly globalStep: number;
  /** Why it was written: at an epoch's end, every N steps, or when training was stopped. */
  readonly reason: 'epoch' | 'steps' | 'stop';
}

/** Where the data stood. @internal */
export type DataPosition =
  | { readonly kind: 'arrays'; readonly n: number; readonly batchSize: number; readonly shuffle: boolean }
  | { readonly kind: 'dataset'; readonly iteration: number | null; readonly valIteration: number | null };

/** One checkpoint's JSON state (the index holds a list of them). @internal */
export interface CheckpointEntry {
  readonly epoch: number;
  readonly step: number;
  readonly globalStep: number;
  readonly reason: CheckpointInfo['reason'];
  /** The tensor file's name in the folder. */
  readonly weights: string;
  readonly rng: RngState;
  readonly seed: number;
  readonly data: DataPosition;
  readonly optimizer: OptimizerStateMeta;
  readonly scheduler: SchedulerState | null;
  readonly extraState: Record<string, JsonValue>;
  /** The epoch's running sums (tensors `fit.sum.<i>`), for a checkpoint inside an epoch. */
  readonly sums: { readonly names: readonly string[]; readonly seen: number } | null;
  /** The completed epochs' logs; non-finite values as the strings 'NaN', 'Infinity', '-Infinity'. */
  readonly history: { readonly epoch: readonly number[]; readonly history: Readonly<Record<string, readonly (number | string)[]>> };
  readonly time: string;
}

interface CheckpointIndexJson {
  readonly format: typeof FORMAT;
  readonly checkpoints: readonly CheckpointEntry[];
}

/** A number for JSON (non-finite values as strings). @internal */
export function encodeNumber(v: number): number | string {
  return Number.isFinite(v) ? v : String(v);
}

/** The inverse of {@link encodeNumber}. @internal */
export function decodeNumber(v: number | string): number {
  return typeof v === 'number' ? v : Number(v);
}

async function readIndex(op: string, dir: string): Promise<CheckpointIndexJson | null> {
  const { fs, path } = await node(op);
  const file = path.join(dir, CHECKPOINT_INDEX);
  try {
    await fs.lstat(file);
  } catch {
    return null;
  }
  const raw = await readRegularFile(op, file, { maxBytes: MAX_MODEL_JSON_BYTES });
  let j: unknown;
  try {
    j = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch (e) {
    throw new AxonError(op, `'${file}' is not valid JSON (${e instanceof Error ? e.message : String(e)}); move it away to start over`);
  }
  const o = j as Partial<CheckpointIndexJson> | null;
  if (o === null || typeof o !== 'object' || o.format !== FORMAT || !Array.isArray(o.checkpoints)) {
    throw new AxonError(op, `'${file}' is not an Axon checkpoint index (expected { format: '${FORMAT}', checkpoints: [...] })`);
  }
  for (const c of o.checkpoints) {
    const w = (c as { weights?: unknown } | null)?.weights;
    if (typeof w !== 'string' || !/^ckpt-[0-9a-f]{16}\.safetensors$/.test(w)) throw new AxonError(op, `'${file}' names the tensor file ${JSON.stringify(w)}; expected ckpt-<hash>.safetensors`);
  }
  return o as CheckpointIndexJson;
}

/** Removes temporary files and tensor files the index does not name. */
async function removeLeftovers(dir: string, keep: ReadonlySet<string>): Promise<void> {
  const tmp = new RegExp(`^(?:${escapeRegExp(CHECKPOINT_INDEX)}|ckpt-[0-9a-f]{16}\\.safetensors)\\.tmp-[0-9]+-[0-9a-z]+-[0-9a-z]*$`);
  const tensors = /^ckpt-[0-9a-f]{16}\.safetensors$/;
  await removeLeftoverFiles(dir, (name) => !keep.has(name) && (tmp.test(name) || tensors.test(name)));
}

/**
 * Writes a checkpoint into `dir` atomically, keeping the last `keep` in the index. @internal
 */
export async function writeCheckpoint(dir: string, keep: number, entry: Omit<CheckpointEntry, 'weights'>, tensors: Readonly<Record<string, HostTensorEntry>>): Promise<CheckpointInfo> {
  const op = 'fit (checkpoint)';
  const { path } = await node(op);
  await step('mkdir');
  try {
    await mkdirs(dir);
  } catch (e) {
    throw new AxonError(op, `cannot create the checkpoint folder '${dir}': ${e instanceof Error ? e.message : String(e)}`);
  }
  const index = await readIndex(op, dir);
  const previous = index?.checkpoints ?? [];
  await removeLeftovers(dir, new Set(previous.map((c) => c.weights)));
  const bytes = serializeSafetensors(tensors, { format: 'axon-checkpoint' });
  const weights = `ckpt-${await contentHash(bytes)}.safetensors`;
  await writeDurable(op, path.join(dir, weights), bytes);
  const full: CheckpointEntry = { ...entry, weights };
  const next: CheckpointIndexJson = { format: FORMAT, checkpoints: [...previous, full].slice(-keep) };
  await writeDurable(op, path.join(dir, CHECKPOINT_INDEX), JSON.stringify(next));
  await removeLeftovers(dir, new Set(next.checkpoints.map((c) => c.weights)));
  return { dir, file: path.join(dir, weights), epoch: entry.epoch, step: entry.step, globalStep: entry.globalStep, reason: entry.reason };
}

/**
 * Reads the latest checkpoint of `dir` (state and tensors), or null when there is none, after
 * removing what an interrupted write left there (temporary files, unreferenced tensor files). @internal
 */
export async function readLatestCheckpoint(dir: string): Promise<{ entry: CheckpointEntry; contents: SafetensorsContents; info: CheckpointInfo } | null> {
  const op = 'fit (resume)';
  const { path } = await node(op);
  const index = await readIndex(op, dir);
  const entry = index?.checkpoints[index.checkpoints.length - 1];
  if (!entry) return null;
  await removeLeftovers(dir, new Set(index!.checkpoints.map((c) => c.weights)));
  const file = path.join(dir, entry.weights);
  const contents = parseSafetensors(await readRegularFile(op, file));
  return { entry, contents, info: { dir, file, epoch: entry.epoch, step: entry.step, globalStep: entry.globalStep, reason: entry.reason } };
}

/**
 * The latest checkpoint in `dir` (where `fit` with `checkpoint: { dir, resume: true }` would
 * continue), or null when the folder holds none.
 * @example
 * await latestCheckpoint('no-such-folder') // null
 * const net = sequential([new Dense(1, { inputShape: [1] })]);
 * net.compile({ optimizer: 'sgd', loss: 'mse' });
 * // 3 epochs of 4 batches, a checkpoint every 5 steps: after steps 5 and 10
 * await net.fit(randn([8, 1]), randn([8, 1]), { epochs: 3, batchSize: 2, verbose: 0, checkpoint: { dir: 'ckpt-latest', every: 5 } });
 * const at = await latestCheckpoint('ckpt-latest');
 * if (at) console.log(`resuming at epoch ${at.epoch + 1}, batch ${at.step}`);
 * at // { epoch: 2, step: 2, globalStep: 10, reason: 'steps' }
 */
export async function latestCheckpoint(dir: string): Promise<CheckpointInfo | null> {
  if (typeof dir !== 'string' || dir === '') throw new AxonError('latestCheckpoint', 'expects a folder path');
  const { path } = await node('latestCheckpoint');
  const index = await readIndex('latestCheckpoint', dir);
  const e = index?.checkpoints[index.checkpoints.length - 1];
  return e ? { dir, file: path.join(dir, e.weights), epoch: e.epoch, step: e.step, globalStep: e.globalStep, reason: e.reason } : null;
}

/**
 * Deletes the checkpoints of `dir`: the index first (so an interruption leaves no checkpoint
 * rather than a broken one), then the tensor files and temporary files, then the folder if it is
 * empty. Other files are left alone.
 * @example
 * const net = sequential([new Dense(1, { inputShape: [1] })]);
 * net.compile({ optimizer: 'sgd', loss: 'mse' });
 * await net.fit(randn([4, 1]), randn([4, 1]), { verbose: 0, checkpoint: { dir: 'ckpt-delete' } });
 * await deleteCheckpoints('ckpt-delete');
 * await latestCheckpoint('ckpt-delete') // null
 */
export async function deleteCheckpoints(dir: string): Promise<void> {
  if (typeof dir !== 'string' || dir === '') throw new AxonError('deleteCheckpoints', 'expects a folder path');
  const { fs, path } = await node('deleteCheckpoints');
  try {
    await fs.lstat(dir);
  } catch {
    return; // nothing to delete
  }
  await step(`rm ${CHECKPOINT_INDEX}`);
  await fs.rm(path.join(dir, CHECKPOINT_INDEX), { force: true });
  await syncDir(dir);
  await removeLeftovers(dir, new Set());
  try {
    await fs.rmdir(dir);
  } catch {
    // not empty (other files) or already gone
  }
}
