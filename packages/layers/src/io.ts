/**
 * Node file helpers: `save`/`loadModel` (architecture + weights), `saveWeights`/`loadWeights`
 * (weights only), atomic writes (temp file + rename). `node:fs` is imported lazily, so importing
 * this package in a browser is fine as long as these functions are not called there.
 */
import type * as NodeFs from 'node:fs/promises';
import type * as NodePath from 'node:path';
import { AxonError } from '@axon/core';
import type { Module } from './module.js';
import { decodeWeights, encodeWeights } from './safetensors.js';
import { modelFromJson, modelToJson } from './serialize.js';

type Fs = typeof NodeFs;
type PathMod = typeof NodePath;

async function node(): Promise<{ fs: Fs; path: PathMod }> {
  try {
    // Specifiers in variables keep bundlers from trying to bundle Node built-ins for browsers.
    const fsSpec = 'node:fs/promises';
    const pathSpec = 'node:path';
    const [fs, path] = (await Promise.all([import(/* @vite-ignore */ fsSpec), import(/* @vite-ignore */ pathSpec)])) as [Fs, PathMod];
    return { fs, path };
  } catch {
    throw new AxonError('save', 'file helpers need Node.js; in a browser use encodeWeights/serializeSafetensors and modelToJson');
  }
}

/**
 * Writes `data` to `file` atomically: to a temporary file in the same folder, then renamed over
 * `file`; on failure the temporary file is removed and any old `file` is left intact.
 * @example await writeFileAtomic('model/model.json', new TextEncoder().encode('{}'));
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const { fs, path } = await node();
  await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw new AxonError('save', `cannot write '${file}': ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Where `save`/`loadModel` put the two files for a folder or a `.safetensors`/`.json` path. */
function paths(p: string, path: PathMod): { json: string; weights: string } {
  if (p.endsWith('.safetensors')) return { weights: p, json: p.slice(0, -'.safetensors'.length) + '.json' };
  if (p.endsWith('.json')) return { json: p, weights: p.slice(0, -'.json'.length) + '.safetensors' };
  return { json: path.join(p, 'model.json'), weights: path.join(p, 'model.safetensors') };
}

/**
 * Saves a model: its weights as safetensors and its architecture as JSON (`model.json`) so that
 * {@link loadModel} rebuilds it. `target` is a folder (→ `model.json` + `model.safetensors`) or a
 * path ending in `.safetensors`/`.json` (→ both files side by side). Each file is written
 * atomically. Layers must be registered (built-ins are; see `registerLayer`).
 * @example await save(model, 'models/mnist');
 */
export async function save(model: Module, target: string): Promise<void> {
  if (typeof target !== 'string' || target === '') throw new AxonError('save', 'expects a folder or file path');
  const { path } = await node();
  const arch = modelToJson(model);
  const p = paths(target, path);
  const bytes = await encodeWeights(model, { 'axon.model': arch.className });
  await writeFileAtomic(p.weights, bytes);
  await writeFileAtomic(p.json, JSON.stringify({ ...arch, weights: path.basename(p.weights) }, null, 2));
}

/**
 * Loads a model saved by {@link save}: rebuilds the architecture from `model.json` (an unknown
 * layer class is an AxonError) and loads the weights (names, shapes and dtypes validated).
 * @example const m = await loadModel('models/mnist'); m.predict(x);
 */
export async function loadModel(source: string): Promise<Module> {
  const { fs, path } = await node();
  const p = paths(source, path);
  let text: string;
  try {
    text = await fs.readFile(p.json, 'utf8');
  } catch (e) {
    throw new AxonError('loadModel', `cannot read '${p.json}': ${e instanceof Error ? e.message : String(e)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new AxonError('loadModel', `'${p.json}' is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const m = modelFromJson(json);
  const wname = (json as { weights?: unknown }).weights;
  const wfile = typeof wname === 'string' && wname !== '' && !wname.includes('/') && !wname.includes('\\') ? path.join(path.dirname(p.json), wname) : p.weights;
  try {
    await loadWeights(m, wfile);
  } catch (e) {
    m.dispose();
    throw e;
  }
  return m;
}

/**
 * Writes a module's parameters and buffers to a safetensors file (atomically), e.g. for a
 * PyTorch-style custom Module.
 * @example await saveWeights(net, 'net.safetensors');
 */
export async function saveWeights(m: Module, file: string): Promise<void> {
  await writeFileAtomic(file, await encodeWeights(m));
}

/**
 * Loads a safetensors file into a module (validated; `strict: false` allows missing/unexpected names).
 * @example await loadWeights(net, 'net.safetensors');
 */
export async function loadWeights(m: Module, file: string, opts: { strict?: boolean } = {}): Promise<void> {
  const { fs } = await node();
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fs.readFile(file));
  } catch (e) {
    throw new AxonError('loadWeights', `cannot read '${file}': ${e instanceof Error ? e.message : String(e)}`);
  }
  decodeWeights(m, bytes, opts);
}
