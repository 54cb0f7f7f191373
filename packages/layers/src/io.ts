/**
 * Node file helpers: `save`/`loadModel` (architecture + weights, saved atomically as a whole),
 * `saveWeights`/`loadWeights` (weights only), durable atomic writes. `node:*` modules are imported
 * lazily, so importing this package in a browser is fine as long as these functions are not called
 * there.
 */
import { AxonError, fmtValue, readRegularFile } from '@axon/core';
import { optBool, optionsOf } from './validate.js';
import { contentHash, escapeRegExp, mkdirs, node, type PathMod, removeLeftoverFiles, step, writeDurable } from './fsutil.js';
import { Module } from './module.js';
import { encodeWeights, loadParsedWeights, parseSafetensors, tensorDataBytes } from './safetensors.js';
import { MAX_MODEL_JSON_BYTES, modelFromJson, modelToJson } from './serialize.js';

/**
 * Writes `data` to `file` atomically and durably: to a temporary file in the same folder, fsynced,
 * then renamed over `file`, and the folder fsynced; on failure the temporary file is removed and
 * any old `file` is left intact.
 * @example await writeFileAtomic('model/notes.txt', 'hello');
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  if (typeof file !== 'string' || file === '') throw new AxonError('save', 'expects a file path');
  const { path } = await node();
  await step('mkdir');
  try {
    await mkdirs(path.dirname(path.resolve(file)));
  } catch (e) {
    throw new AxonError('save', `cannot write '${file}': ${e instanceof Error ? e.message : String(e)}`);
  }
  await writeDurable('save', file, data);
}

/** Where `save`/`loadModel` put the files for a folder or a `.safetensors`/`.json` path. */
interface ModelPaths {
  /** The manifest (`model.json`). */
  readonly json: string;
  /** The folder holding both. */
  readonly dir: string;
  /** The name stem: `model` for a folder, `net` for `net.json`/`net.safetensors`. */
  readonly stem: string;
}

function paths(p: string, path: PathMod): ModelPaths {
  let json: string;
  if (p.endsWith('.safetensors')) json = p.slice(0, -'.safetensors'.length) + '.json';
  else if (p.endsWith('.json')) json = p;
  else json = path.join(p, 'model.json');
  return { json, dir: path.dirname(path.resolve(json)), stem: path.basename(json, '.json') };
}

/** The weights file a manifest names, if it is a plain file name in the same folder. */
function weightsName(json: unknown): string | null {
  const w = json !== null && typeof json === 'object' ? (json as { weights?: unknown }).weights : undefined;
  if (typeof w !== 'string' || w === '' || w === '.' || w === '..' || w.includes('/') || w.includes('\\') || w.includes('\0')) return null;
  return w;
}

/** The weights name the manifest at `file` refers to now, or null (no manifest, or unreadable). */
async function currentWeights(file: string): Promise<string | null> {
  try {
    const bytes = await readRegularFile('save', file, { maxBytes: MAX_MODEL_JSON_BYTES });
    return weightsName(JSON.parse(new TextDecoder().decode(bytes)));
  } catch {
    return null;
  }
}

/**
 * Removes what earlier saves of `stem` left in `dir`: temporary files, and weights files
 * (`<stem>-<hash>.safetensors`, and the old layout's `<stem>.safetensors`) that `keep` does not name.
 */
async function removeLeftovers(dir: string, stem: string, keep: ReadonlySet<string>, legacy: boolean): Promise<void> {
  const s = escapeRegExp(stem);
  const tmp = new RegExp(`^${s}(?:\\.json|-[0-9a-f]{16}\\.safetensors)\\.tmp-[0-9]+-[0-9a-z]+-[0-9a-z]*$`);
  const weights = new RegExp(`^${s}-[0-9a-f]{16}\\.safetensors$`);
  await removeLeftoverFiles(dir, (name) => !keep.has(name) && (tmp.test(name) || weights.test(name) || (legacy && name === `${stem}.safetensors`)));
}

/**
 * Saves a model so that {@link loadModel} rebuilds it: its architecture as JSON (`model.json`)
 * naming a content-addressed weights file (`model-<sha256 prefix>.safetensors`). `target` is a
 * folder (→ `model.json` + `model-<hash>.safetensors`) or a path ending in `.safetensors`/`.json`
 * (`net.safetensors` → `net.json` + `net-<hash>.safetensors` beside it).
 *
 * The save is atomic as a whole: the weights file is written (temp file, fsync, rename, fsync of
 * the folder) before the manifest, which is written the same way last, so at every instant the
 * manifest names a complete weights file — the previous model or the new one, never a mix. Then
 * the superseded weights are removed, as are leftovers of earlier interrupted saves (temporary
 * files, unreferenced weights). One save per target at a time. Layers must be registered
 * (built-ins are; see `registerLayer`).
 * @example await save(model, 'models/mnist');
 */
export async function save(model: Module, target: string): Promise<void> {
  if (typeof target !== 'string' || target === '') throw new AxonError('save', 'expects a folder or file path');
  const { path } = await node();
  const arch = modelToJson(model);
  const p = paths(target, path);
  const bytes = await encodeWeights(model, { 'axon.model': arch.className });
  const wname = `${p.stem}-${await contentHash(bytes)}.safetensors`;
  await step('mkdir');
  try {
    await mkdirs(p.dir);
  } catch (e) {
    throw new AxonError('save', `cannot write '${p.json}': ${e instanceof Error ? e.message : String(e)}`);
  }
  const previous = await currentWeights(p.json);
  // Leftovers of an earlier interrupted save (the previous model's weights stay).
  await removeLeftovers(p.dir, p.stem, new Set(previous ? [previous] : []), false);
  await writeDurable('save', path.join(p.dir, wname), bytes);
  await writeDurable('save', p.json, JSON.stringify({ ...arch, weights: wname }, null, 2));
  // The new manifest is in place: the previous weights (either layout) are superseded.
  await removeLeftovers(p.dir, p.stem, new Set([wname]), true);
}

/**
 * Options of {@link loadModel}.
 * @example await loadModel('models/big', { maxJsonBytes: 256 * 2 ** 20, maxLayers: 50_000 })
 */
export interface LoadModelOptions {
  /** The largest `model.json` read, in bytes (default {@link MAX_MODEL_JSON_BYTES}, 32 MiB). */
  maxJsonBytes?: number;
  /** The most layers the architecture may declare (default `MAX_MODEL_LAYERS`, 10,000). */
  maxLayers?: number;
}

/**
 * Loads a model saved by {@link save} (either layout: `model.json` naming
 * `model-<hash>.safetensors`, or the older `model.safetensors`). Nothing is built before the files
 * are checked: both must be regular files (a directory, `/dev/zero` or a FIFO is refused before
 * reading), `model.json` at most `maxJsonBytes`, the weights a valid safetensors file; then the
 * architecture (at most `maxLayers` layers) is built with its parameters capped by the weights'
 * size — a `model.json` declaring a layer larger than its weights fails before allocating it —
 * and the weights are loaded (names, shapes and dtypes validated). A failed load frees everything
 * it built.
 * @example const m = await loadModel('models/mnist'); m.predict(x);
 */
export async function loadModel(source: string, opts: LoadModelOptions = {}): Promise<Module> {
  const op = 'loadModel';
  if (typeof source !== 'string' || source === '') throw new AxonError(op, `expects a folder or file path, got ${fmtValue(source)}`);
  opts = optionsOf<LoadModelOptions>(op, opts, ['maxJsonBytes', 'maxLayers']);
  const maxJson = opts.maxJsonBytes ?? MAX_MODEL_JSON_BYTES;
  if (!(typeof maxJson === 'number' && maxJson > 0)) throw new AxonError(op, `maxJsonBytes must be a positive number, got ${fmtValue(maxJson)}`);
  const { path } = await node(op);
  const p = paths(source, path);
  const raw = await readRegularFile(op, p.json, { maxBytes: maxJson, limit: `the ${maxJson}-byte limit (raise it with the maxJsonBytes option)` });
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch (e) {
    throw new AxonError(op, `'${p.json}' is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new AxonError(op, `'${p.json}' must hold a JSON object`);
  const given = (json as { weights?: unknown }).weights;
  const wname = given === undefined ? `${p.stem}.safetensors` : weightsName(json);
  if (wname === null || !wname.endsWith('.safetensors')) throw new AxonError(op, `'${p.json}' names the weights file ${JSON.stringify(given)}; expected a file name ending in .safetensors in the same folder`);
  const wfile = path.join(p.dir, wname);
  const contents = parseSafetensors(await readRegularFile(op, wfile));
  const m = modelFromJson(json, { ...(opts.maxLayers !== undefined ? { maxLayers: opts.maxLayers } : {}), maxParameterBytes: tensorDataBytes(contents) });
  try {
    loadParsedWeights(m, contents);
  } catch (e) {
    m.dispose();
    throw e;
  }
  return m;
}

/**
 * Writes a module's parameters and buffers to a safetensors file (atomically and durably), e.g.
 * for a PyTorch-style custom Module.
 * @example await saveWeights(net, 'net.safetensors');
 */
export async function saveWeights(m: Module, file: string): Promise<void> {
  await writeFileAtomic(file, await encodeWeights(m));
}

/**
 * Loads a safetensors file into a module (validated; `strict: false` allows missing/unexpected
 * names). Anything but a regular file is refused before reading.
 * @example await loadWeights(net, 'net.safetensors');
 */
export async function loadWeights(m: Module, file: string, opts: { strict?: boolean } = {}): Promise<void> {
  const o = optionsOf<{ strict?: boolean }>('loadWeights', opts, ['strict']);
  optBool('loadWeights', 'strict', o.strict);
  if (!(m instanceof Module)) throw new AxonError('loadWeights', `expects a Module, got ${fmtValue(m)}`);
  const bytes = await readRegularFile('loadWeights', file);
  loadParsedWeights(m, parseSafetensors(bytes), opts);
}
