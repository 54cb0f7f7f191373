import { dirname, join, resolve } from 'node:path';
import { AxonError, backends, readRegularFile, ready, setNumThreads } from '@axon/core';
import { stat } from 'node:fs/promises';
import { MAX_MODEL_JSON_BYTES, openSafetensors } from '@axon/layers';
import { inspectOnnx, type OnnxSummary } from '@axon/onnx';
import type { LmInfo } from '../lm/store.js';
import { describeTokenizer, tokenizerFromJson } from '../lm/tokenizer.js';
import { probeBackends, type BackendProbe } from '../backend.js';
import { featureList, featureReasons, int } from '../format.js';

/** What `axon info <folder>` found (`--json` prints it). */
export interface FolderInfo {
  readonly format: 'axon';
  readonly className: string | null;
  readonly parameters: number;
  /** Bytes of tensor data as loaded (float32). */
  readonly bytes: number;
  readonly groups: readonly string[];
  readonly languageModel: boolean;
  /** The dtypes the weights file stores (`F32`, `BF16`, …). */
  readonly stored: readonly string[];
  readonly model?: string;
  readonly tokenizer?: string;
  /** An imported ONNX model's graph (`OnnxModel`: model.json holds it without its weights). */
  readonly onnx?: OnnxSummary;
}

/** What `axon info <file.safetensors>` found (`--json` prints it). */
export interface SafetensorsInfo {
  readonly format: 'safetensors';
  readonly path: string;
  readonly fileBytes: number;
  readonly tensors: number;
  /** Elements of every tensor. */
  readonly parameters: number;
  /** Tensors and elements by the dtype the file stores (`F32`, `BF16`, `I64`, …). */
  readonly dtypes: Readonly<Record<string, { tensors: number; elements: number }>>;
  readonly metadata: Readonly<Record<string, string>>;
  readonly groups: readonly string[];
  /** Each tensor: name, stored dtype, shape. */
  readonly entries: readonly { name: string; dtype: string; shape: readonly number[] }[];
  /** Bytes read from the file to describe it (the header only). */
  readonly bytesRead: number;
}

/** What `axon info <file.onnx>` found (`--json` prints it). */
export type OnnxInfo = { readonly format: 'onnx'; readonly path: string; readonly fileBytes: number } & OnnxSummary;

/** The kind of file or folder a model path names, from its extension (a folder or `.json`: an Axon model). */
export function modelFormat(path: string): 'axon' | 'safetensors' | 'onnx' {
  const p = path.replace(/[/\\]+$/, '').toLowerCase();
  if (p.endsWith('.safetensors')) return 'safetensors';
  if (p.endsWith('.onnx')) return 'onnx';
  return 'axon';
}

/**
 * `axon info <path>` for any model path: an Axon model folder (or its `model.json`), a
 * `.safetensors` file or an `.onnx` file; `json` prints one JSON object instead of text.
 */
export async function describeModel(path: string, opts: { json?: boolean; log?: (s: string) => void } = {}): Promise<FolderInfo | SafetensorsInfo | OnnxInfo> {
  const log = opts.log ?? console.log;
  const text = opts.json === true ? (): void => undefined : log;
  const format = modelFormat(path);
  if (format === 'axon') {
    let isDir = false;
    try {
      isDir = (await stat(path)).isDirectory();
    } catch {
      /* modelInfo reports a missing path */
    }
    if (!isDir && !path.toLowerCase().endsWith('.json')) {
      const exists = await stat(path).then(() => true, () => false);
      throw new AxonError('info', exists ? `'${path}' is not a model folder, a model.json, a .safetensors or an .onnx file` : `no such file or folder: '${path}'`);
    }
  }
  const r = format === 'safetensors' ? await safetensorsInfo(path, text) : format === 'onnx' ? await onnxInfo(path, text) : await modelInfo(path, text);
  if (opts.json === true) log(JSON.stringify(r, null, 2));
  return r;
}

/**
 * `axon info <file.safetensors>`: the tensors, parameters and dtypes a safetensors file holds,
 * its `__metadata__`, and the tensors grouped by name prefix. Only the header is read
 * (`openSafetensors`, validated against the file's size), so a file of any size is described at
 * once and a hostile header is an error before anything large is allocated.
 */
export async function safetensorsInfo(path: string, log: (s: string) => void = console.log): Promise<SafetensorsInfo> {
  const f = await openSafetensors(path);
  try {
    const dtypes: Record<string, { tensors: number; elements: number }> = {};
    const sizes: [string, number][] = [];
    const entries: { name: string; dtype: string; shape: readonly number[] }[] = [];
    let parameters = 0;
    for (const k of f.keys()) {
      const i = f.info(k);
      const n = i.shape.reduce((a, b) => a * b, 1);
      parameters += n;
      sizes.push([k, n]);
      entries.push({ name: k, dtype: i.sourceDtype, shape: i.shape });
      const d = (dtypes[i.sourceDtype] ??= { tensors: 0, elements: 0 });
      d.tensors++;
      d.elements += n;
    }
    const groups = groupByPrefix(sizes);
    const keys = f.keys();
    log(`${path}: safetensors, ${int(keys.length)} tensor${keys.length === 1 ? '' : 's'}, ${int(parameters)} parameters (${(f.size / 2 ** 20).toFixed(2)} MiB)`);
    log(`  dtypes: ${Object.entries(dtypes).map(([d, c]) => `${d} ${int(c.tensors)} tensor${c.tensors === 1 ? '' : 's'} (${int(c.elements)})`).join(' · ') || 'none'}`);
    const md = Object.entries(f.metadata);
    log(`  metadata: ${md.length === 0 ? 'none' : md.map(([k, v]) => `${k}=${JSON.stringify(v.length > 200 ? `${v.slice(0, 200)}…` : v)}`).join(', ')}`);
    if (groups.length > 0) log(`  by prefix: ${groups.join(' · ')}`);
    for (const e of entries.slice(0, 50)) log(`    ${e.name} ${e.dtype} [${e.shape.join(', ')}]`);
    if (entries.length > 50) log(`    … and ${int(entries.length - 50)} more (--json lists them all)`);
    return { format: 'safetensors', path, fileBytes: f.size, tensors: keys.length, parameters, dtypes, metadata: { ...f.metadata }, groups, entries, bytesRead: f.bytesRead };
  } finally {
    await f.close();
  }
}

/** The largest ONNX file `axon info` reads (2 GiB: protobuf's own limit; bigger models keep their weights in external files). */
export const MAX_ONNX_BYTES = 2 ** 31;

/**
 * `axon info <file.onnx>`: producer, opset, the graph's inputs and outputs (element types and
 * shapes), node counts by operator, and the initializers (count, elements, element types), from
 * `@axon/onnx`'s `inspectOnnx` (no backend starts, no weights are decoded).
 */
export async function onnxInfo(path: string, log: (s: string) => void = console.log): Promise<OnnxInfo> {
  const bytes = await readRegularFile('info', path, { maxBytes: MAX_ONNX_BYTES, limit: 'the 2 GiB limit of an ONNX file' });
  let s: OnnxSummary;
  try {
    s = inspectOnnx(bytes);
  } catch (e) {
    if (e instanceof AxonError) throw new AxonError('info', `'${path}': ${e.message.replace(/^(info|inspectOnnx): /, '')}`);
    throw e;
  }
  log(`${path}: ONNX (IR ${s.irVersion}, opset ${s.opset}${Object.keys(s.opsets).filter((d) => d !== '').map((d) => `, ${d} ${s.opsets[d]}`).join('')}), produced by ${s.producer || 'an unnamed producer'}${s.graphName ? `, graph '${s.graphName}'` : ''}`);
  log(`  inputs: ${s.inputs.map(fmtValue).join('; ') || 'none'}`);
  log(`  outputs: ${s.outputs.map(fmtValue).join('; ') || 'none'}`);
  log(`  nodes: ${int(s.nodeCount)}: ${Object.entries(s.ops).map(([k, n]) => `${k} ${int(n)}`).join(', ') || 'none'}`);
  log(`  parameters: ${int(s.parameters)} in ${int(s.initializers)} initializer${s.initializers === 1 ? '' : 's'} (${Object.entries(s.initializerDtypes).map(([d, c]) => `${d} ${int(c.count)}`).join(', ') || 'none'})`);
  return { format: 'onnx', path, fileBytes: bytes.length, ...s };
}

const fmtValue = (v: { name: string; dtype: string; shape: readonly (number | string)[] | null }): string => `${v.name} ${v.dtype} ${v.shape === null ? '(shape undeclared)' : `[${v.shape.join(', ')}]`}`;

/** The ONNX graph an `OnnxModel` folder's model.json holds (base64 in `config.graph`), summarized; null for other models. */
function savedOnnxGraph(file: string, json: Record<string, unknown>): OnnxSummary | null {
  if (json.className !== 'OnnxModel') return null;
  const graph = (json.config as { graph?: unknown } | null | undefined)?.graph;
  if (typeof graph !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(graph) || graph.length % 4 !== 0) throw new AxonError('info', `'${file}' holds an OnnxModel whose config.graph is not the base64 ONNX graph it should be`);
  try {
    return inspectOnnx(new Uint8Array(Buffer.from(graph, 'base64')));
  } catch (e) {
    if (e instanceof AxonError) throw new AxonError('info', `'${file}': the OnnxModel's graph: ${e.message.replace(/^(info|inspectOnnx): /, '')}`);
    throw e;
  }
}

/** Lines under a backend's line start under its state (`  * wasm     `). */
const INDENT = ' '.repeat(13);

/**
 * `axon info`: the backends this machine can run and, where one cannot, why. Every backend is
 * started in a child process ({@link probeBackends}): what native drivers print while starting
 * (Dawn's `maxDynamic… artificially reduced` warnings on lavapipe) is summed up in one line
 * instead of reaching the terminal. A backend's `features` follow its state: WASM says whether its
 * relaxed-SIMD matmul runs and how many threads its ops may use (`available (SIMD, relaxed SIMD,
 * 2 threads)`), with the reason for that count on the next line. `threads` (`--threads`) sets core's
 * thread count first, here and in the child; left as it is when undefined.
 */
export async function info(log: (s: string) => void = console.log, opts: { threads?: number | 'auto' } = {}): Promise<void> {
  if (opts.threads !== undefined) setNumThreads(opts.threads);
  log(`node ${process.version} on ${process.platform}/${process.arch}`);
  let probe: BackendProbe;
  try {
    probe = await probeBackends({ all: true });
  } catch (e) {
    // The child could not run or crashed (a driver's fault, say): list what runs in this process.
    log(`could not start the backends in a child process (${(e as Error).message}); the built-in ones:`);
    let active = null;
    try {
      active = await ready();
    } catch {
      /* every backend failed: reported below */
    }
    for (const b of backends()) {
      const features = b.name === active?.name ? active.features : undefined;
      log(`  ${b.name === active?.name ? '*' : ' '} ${b.name.padEnd(8)} ${b.status === 'ready' ? `available${featureList(features)}` : `unavailable: ${b.reason ?? b.status}`}`);
      for (const r of featureReasons(features)) log(`${INDENT}${r}`);
    }
    return;
  }
  log('backends (highest priority first; * = the default):');
  for (const b of probe.backends) {
    const emulated = probe.emulated[b.name];
    const state = emulated !== undefined ? `available${featureList(probe.features[b.name])}${emulated ? ' (software-emulated device: used only when selected)' : ''}` : `unavailable: ${b.reason ?? b.status}`;
    log(`  ${b.name === probe.chosen ? '*' : ' '} ${b.name.padEnd(8)} ${state}`);
    if (emulated !== undefined) for (const r of featureReasons(probe.features[b.name])) log(`${INDENT}${r}`);
  }
  const driver = probe.driverOutput.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  if (driver.length > 0) {
    log(`driver messages while starting the backends (not errors): ${driver.length} line${driver.length > 1 ? 's' : ''}, first: ${driver[0]}`);
  }
}

/**
 * Parameter counts grouped by a state-dict name's first part (`fc`, or `blocks.3` for a numbered
 * block), in first-seen order; numbered blocks of one size are shown once, times their count.
 */
export function groupByPrefix(sizes: Iterable<readonly [string, number]>): string[] {
  const groups = new Map<string, number>();
  for (const [name, n] of sizes) {
    const parts = name.split('.');
    const key = /^\d+$/.test(parts[1] ?? '') ? `${parts[0]}.${parts[1]}` : parts[0]!;
    groups.set(key, (groups.get(key) ?? 0) + n);
  }
  // Repeated blocks (blocks.0, blocks.1, … of one size) are shown once, times their count.
  const shown: string[] = [];
  const seen = new Set<string>();
  for (const [k, n] of groups) {
    const m = /^(.*)\.(\d+)$/.exec(k);
    if (m) {
      if (seen.has(m[1]!)) continue;
      const same = [...groups].filter(([k2]) => k2.startsWith(`${m[1]}.`) && /^\d+$/.test(k2.slice(m[1]!.length + 1)));
      if (same.every(([, n2]) => n2 === n)) {
        seen.add(m[1]!);
        shown.push(`${m[1]}.0–${same.length - 1} ${int(n)} × ${same.length}`);
        continue;
      }
    }
    shown.push(`${k} ${int(n)}`);
  }
  return shown;
}

/**
 * `axon info <model>`: what a saved model folder holds, read from its files without starting a
 * backend or building the model (of the weights file, only the header is read). For a language model (`axon train --model gpt|lstm`): the
 * architecture, the parameter count (in all and by top-level module, from the weights file's
 * header), the tokenizer and how it was trained; for another model, its class and parameters.
 */
export async function modelInfo(path: string, log: (s: string) => void = console.log): Promise<FolderInfo> {
  const op = 'info';
  const abs = resolve(path);
  const file = abs.endsWith('.json') ? abs : join(abs, 'model.json');
  const dir = dirname(file);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(await readRegularFile(op, file, { maxBytes: MAX_MODEL_JSON_BYTES }))) as Record<string, unknown>;
    if (json === null || typeof json !== 'object') throw new Error('not a JSON object');
  } catch (e) {
    if (e instanceof AxonError) throw e;
    throw new AxonError(op, `'${file}' is not a model manifest: ${e instanceof Error ? e.message : String(e)}`);
  }
  const w = json.weights;
  if (typeof w !== 'string' || !/^[^/\\\0]+\.safetensors$/.test(w)) throw new AxonError(op, `'${file}' names no weights file`);
  // the weights file's header only (a file of any size is described at once)
  const f = await openSafetensors(join(dir, w));
  const sizes: [string, number][] = [];
  const storedSet = new Set<string>();
  let total = 0;
  let bytes = 0;
  try {
    for (const name of f.keys()) {
      const t = f.info(name);
      const n = t.shape.reduce((a, b) => a * b, 1);
      total += n;
      bytes += n * (t.dtype === 'bool' ? 1 : 4);
      sizes.push([name, n]);
      storedSet.add(t.sourceDtype);
    }
  } finally {
    await f.close();
  }
  const shown = groupByPrefix(sizes);
  // the precision the weights file stores (float tensors are read as float32)
  const stored = [...storedSet];
  const storedNote = stored.length === 1 && stored[0] === 'F32' ? '' : `, stored as ${stored.join('/')}`;
  const lm = json.languageModel as LmInfo | undefined;
  if (lm === undefined) {
    const onnx = savedOnnxGraph(file, json);
    const cls = typeof json.className === 'string' ? json.className : 'model';
    log(`${path}: ${/^[AEIOU]/i.test(cls) ? 'an' : 'a'} ${cls} (${onnx ? 'an imported ONNX model, ' : ''}not a language model)`);
    if (onnx) {
      log(`  graph: ONNX opset ${onnx.opset}, produced by ${onnx.producer || 'an unnamed producer'}${onnx.graphName ? `, graph '${onnx.graphName}'` : ''}; nodes: ${int(onnx.nodeCount)}: ${Object.entries(onnx.ops).map(([k, n]) => `${k} ${int(n)}`).join(', ') || 'none'}`);
      log(`  inputs: ${onnx.inputs.map(fmtValue).join('; ') || 'none'}; outputs: ${onnx.outputs.map(fmtValue).join('; ') || 'none'}`);
    }
    log(`  parameters: ${int(total)} (${(bytes / 2 ** 20).toFixed(2)} MiB${storedNote}): ${shown.join(' · ')}`);
    return { format: 'axon', className: typeof json.className === 'string' ? json.className : null, parameters: total, bytes, groups: shown, languageModel: false, stored, ...(onnx ? { onnx } : {}) };
  }
  const tname = json.tokenizer;
  let tok = 'missing';
  if (typeof tname === 'string' && /^[^/\\\0]+$/.test(tname)) {
    try {
      tok = describeTokenizer(tokenizerFromJson(JSON.parse(new TextDecoder().decode(await readRegularFile(op, join(dir, tname), { maxBytes: 256 * 2 ** 20 }))), `'${tname}'`));
    } catch (e) {
      tok = `unreadable: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  const t = lm.training ?? {};
  const num = (v: unknown, d = 4): string => (typeof v === 'number' ? v.toFixed(d) : '-');
  log(`${path}: language model ${lm.model}${json.checkpoint !== undefined ? ' (a training checkpoint)' : ''}`);
  log(`  architecture: ${lm.model === 'gpt' ? 'GPT (token + learned position embeddings, pre-norm transformer blocks with causal self-attention and a GELU MLP, final LayerNorm, linear head)' : 'LSTM language model (embedding, LSTM, linear head)'}; ${Object.entries(lm.config).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  log(`  parameters: ${int(total)} (${(bytes / 2 ** 20).toFixed(2)} MiB float32${storedNote}): ${shown.join(' · ')}`);
  log(`  tokenizer: ${tok}`);
  if (typeof t.steps === 'number') {
    log(`  trained: ${int(t.steps)} steps (${int(typeof t.tokens === 'number' ? t.tokens : 0)} tokens) on ${String(t.data)}, batch ${String(t.batchSize)}, lr ${String(t.lr)}, seed ${String(t.seed)}; val_loss ${num(t.valLoss)} nats/token = ${num(t.valLossPerChar)} nats/char (unigram entropy ${num(t.unigramEntropy)} nats/char)`);
  }
  return { format: 'axon', className: typeof json.className === 'string' ? json.className : null, parameters: total, bytes, groups: shown, languageModel: true, stored, model: lm.model, tokenizer: tok };
}
