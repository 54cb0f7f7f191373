/**
 * `axon convert <input> --to axon|onnx|safetensors`: converts between Axon model folders, ONNX
 * files and safetensors files (weights only), writing atomically next to the input by default.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import '@axon/autograd';
import { AxonError, type DType, type Tensor, zeros } from '@axon/core';
import {
  Embedding,
  GPT,
  LstmLm,
  type HostTensorEntry,
  type Module,
  type WeightsDtype,
  loadModel,
  Model,
  loadSafetensors,
  loadTorchStateDict,
  mnistModel,
  modelFromJson,
  openSafetensors,
  save,
  saveSafetensors,
  serializeSafetensors,
  toHostTensors,
  toTorchStateDict,
  writeFileAtomic,
} from '@axon/layers';
import { OnnxModel, exportOnnx, loadOnnx } from '@axon/onnx';
import { chooseBackend } from '../backend.js';
import { int } from '../format.js';
import { MODEL_NAMES } from '../models.js';
import { modelFormat } from './info.js';

/** The formats `axon convert` reads and writes. */
export type ModelFormat = 'axon' | 'onnx' | 'safetensors';
/** The formats, as `--to` takes them. */
export const FORMATS: readonly ModelFormat[] = ['axon', 'onnx', 'safetensors'];
const DTYPES: readonly WeightsDtype[] = ['float32', 'float16', 'bfloat16'];
const STORED: Readonly<Record<WeightsDtype, string>> = { float32: 'F32', float16: 'F16', bfloat16: 'BF16' };

/** Options of {@link convert} (the flags of `axon convert`). */
export interface ConvertOptions {
  /** An Axon model folder (or its `.json`), an `.onnx` file or a `.safetensors` file. */
  readonly input: string;
  readonly to: string;
  /** Default: next to the input, with the new extension (see the README). */
  readonly output?: string;
  /** The precision float tensors are stored in (safetensors and Axon outputs). */
  readonly dtype?: string;
  /** The sample input's full shape, batch first (ONNX export of a model that declares none). */
  readonly inputShape?: readonly number[];
  /** The sample input's dtype (default: int32 for a model that starts with an Embedding, else float32). */
  readonly inputDtype?: string;
  /** The architecture a safetensors file's weights belong to, for `--to axon|onnx` (mlp or cnn). */
  readonly model?: string;
  /**
   * `--to safetensors` of a Keras model (Sequential or functional): write the state dict of the
   * equivalent PyTorch `nn.Sequential` (layers' `toTorchStateDict`: `1.weight` [out, in], …).
   */
  readonly torchNames?: boolean;
  /** The ONNX opset (17 or 18). */
  readonly opset?: number;
  /** `--to onnx`: a symbolic batch axis, so the file runs at any batch size (`exportOnnx`'s `dynamicBatch`). */
  readonly dynamicBatch?: boolean;
  readonly backend?: string;
  readonly threads?: number | 'auto';
}

/** What {@link convert} wrote. */
export interface ConvertResult {
  readonly from: ModelFormat;
  readonly to: ModelFormat;
  /** The written file, or the folder for an Axon model. */
  readonly output: string;
  readonly tensors: number;
  readonly parameters: number;
  /** The stored dtype of float tensors (`F32`, `F16`, `BF16`). */
  readonly dtype: string;
  readonly bytes: number;
}

const OP = 'convert';

/** Parses `--input-shape 1,28,28` (positive integers, comma-separated). */
export function parseShape(v: string): number[] {
  const parts = v.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.some((p) => !/^[1-9]\d*$/.test(p) || !Number.isSafeInteger(Number(p)))) {
    throw new AxonError(OP, `--input-shape must be positive integers separated by commas, batch first (e.g. 1,28,28), got '${v}'`);
  }
  return parts.map(Number);
}

/** The path an output defaults to: next to the input, with the new extension. */
export function defaultOutput(input: string, from: ModelFormat, to: ModelFormat, dtype: WeightsDtype | undefined): string {
  const abs = input.replace(/[/\\]+$/, '');
  const stem = abs.replace(/\.(json|onnx|safetensors)$/i, '');
  if (from === to) return to === 'axon' ? `${stem}-${dtype ?? 'float32'}` : `${stem}.${dtype ?? 'float32'}.${to}`;
  return to === 'axon' ? stem : `${stem}.${to}`;
}

async function real(p: string): Promise<string> {
  try {
    return await realpath(p);
  } catch {
    // not there yet: its folder's real path + its name
    try {
      return join(await realpath(dirname(resolve(p))), basename(p));
    } catch {
      return resolve(p);
    }
  }
}

/** The files an input consists of (an Axon folder: the folder, its manifest and the files it names). */
async function inputFiles(input: string, from: ModelFormat): Promise<string[]> {
  const files = [input];
  if (from !== 'axon') return files;
  const isDir = (await stat(input)).isDirectory();
  const manifest = isDir ? join(input, 'model.json') : input;
  files.push(manifest, dirname(resolve(manifest)));
  try {
    const j = JSON.parse(await readFile(manifest, 'utf8')) as Record<string, unknown>;
    for (const k of ['weights', 'optimizerState', 'tokenizer']) if (typeof j[k] === 'string') files.push(join(dirname(manifest), j[k]));
  } catch {
    /* the loader reports a bad manifest */
  }
  return files;
}

function checkDtype(v: string | undefined): WeightsDtype | undefined {
  if (v === undefined) return undefined;
  if (!(DTYPES as readonly string[]).includes(v)) throw new AxonError(OP, `--dtype must be one of ${DTYPES.join(', ')}, got '${v}'`);
  return v as WeightsDtype;
}

/** The model's parameter and buffer count, and its tensor count. */
function sizeOf(m: Module): { tensors: number; parameters: number } {
  const sd = Object.values(m.stateDict());
  return { tensors: sd.length, parameters: sd.reduce((a, t) => a + t.size, 0) };
}

/**
 * Loads an Axon model folder: a Keras model (Sequential or functional) with loadModel, uncompiled;
 * a single saved module (a GPT or LSTM language model, a PyTorch-front module) by rebuilding it
 * from its manifest and loading its weights strictly.
 */
async function loadAxon(path: string): Promise<Module> {
  const manifest = (await stat(path).then((s) => s.isDirectory(), () => false)) ? join(path, 'model.json') : path;
  try {
    return await loadModel(path, { compile: false });
  } catch (e) {
    if (!(e instanceof AxonError) || !/ layer, not a model/.test(e.message)) throw e;
  }
  const json = JSON.parse(await readFile(manifest, 'utf8')) as { weights?: unknown };
  if (typeof json.weights !== 'string' || !/^[^/\\\0]+\.safetensors$/.test(json.weights)) throw new AxonError(OP, `'${manifest}' names no weights file`);
  const m = modelFromJson(json);
  try {
    await loadSafetensors(m, join(dirname(manifest), json.weights), { strict: true });
  } catch (e) {
    m.dispose();
    throw e;
  }
  return m;
}

/** The first module holding parameters, depth first. */
function firstWeighted(m: Module): Module | null {
  for (const [, sub] of m.namedModules()) if (sub !== m && sub.children().length === 0 && Object.keys(sub.stateDict()).length > 0) return sub;
  return null;
}

/** The sample input ONNX export traces the model with. */
function sampleInput(m: Module, o: ConvertOptions): Tensor {
  const takesIds = m instanceof GPT || m instanceof LstmLm || firstWeighted(m) instanceof Embedding;
  const dtype = o.inputDtype ?? (takesIds ? 'int32' : 'float32');
  if (dtype !== 'float32' && dtype !== 'int32') throw new AxonError(OP, `--input-dtype must be float32 or int32, got '${dtype}'`);
  let shape = o.inputShape;
  if (shape === undefined) {
    const declared = (m as { inputShape?: readonly number[] | null }).inputShape;
    if (Array.isArray(declared) && declared.every((d) => Number.isInteger(d) && d > 0)) shape = [1, ...(declared as number[])];
    else if (m instanceof GPT) shape = [1, m.contextLength];
  }
  if (shape === undefined) {
    throw new AxonError(OP, `the ${m.className} declares no input shape, so ONNX export needs one: give --input-shape with the sample input's full shape, batch first (e.g. --input-shape 1,28,28${takesIds ? ' for images, or 1,32 for 32 token ids' : ''})`);
  }
  return zeros(shape, dtype as DType);
}

/** 'a' or 'an' before a class name ('an OnnxModel', 'a Sequential'). */
const article = (word: string): string => (/^[AEIOU]/i.test(word) ? 'an' : 'a');

/** A state-dict name's module prefix (`fc1` of `fc1.weight`). */
const prefixOf = (k: string): string => k.slice(0, Math.max(0, k.lastIndexOf('.')));
const unique = (xs: readonly string[]): string[] => [...new Set(xs)];

/**
 * Loads a safetensors file's weights into a ready-made (Keras-front) model, strictly. A file with
 * the model's own names loads as it is; a file with PyTorch's names (`torch.save`-style state dicts
 * of the equivalent `nn.Sequential`: `1.weight`, `4.weight`, …) goes through layers'
 * `loadTorchStateDict` (Linear weights transposed into Dense kernels); a PyTorch file whose modules
 * have other names (`fc1`, `fc2`) is matched to those layers by order, when it has as many modules.
 * Returns a note on the mapping used ('' when none).
 */
async function loadWeightsInto(model: Module, file: string): Promise<string> {
  const f = await openSafetensors(file);
  let dict: Record<string, Tensor> | null = null;
  let note = '';
  try {
    const keys = f.keys();
    const own = new Set(Object.keys(model.stateDict()));
    if (!(model instanceof Model) || [...own].every((k) => keys.includes(k)) || keys.every((k) => own.has(k))) {
      await f.close();
      await loadSafetensors(model, file, { strict: true });
      return '';
    }
    const expected = toTorchStateDict(model);
    const names = Object.keys(expected);
    for (const t of Object.values(expected)) t.dispose();
    const rename = new Map<string, string>();
    const fileGroups = unique(keys.map(prefixOf));
    const wantGroups = unique(names.map(prefixOf));
    if (!keys.every((k) => names.includes(k)) && fileGroups.length === wantGroups.length) {
      fileGroups.forEach((g, i) => rename.set(g, wantGroups[i]!));
      note = ` (PyTorch names matched to the layers by order: ${fileGroups.map((g, i) => `${g} → ${wantGroups[i]}`).join(', ')})`;
    } else note = ' (PyTorch names: Linear weights transposed into Dense kernels)';
    const d: Record<string, Tensor> = {};
    dict = d;
    for (const k of keys) {
      const p = prefixOf(k);
      d[rename.has(p) ? `${rename.get(p)}${k.slice(p.length)}` : k] = await f.readTensor(k);
    }
    loadTorchStateDict(model, d, { strict: true });
    return note;
  } finally {
    if (dict) for (const t of Object.values(dict)) t.dispose();
    await f.close();
  }
}

/** Converts one model or weights file to another format (see the README's `axon convert`). */
export async function convert(o: ConvertOptions, log: (s: string) => void = console.log): Promise<ConvertResult> {
  if (!(FORMATS as readonly string[]).includes(o.to)) throw new AxonError(OP, `--to must be one of ${FORMATS.join(', ')}, got '${o.to}'`);
  const to = o.to as ModelFormat;
  const dtype = checkDtype(o.dtype);
  const from = modelFormat(o.input) as ModelFormat;
  const st = await stat(o.input).catch(() => null);
  if (st === null) throw new AxonError(OP, `no such file or folder: '${o.input}'`);
  if (from !== 'axon' && !st.isFile()) throw new AxonError(OP, `'${o.input}' is not a regular file`);
  if (from === 'axon' && !st.isDirectory() && !o.input.toLowerCase().endsWith('.json')) throw new AxonError(OP, `'${o.input}' is not a model folder, a model.json, a .safetensors or an .onnx file`);
  if (from === 'onnx' && to === 'onnx') throw new AxonError(OP, `'${o.input}' is already ONNX (--to axon or safetensors)`);
  if (to === 'onnx' && dtype !== undefined) throw new AxonError(OP, '--dtype applies to --to safetensors and --to axon; ONNX export writes float32');
  if (to !== 'onnx' && (o.inputShape !== undefined || o.inputDtype !== undefined || o.opset !== undefined || o.dynamicBatch === true)) throw new AxonError(OP, '--input-shape, --input-dtype, --opset and --dynamic-batch apply to --to onnx');
  if (o.model !== undefined && from !== 'safetensors') throw new AxonError(OP, `--model applies to a .safetensors input (the weights of a ready-made model); '${o.input}' is ${from === 'axon' ? 'an Axon model' : 'an ONNX model'}, which holds its own architecture`);
  if (o.torchNames === true && (to !== 'safetensors' || from === 'safetensors')) throw new AxonError(OP, '--torch-names applies to --to safetensors from an Axon or ONNX model');
  if (o.model !== undefined && to === 'safetensors') throw new AxonError(OP, '--model applies to --to axon and --to onnx (a safetensors output keeps the names it has)');
  if (from === 'safetensors' && to !== 'safetensors') {
    if (o.model === undefined) throw new AxonError(OP, `a safetensors file holds weights only: converting it to ${to === 'axon' ? 'an Axon model' : 'ONNX'} needs their architecture, --model ${MODEL_NAMES.join('|')}`);
    if (!(MODEL_NAMES as readonly string[]).includes(o.model)) throw new AxonError(OP, `--model must be one of ${MODEL_NAMES.join(', ')}, got '${o.model}'`);
  }
  const output = o.output ?? defaultOutput(o.input, from, to, dtype);
  if (output === '') throw new AxonError(OP, '--output is empty');
  const outReal = await real(output);
  for (const f of await inputFiles(o.input, from)) {
    if ((await real(f)) === outReal) throw new AxonError(OP, `the output '${output}' is ${f === o.input ? 'the input itself' : `part of the input ('${f}')`}; choose another --output`);
  }
  if (to === 'axon' && (await stat(output).then((s) => s.isFile(), () => false)) && !output.endsWith('.json')) {
    throw new AxonError(OP, `--output '${output}' is a file; an Axon model is written to a folder`);
  }

  const stored = STORED[dtype ?? 'float32'];
  // safetensors → safetensors: tensor by tensor from the lazy reader, metadata kept
  if (from === 'safetensors' && to === 'safetensors') {
    const f = await openSafetensors(o.input);
    let bytes: Uint8Array;
    let parameters = 0;
    const narrowed = new Set<string>();
    try {
      const entries: Record<string, HostTensorEntry> = {};
      for (const k of f.keys()) {
        const e = await f.read(k);
        parameters += e.data.length;
        if (e.dtype === 'int32' && e.sourceDtype !== 'I32') narrowed.add(e.sourceDtype ?? 'int');
        entries[k] = { dtype: e.dtype, shape: e.shape, data: e.data };
      }
      bytes = serializeSafetensors(entries, f.metadata, { dtype: dtype ?? 'float32' });
    } finally {
      await f.close();
    }
    await writeFileAtomic(output, bytes);
    const tensors = f.keys().length;
    log(`wrote ${output}: ${int(tensors)} tensors, ${int(parameters)} parameters, float tensors as ${stored}${narrowed.size ? ` (${[...narrowed].join(', ')} integers as I32)` : ''}, metadata kept (${(bytes.length / 2 ** 20).toFixed(2)} MiB)`);
    return { from, to, output, tensors, parameters, dtype: stored, bytes: bytes.length };
  }

  await chooseBackend(o.backend ?? 'wasm', o.threads !== undefined ? { threads: o.threads } : {});
  let model: Module;
  let note = '';
  if (from === 'axon') model = await loadAxon(o.input);
  else if (from === 'onnx') model = await loadOnnx(o.input);
  else {
    model = mnistModel(o.model as 'mlp' | 'cnn');
    try {
      note = await loadWeightsInto(model, o.input);
    } catch (e) {
      model.dispose();
      if (e instanceof AxonError) throw new AxonError(OP, `the weights in '${o.input}' do not fit --model ${o.model}: ${e.message}`);
      throw e;
    }
  }
  try {
    const { tensors, parameters } = sizeOf(model);
    if (to === 'safetensors' && o.torchNames === true) {
      if (!(model instanceof Model) || model instanceof OnnxModel) throw new AxonError(OP, `--torch-names maps a Keras model (Sequential or functional) to PyTorch's nn.Sequential; '${o.input}' holds a ${model.className}${model instanceof OnnxModel ? '' : ', whose state dict already has its PyTorch names'}`);
      const sd = toTorchStateDict(model);
      let bytes: Uint8Array;
      try {
        bytes = serializeSafetensors(await toHostTensors(sd), { format: 'pt' }, { dtype: dtype ?? 'float32' });
      } finally {
        for (const t of Object.values(sd)) t.dispose();
      }
      await writeFileAtomic(output, bytes);
      const n = Object.keys(sd).length;
      log(`wrote ${output}: ${int(n)} tensors of the equivalent PyTorch nn.Sequential (${Object.keys(sd).slice(0, 4).join(', ')}${n > 4 ? ', …' : ''}), ${int(parameters)} parameters, float tensors as ${stored} (${(bytes.length / 2 ** 20).toFixed(2)} MiB)`);
      return { from, to, output, tensors: n, parameters, dtype: stored, bytes: bytes.length };
    }
    if (to === 'safetensors') {
      await saveSafetensors(model, output, dtype !== undefined ? { dtype } : {});
      const bytes = (await stat(output)).size;
      log(`wrote ${output}: ${int(tensors)} tensors, ${int(parameters)} parameters, float tensors as ${stored} (${(bytes / 2 ** 20).toFixed(2)} MiB)`);
      return { from, to, output, tensors, parameters, dtype: stored, bytes };
    }
    if (note) log(`loaded ${o.input} into --model ${o.model}${note}`);
    if (to === 'axon') {
      // an imported ONNX model (OnnxModel, registered by @axon/onnx) too: its graph without the weights goes to model.json
      await save(model, output, dtype !== undefined ? { dtype } : {});
      const manifest = output.endsWith('.json') ? output : join(output, 'model.json');
      log(`wrote ${output} (${manifest.endsWith('model.json') ? 'model.json + weights' : 'manifest + weights'}): ${article(model.className)} ${model.className}${model instanceof OnnxModel ? ` (the ONNX graph, opset ${model.opsetVersion}, in model.json)` : ''}, ${int(tensors)} tensors, ${int(parameters)} parameters, float tensors as ${stored}`);
      return { from, to, output, tensors, parameters, dtype: stored, bytes: 0 };
    }
    const x = sampleInput(model, o);
    const sample = `${x.dtype} [${x.shape.join(', ')}]`;
    try {
      await exportOnnx(model, x, output, { ...(o.opset !== undefined ? { opset: o.opset } : {}), ...(o.dynamicBatch === true ? { dynamicBatch: true } : {}) });
    } finally {
      x.dispose();
    }
    const bytes = (await stat(output)).size;
    log(`wrote ${output}: ONNX opset ${o.opset ?? 17} of ${article(model.className)} ${model.className}, sample input ${sample}${o.dynamicBatch === true ? ' (batch axis symbolic)' : ''}, ${int(tensors)} tensors, ${int(parameters)} parameters, float32 (${(bytes / 2 ** 20).toFixed(2)} MiB)`);
    return { from, to, output, tensors, parameters, dtype: 'F32', bytes };
  } finally {
    model.dispose();
  }
}
