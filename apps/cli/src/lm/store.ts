import { createHash } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AxonError, readRegularFile, type Tensor } from '@axon/core';
import { decodeWeights, fromHostTensors, MAX_MODEL_JSON_BYTES, modelFromJson, parseSafetensors, serializeModel, serializeSafetensors, toHostTensors, writeFileAtomic, type Module } from '@axon/layers';
import type { JsonValue } from '@axon/layers';
import { describeTokenizer, tokenizerFromJson, tokenizerKind, type LmTokenizer, type TokenizerKind } from './tokenizer.js';

/**
 * What `axon train` adds to a language model's `model.json` (under `languageModel`): which model
 * and tokenizer it is, and how it was trained. `axon generate` and `axon info` read it.
 */
export interface LmInfo {
  /** `--model`: `gpt` or `lstm`. */
  readonly model: string;
  /** The architecture's options (`vocabSize`, `contextLength`, `width`, …). */
  readonly config: Readonly<Record<string, number>>;
  /** `--tokenizer`. */
  readonly tokenizer: TokenizerKind;
  /** Training facts: data, steps, tokens, losses (free-form JSON, printed by `axon info`). */
  readonly training?: Readonly<Record<string, JsonValue>>;
}

/** What a checkpoint adds: the optimizer's state file and where training stood. */
export interface LmCheckpointState {
  /** Steps taken. */
  readonly step: number;
  /** Training time so far, ms (for `--time`). */
  readonly elapsedMs: number;
  /** The schedule's horizon in steps (fixed once, so a resumed run continues the same schedule). */
  readonly horizon: number;
  /** The learning-rate schedule's `stateDict()`. */
  readonly scheduler?: JsonValue;
  /** The global random stream (`getRngState()`), for dropout. */
  readonly rng?: JsonValue;
  /** The optimizer's `stateDict().meta`. */
  readonly optimizerMeta: JsonValue;
}

/** A language model as `axon train` saves it: the module, its tokenizer and what model.json says. */
export interface LoadedLm<M extends Module = Module> {
  readonly model: M;
  readonly tokenizer: LmTokenizer;
  readonly info: LmInfo;
  /** Set for a checkpoint: where training stood, and the optimizer's tensors (the caller disposes them). */
  readonly checkpoint?: LmCheckpointState & { readonly optimizerTensors: Record<string, Tensor> };
  /** The manifest's path. */
  readonly manifest: string;
  /** The weights' size in bytes. */
  readonly weightsBytes: number;
}

const hash16 = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex').slice(0, 16);
const OWN_FILE = /^(model-[0-9a-f]{16}\.safetensors|tokenizer-[0-9a-f]{16}\.json|optimizer-[0-9a-f]{16}\.safetensors)$/;
const OWN_TMP = /^(model\.json|model-[0-9a-f]{16}\.safetensors|tokenizer-[0-9a-f]{16}\.json|optimizer-[0-9a-f]{16}\.safetensors)\.tmp-/;

/**
 * Saves a language model and its tokenizer into the folder `dir`, atomically as a whole: the
 * weights (`model-<hash>.safetensors`, standard safetensors), the tokenizer
 * (`tokenizer-<hash>.json`) and, for a checkpoint, the optimizer's state
 * (`optimizer-<hash>.safetensors`) are each written to a temporary file, fsynced and renamed
 * (content-addressed, so they never overwrite a file the current manifest names); `model.json`,
 * which names them all, is written the same way last. At every instant `model.json` names complete
 * files — the previous model with its tokenizer, or the new ones. Superseded files are removed after.
 * Every step goes through layers' `writeFileAtomic` (and so through the kill tests' IO hook).
 */
export async function saveLm(dir: string, model: Module, tokenizer: LmTokenizer, info: LmInfo, checkpoint?: { state: Omit<LmCheckpointState, 'optimizerMeta'>; optimizer: { meta: JsonValue; tensors: Record<string, Tensor> } }): Promise<string[]> {
  const { json, weights } = await serializeModel(model);
  const wname = `model-${hash16(weights)}.safetensors`;
  const tokText = JSON.stringify(tokenizer.toJSON());
  const tname = `tokenizer-${hash16(tokText)}.json`;
  let optBytes: Uint8Array | null = null;
  if (checkpoint) optBytes = serializeSafetensors(await toHostTensors(checkpoint.optimizer.tensors), { format: 'axon' });
  const oname = optBytes ? `optimizer-${hash16(optBytes)}.safetensors` : null;
  const manifest = {
    ...json,
    weights: wname,
    tokenizer: tname,
    languageModel: info,
    ...(checkpoint && oname ? { checkpoint: { ...checkpoint.state, optimizerMeta: checkpoint.optimizer.meta, optimizer: oname } } : {}),
  };
  await writeFileAtomic(join(dir, wname), weights);
  await writeFileAtomic(join(dir, tname), tokText);
  if (optBytes && oname) await writeFileAtomic(join(dir, oname), optBytes);
  await writeFileAtomic(join(dir, 'model.json'), JSON.stringify(manifest, null, 2));
  const keep = new Set([wname, tname, ...(oname ? [oname] : [])]);
  for (const f of await readdir(dir)) {
    if ((OWN_FILE.test(f) && !keep.has(f)) || OWN_TMP.test(f)) await rm(join(dir, f), { force: true });
  }
  return [join(dir, 'model.json'), join(dir, wname), join(dir, tname)];
}

const plainName = (v: unknown): v is string => typeof v === 'string' && v !== '' && v !== '.' && v !== '..' && !/[/\\\0]/.test(v);

/**
 * Loads what {@link saveLm} wrote: `path` is the folder (or its `model.json`). Everything is
 * checked before the model is built: the manifest is a regular file under 32 MiB holding a
 * language model (anything else — an MNIST model, a stray JSON — is an {@link AxonError} saying
 * so), the tokenizer parses and its vocabulary matches the model's, the weights are a valid
 * safetensors file, and the architecture allocates no more than the weights hold.
 */
export async function loadLm(path: string, op = 'generate'): Promise<LoadedLm> {
  const abs = resolve(path);
  const file = abs.endsWith('.json') ? abs : join(abs, 'model.json');
  const dir = abs.endsWith('.json') ? resolve(abs, '..') : abs;
  const raw = await readRegularFile(op, file, { maxBytes: MAX_MODEL_JSON_BYTES });
  let json: Record<string, unknown>;
  try {
    const j: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
    if (j === null || typeof j !== 'object' || Array.isArray(j)) throw new Error('not a JSON object');
    json = j as Record<string, unknown>;
  } catch (e) {
    throw new AxonError(op, `'${file}' is not a model manifest: ${e instanceof Error ? e.message : String(e)}`);
  }
  const lm = json.languageModel as LmInfo | undefined;
  if (lm === undefined || lm === null || typeof lm !== 'object' || typeof lm.model !== 'string' || lm.config === null || typeof lm.config !== 'object') {
    throw new AxonError(op, `'${file}' holds a ${typeof json.className === 'string' ? json.className : 'model'} model, not a language model: train one with axon train --model gpt (or lstm) --output <dir>`);
  }
  if (!plainName(json.tokenizer)) throw new AxonError(op, `'${file}' names no tokenizer file (expected a file name in the same folder)`);
  if (!plainName(json.weights) || !json.weights.endsWith('.safetensors')) throw new AxonError(op, `'${file}' names no weights file (expected a .safetensors file in the same folder)`);
  const tokBytes = await readRegularFile(op, join(dir, json.tokenizer), { maxBytes: 256 * 2 ** 20 });
  let tokJson: unknown;
  try {
    tokJson = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(tokBytes));
  } catch (e) {
    throw new AxonError(op, `'${join(dir, json.tokenizer)}' is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const tokenizer = tokenizerFromJson(tokJson, `'${join(dir, json.tokenizer)}'`);
  const vocab = lm.config.vocabSize;
  if (vocab !== tokenizer.vocabSize) throw new AxonError(op, `'${file}': the model has a vocabulary of ${String(vocab)} tokens but its tokenizer ${describeTokenizer(tokenizer)} has ${tokenizer.vocabSize}`);
  const wbytes = await readRegularFile(op, join(dir, json.weights));
  const contents = parseSafetensors(wbytes);
  const dataBytes = Object.values(contents.tensors).reduce((a, t) => a + t.data.byteLength, 0);
  const elements = Object.values(contents.tensors).reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
  // Before anything is built: the architecture's parameter count, from its config, must be what
  // the weights hold (a clear message for files that do not belong together); layers' own cap
  // then keeps building from allocating more than the weights hold.
  const expected = parameterCount(json);
  if (expected === null) throw new AxonError(op, `'${file}' holds a ${String(json.className)}, not a GPT or LSTM language model`);
  if (expected !== elements) throw new AxonError(op, `'${file}': the architecture (${String(json.className)} ${JSON.stringify(json.config)}) has ${expected} parameters but its weights hold ${elements} values: the files do not belong together`);
  const model = modelFromJson(json, { maxParameterBytes: dataBytes });
  let optimizerTensors: Record<string, Tensor> | undefined;
  try {
    decodeWeights(model, wbytes);
    const ck = json.checkpoint as (LmCheckpointState & { optimizer?: unknown }) | undefined;
    if (ck !== undefined) {
      if (!plainName(ck.optimizer)) throw new AxonError(op, `'${file}' is a checkpoint without an optimizer state file`);
      optimizerTensors = fromHostTensors(parseSafetensors(await readRegularFile(op, join(dir, ck.optimizer))).tensors);
      const state: LmCheckpointState = { step: ck.step, elapsedMs: ck.elapsedMs, horizon: ck.horizon, optimizerMeta: ck.optimizerMeta, ...(ck.scheduler !== undefined ? { scheduler: ck.scheduler } : {}), ...(ck.rng !== undefined ? { rng: ck.rng } : {}) };
      return { model, tokenizer, info: lm, manifest: file, weightsBytes: wbytes.byteLength, checkpoint: { ...state, optimizerTensors } };
    }
  } catch (e) {
    model.dispose();
    for (const t of Object.values(optimizerTensors ?? {})) t.dispose();
    throw e;
  }
  return { model, tokenizer, info: lm, manifest: file, weightsBytes: wbytes.byteLength };
}

/**
 * The parameter count of the language model a `model.json` describes, from its config (`GPT`:
 * embeddings, positions, L pre-norm blocks of 12·D² + 13·D, the final norm and the head; `LstmLm`:
 * embedding, L LSTM layers of 8·D² + 8·D, head with bias), or null for another class or a config
 * that is not made of positive integers.
 */
export function parameterCount(json: Record<string, unknown>): number | null {
  const c = json.config as Record<string, unknown> | null | undefined;
  if (c === null || typeof c !== 'object') return null;
  const n = (k: string): number => (typeof c[k] === 'number' && Number.isSafeInteger(c[k]) && (c[k] as number) > 0 ? (c[k] as number) : NaN);
  const [V, D, L] = [n('vocabSize'), n('width'), n('layers')];
  let count = NaN;
  if (json.className === 'GPT') count = 2 * V * D + n('contextLength') * D + L * (12 * D * D + 13 * D) + 2 * D;
  else if (json.className === 'LstmLm') count = 2 * V * D + V + L * (8 * D * D + 8 * D);
  return Number.isSafeInteger(count) ? count : null;
}

/** Whether a folder (or manifest path) holds a language model saved by `axon train` (no throw). */
export async function isLmFolder(path: string): Promise<boolean> {
  const abs = resolve(path);
  const file = abs.endsWith('.json') ? abs : join(abs, 'model.json');
  try {
    const j = JSON.parse(new TextDecoder().decode(await readRegularFile('info', file, { maxBytes: MAX_MODEL_JSON_BYTES }))) as { languageModel?: unknown };
    return j.languageModel !== undefined;
  } catch {
    return false;
  }
}

export { tokenizerKind };
