/**
 * Node file helpers: `save`/`loadModel` (architecture + weights, saved atomically as a whole),
 * `saveWeights`/`loadWeights` (weights only), durable atomic writes. `node:*` modules are imported
 * lazily, so importing this package in a browser is fine as long as these functions are not called
 * there.
 */
import { AxonError, type Tensor, fmtValue, readRegularFile, sizeOf, zeros } from '@axon/core';
import { optBool, optionsOf } from './validate.js';
import { contentHash, escapeRegExp, mkdirs, node, type PathMod, removeLeftoverFiles, step, writeDurable } from './fsutil.js';
import type { OptimizerStateMeta } from '@axon/optimizers';
import { Model, asLoadedModel, loadOptimizerState } from './model.js';
import { Module, type LoadStateDictResult, type StateEntryDescription, planStateDictLoad } from './module.js';
import { openSafetensors } from './safetensors-file.js';
import { type WeightsDtype, encodeWeights, fromHostTensors, loadParsedWeights, parseSafetensors, serializeSafetensors, toHostTensors, weightsDtypeOption } from './safetensors.js';
import { MAX_MODEL_JSON_BYTES, modelFromJson, modelToJson } from './serialize.js';
import type { LanguageModel } from './lm.js';

/**
 * Writes `data` to `file` atomically and durably: to a temporary file in the same folder, fsynced,
 * then renamed over `file`, and the folder fsynced; on failure the temporary file is removed and
 * any old `file` is left intact.
 * @example
 * import { readFile } from 'node:fs/promises';
 * await writeFileAtomic('notes/today.txt', 'hello'); // creates the folder if needed
 * await readFile('notes/today.txt', 'utf8') // 'hello'
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

/** The file a manifest names under `key` (`weights`, `optimizerState`), if it is a plain file name in the same folder. */
function fileName(json: unknown, key: 'weights' | 'optimizerState' = 'weights'): string | null {
  const w = json !== null && typeof json === 'object' ? (json as Record<string, unknown>)[key] : undefined;
  if (typeof w !== 'string' || w === '' || w === '.' || w === '..' || w.includes('/') || w.includes('\\') || w.includes('\0')) return null;
  return w;
}

/** The files (weights, optimizer state) the manifest at `file` refers to now; none when there is no readable manifest. */
async function currentFiles(file: string): Promise<string[]> {
  try {
    const bytes = await readRegularFile('save', file, { maxBytes: MAX_MODEL_JSON_BYTES });
    const json: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return [fileName(json, 'weights'), fileName(json, 'optimizerState')].filter((n): n is string => n !== null);
  } catch {
    return [];
  }
}

/**
 * Removes what earlier saves of `stem` left in `dir`: temporary files, and weights and optimizer
 * state files (`<stem>-<hash>.safetensors`, `<stem>-<hash>.optimizer.safetensors`, and the old
 * layout's `<stem>.safetensors`) that `keep` does not name.
 */
async function removeLeftovers(dir: string, stem: string, keep: ReadonlySet<string>, legacy: boolean): Promise<void> {
  const s = escapeRegExp(stem);
  const tmp = new RegExp(`^${s}(?:\\.json|-[0-9a-f]{16}(?:\\.optimizer)?\\.safetensors)\\.tmp-[0-9]+-[0-9a-z]+-[0-9a-z]*$`);
  const weights = new RegExp(`^${s}-[0-9a-f]{16}(?:\\.optimizer)?\\.safetensors$`);
  await removeLeftoverFiles(dir, (name) => !keep.has(name) && (tmp.test(name) || weights.test(name) || (legacy && name === `${stem}.safetensors`)));
}

/**
 * Options of {@link save}.
 * @example
 * const net = sequential([new Dense(1, { inputShape: [2] })]);
 * net.compile({ optimizer: 'adam', loss: 'mse' });
 * await net.fit(ones([4, 2]), ones([4, 1]), { verbose: 0 });
 * const opts: SaveOptions = { includeOptimizer: false };
 * await save(net, 'no-optimizer-state', opts);
 * (await loadModel('no-optimizer-state')).optimizer // null
 */
export interface SaveOptions {
  /**
   * Whether to save the optimizer's state (moments, step counts, current learning rates) beside
   * the weights, when the model has an optimizer (default true, as Keras's `include_optimizer`).
   * The compile settings are saved either way. The state is saved when the optimizer drives
   * exactly the model's parameters in one group — always so for an optimizer `compile` creates
   * from a name or config; an optimizer you built over other groups is saved by its config only.
   */
  includeOptimizer?: boolean;
  /**
   * The precision the weights file stores float32 tensors in (default `'float32'`): `'float16'`
   * or `'bfloat16'` halve the file; {@link loadModel} widens them back to float32.
   */
  dtype?: WeightsDtype;
  /** String metadata kept in the weights file's `__metadata__` (`axon.model` is Axon's). */
  metadata?: Readonly<Record<string, string>>;
}

/** The optimizer state file's bytes (tensors + `axon.optimizer` metadata), or null when there is none to save. */
async function optimizerStateBytes(model: Module): Promise<Uint8Array | null> {
  if (!(model instanceof Model) || !model.isCompiled) return null;
  const opt = model.optimizer;
  if (!opt || opt.isDisposed) return null;
  // Only an optimizer over exactly the model's parameters, in one group, can be rebuilt on load.
  const params = model.parameters();
  const groups = opt.paramGroups;
  if (groups.length !== 1 || groups[0]!.params.length !== params.length || groups[0]!.params.some((p, i) => p !== params[i])) return null;
  const sd = opt.stateDict();
  try {
    return serializeSafetensors(await toHostTensors(sd.tensors), { format: 'axon', 'axon.optimizer': JSON.stringify(sd.meta) });
  } finally {
    for (const t of Object.values(sd.tensors)) t.dispose();
  }
}

/**
 * Saves a model so that {@link loadModel} rebuilds it: its architecture and compile settings as
 * JSON (`model.json`) naming a content-addressed weights file (`model-<sha256 prefix>.safetensors`)
 * and, once the model has an optimizer (after `fit`), its state
 * (`model-<sha256 prefix>.optimizer.safetensors`; see {@link SaveOptions.includeOptimizer}).
 * `target` is a folder (→ `model.json` + `model-<hash>.safetensors`) or a path ending in
 * `.safetensors`/`.json` (`net.safetensors` → `net.json` + `net-<hash>.safetensors` beside it).
 *
 * The compile settings are those of {@link Model.getCompileConfig}: the optimizer's config, the
 * loss and the metrics by name. A loss or metric given as a function cannot be saved; it is named
 * in `model.json` (`compile.unsaved`) and must be given to `compile` again after loading.
 *
 * The save is atomic as a whole: the weights (and optimizer state) files are written (temp file,
 * fsync, rename, fsync of the folder) before the manifest, which is written the same way last, so
 * at every instant the manifest names complete files — the previous model or the new one, never
 * a mix. Then the superseded files are removed, as are leftovers of earlier interrupted saves
 * (temporary files, unreferenced weights). One save per target at a time. Layers must be
 * registered (built-ins are; see `registerLayer`).
 * @example
 * const net = sequential([new Dense(1, { inputShape: [2] })]);
 * net.compile({ optimizer: 'sgd', loss: 'mse', metrics: ['mae'] });
 * await save(net, 'models/regressor');
 * const again = await loadModel('models/regressor'); // compiled like net: ready to fit
 * again.getCompileConfig() // { loss: 'mse', metrics: ['mae'] }
 * await again.fit(ones([4, 2]), ones([4, 1]), { verbose: 0 });
 */
export async function save(model: Module, target: string, opts: SaveOptions = {}): Promise<void> {
  if (typeof target !== 'string' || target === '') throw new AxonError('save', 'expects a folder or file path');
  const o = optionsOf<SaveOptions>('save', opts, ['includeOptimizer', 'dtype', 'metadata']);
  const includeOptimizer = optBool('save', 'includeOptimizer', o.includeOptimizer) ?? true;
  const { dtype, metadata } = saveOptions('save', { dtype: o.dtype, metadata: o.metadata });
  const { path } = await node();
  const arch = modelToJson(model);
  const p = paths(target, path);
  const bytes = await encodeWeights(model, { ...metadata, 'axon.model': arch.className }, { dtype });
  const wname = `${p.stem}-${await contentHash(bytes)}.safetensors`;
  const optBytes = includeOptimizer ? await optimizerStateBytes(model) : null;
  const oname = optBytes ? `${p.stem}-${await contentHash(optBytes)}.optimizer.safetensors` : null;
  await step('mkdir');
  try {
    await mkdirs(p.dir);
  } catch (e) {
    throw new AxonError('save', `cannot write '${p.json}': ${e instanceof Error ? e.message : String(e)}`);
  }
  const previous = await currentFiles(p.json);
  // Leftovers of an earlier interrupted save (the previous model's files stay).
  await removeLeftovers(p.dir, p.stem, new Set(previous), false);
  await writeDurable('save', path.join(p.dir, wname), bytes);
  if (optBytes && oname) await writeDurable('save', path.join(p.dir, oname), optBytes);
  await writeDurable('save', p.json, JSON.stringify({ ...arch, weights: wname, ...(oname ? { optimizerState: oname } : {}) }, null, 2));
  // The new manifest is in place: the previous files (either layout) are superseded.
  await removeLeftovers(p.dir, p.stem, new Set(oname ? [wname, oname] : [wname]), true);
}

/**
 * Options of {@link loadModel}.
 * @example
 * const net = sequential([new Dense(1, { inputShape: [2] })]);
 * net.compile({ optimizer: 'adam', loss: 'mse' });
 * await save(net, 'models/options');
 * const opts: LoadModelOptions = { maxJsonBytes: 256 * 2 ** 20, maxLayers: 50_000, compile: false };
 * const m = await loadModel('models/options', opts);
 * m.isCompiled // false
 */
export interface LoadModelOptions {
  /** The largest `model.json` read, in bytes (default {@link MAX_MODEL_JSON_BYTES}, 32 MiB). */
  maxJsonBytes?: number;
  /** The most layers the architecture may declare (default `MAX_MODEL_LAYERS`, 10,000). */
  maxLayers?: number;
  /**
   * Whether to compile the model with the saved compile settings and restore the saved optimizer
   * state (default true, as Keras's `load_model(compile=True)`); false loads the architecture and
   * weights only, e.g. for inference.
   */
  compile?: boolean;
}

/**
 * Loads a model saved by {@link save} (either layout: `model.json` naming
 * `model-<hash>.safetensors`, or the older `model.safetensors`) as the {@link Model} it was — a
 * `Sequential` or functional `GraphModel` — and, when the file holds compile settings
 * (models saved after `compile`), compiled with them: ready to `fit` and `evaluate` without
 * calling `compile` again, with the saved optimizer state when there is one (so training continues
 * where it stopped), as Keras's `load_model` does. Files without compile settings (older ones, or
 * uncompiled models) load uncompiled. A loss or metric saved from a function was not saved: `fit`
 * then says to compile again (see {@link Model.compileFromConfig}).
 *
 * Nothing is built before the files are checked: they must be regular files (a directory,
 * `/dev/zero` or a FIFO is refused before reading), `model.json` at most `maxJsonBytes`, the
 * weights a valid safetensors file; then the architecture (at most `maxLayers` layers) is built
 * with its parameters capped by the weights' size — a `model.json` declaring a layer larger than
 * its weights fails before allocating it — and the weights are loaded (names, shapes and dtypes
 * validated), then the optimizer state (validated against the model's parameters). A file holding
 * a single layer rather than a model is refused. A failed load frees everything it built.
 * @example
 * const net = sequential([new Dense(3, { inputShape: [4], activation: 'softmax' })]);
 * net.compile({ optimizer: { name: 'adam', learningRate: 0.01 }, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
 * const x = randn([16, 4]);
 * const y = randint(0, 3, [16]);
 * await net.fit(x, y, { epochs: 2, verbose: 0 });
 * await save(net, 'models/classifier');
 *
 * const m = await loadModel('models/classifier'); // a Sequential, compiled as net was
 * m.predict(x).shape // [16, 3]
 * m.getCompileConfig() // { loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] }
 * m.optimizer!.getConfig() // { name: 'adam', lr: 0.01 }
 * const before = await m.evaluate(x, y);
 * const after = await net.evaluate(x, y);
 * before.loss === after.loss // true
 * await m.fit(x, y, { epochs: 1, verbose: 0 }); // continues with the saved Adam moments
 */
export async function loadModel(source: string, opts: LoadModelOptions = {}): Promise<Model> {
  const op = 'loadModel';
  if (typeof source !== 'string' || source === '') throw new AxonError(op, `expects a folder or file path, got ${fmtValue(source)}`);
  opts = optionsOf<LoadModelOptions>(op, opts, ['maxJsonBytes', 'maxLayers', 'compile']);
  const compile = optBool(op, 'compile', opts.compile) ?? true;
  const { json, weights, weightBytes, optimizerFile, jsonPath } = await readSaved(op, source, opts);
  const built = modelFromJson(json, { ...(opts.maxLayers !== undefined ? { maxLayers: opts.maxLayers } : {}), maxParameterBytes: weightBytes });
  const m = asLoadedModel(op, built, json, `'${jsonPath}'`, compile);
  try {
    await loadInto(op, m, weights, { strict: true });
    if (compile && optimizerFile !== null && m.isCompiled) await restoreOptimizer(op, m, optimizerFile);
  } catch (e) {
    m.dispose();
    throw e;
  }
  return m;
}

/** Reads a saved model's `model.json` and its weights file (checked before anything is allocated). */
async function readSaved(op: string, source: string, opts: { maxJsonBytes?: number }): Promise<{ json: object; jsonPath: string; weights: string; weightBytes: number; optimizerFile: string | null }> {
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
  const wname = given === undefined ? `${p.stem}.safetensors` : fileName(json);
  if (wname === null || !wname.endsWith('.safetensors')) throw new AxonError(op, `'${p.json}' names the weights file ${JSON.stringify(given)}; expected a file name ending in .safetensors in the same folder`);
  const givenState = (json as { optimizerState?: unknown }).optimizerState;
  const oname = givenState === undefined ? null : fileName(json, 'optimizerState');
  if (givenState !== undefined && (oname === null || !oname.endsWith('.safetensors'))) throw new AxonError(op, `'${p.json}' names the optimizer state file ${JSON.stringify(givenState)}; expected a file name ending in .safetensors in the same folder`);
  // only the header now (validated against the file's size): the tensors are read one at a time
  // into the built model, so the file is never held in memory whole
  const weights = path.join(p.dir, wname);
  const f = await openSafetensors(weights);
  let weightBytes = 0;
  try {
    for (const k of f.keys()) {
      const i = f.info(k);
      weightBytes += sizeOf(i.shape) * (i.dtype === 'bool' ? 1 : 4);
    }
  } finally {
    await f.close();
  }
  return { json, jsonPath: p.json, weights, weightBytes, optimizerFile: oname === null ? null : path.join(p.dir, oname) };
}

/**
 * Loads a language model written by `save` — a {@link gpt} or {@link lstmLm} model, or any saved
 * module implementing {@link LanguageModel} (`forward` and `generate`) — with its weights, ready
 * to generate (what `axon generate` does with a saved model).
 * @example
 * const m = gpt({ vocabSize: 10, contextLength: 8, width: 8, heads: 2, layers: 1 });
 * await save(m, 'models/tiny-gpt');
 * const again = await loadLanguageModel('models/tiny-gpt');
 * again.className // 'GPT'
 * const a = await m.generate([1, 2], { maxTokens: 4, temperature: 0 });
 * const b = await again.generate([1, 2], { maxTokens: 4, temperature: 0 });
 * a.join() === b.join() // true
 * await save(sequential([new Dense(1, { inputShape: [1] })]), 'models/regressor');
 * await loadLanguageModel('models/regressor') // throws: 'not a language model'
 */
export async function loadLanguageModel(source: string, opts: { maxJsonBytes?: number; maxLayers?: number } = {}): Promise<LanguageModel> {
  const op = 'loadLanguageModel';
  if (typeof source !== 'string' || source === '') throw new AxonError(op, `expects a folder or file path, got ${fmtValue(source)}`);
  const o = optionsOf<{ maxJsonBytes?: number; maxLayers?: number }>(op, opts, ['maxJsonBytes', 'maxLayers']);
  const { json, jsonPath, weights, weightBytes } = await readSaved(op, source, o);
  const built = modelFromJson(json, { ...(o.maxLayers !== undefined ? { maxLayers: o.maxLayers } : {}), maxParameterBytes: weightBytes });
  try {
    const lm = built as unknown as Partial<LanguageModel>;
    if (typeof lm.generate !== 'function' || typeof lm.vocabSize !== 'number') {
      throw new AxonError(op, `'${jsonPath}' holds a ${built.className}, not a language model (gpt(), lstmLm(), or a module with generate()); load it with loadModel`);
    }
    await loadInto(op, built, weights, { strict: true });
    return built as unknown as LanguageModel;
  } catch (e) {
    built.dispose();
    throw e;
  }
}

/** Reads an optimizer state file and loads it into `m`'s optimizer (created now, as the first `fit` would). */
async function restoreOptimizer(op: string, m: Model, file: string): Promise<void> {
  const contents = parseSafetensors(await readRegularFile(op, file));
  let meta: OptimizerStateMeta;
  try {
    meta = JSON.parse(contents.metadata['axon.optimizer'] ?? '') as OptimizerStateMeta;
  } catch {
    throw new AxonError(op, `'${file}' is not an optimizer state file (its metadata lacks a valid 'axon.optimizer' entry)`);
  }
  const tensors = fromHostTensors(contents.tensors);
  try {
    loadOptimizerState(m, { meta, tensors });
  } catch (e) {
    throw new AxonError(op, `'${file}' does not fit the model's optimizer: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
}

/**
 * Options of {@link saveSafetensors} / {@link saveWeights}.
 * @example
 * const opts: SaveSafetensorsOptions = { dtype: 'float16', metadata: { source: 'axon' } };
 * await saveSafetensors(new Linear(4, 2), 'half.safetensors', opts);
 * await using f = await openSafetensors('half.safetensors');
 * f.info('weight').sourceDtype // 'F16'
 * f.metadata // { format: 'axon', source: 'axon' }
 */
export interface SaveSafetensorsOptions {
  /** The precision float32 tensors are written in (default `'float32'`; `'float16'` → F16, `'bfloat16'` → BF16, rounded to nearest even as PyTorch). */
  dtype?: WeightsDtype;
  /** String metadata kept in the file's `__metadata__` (beside `format: 'axon'`, which it may override, e.g. `format: 'pt'`). */
  metadata?: Readonly<Record<string, string>>;
}

function saveOptions(op: string, opts: unknown): { dtype: WeightsDtype; metadata: Record<string, string> } {
  const o = optionsOf<SaveSafetensorsOptions>(op, opts as SaveSafetensorsOptions, ['dtype', 'metadata']);
  const dtype = weightsDtypeOption(op, o.dtype);
  const md: unknown = o.metadata ?? {};
  if (md === null || typeof md !== 'object' || Array.isArray(md)) throw new AxonError(op, `metadata must be a record of strings, got ${fmtValue(md)}`);
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(md)) {
    if (typeof v !== 'string') throw new AxonError(op, `metadata values must be strings; '${k}' is ${fmtValue(v)}`);
    metadata[k] = v;
  }
  return { dtype, metadata };
}

/**
 * Writes a module's parameters and buffers to a safetensors file (atomically and durably) under
 * their state-dict names — PyTorch's for the PyTorch-front modules, so PyTorch's
 * `load_state_dict(strict=True)` takes the file of a twin model. `dtype` writes float32 tensors as
 * F16 or BF16 (byte for byte PyTorch's `.half()`/`.bfloat16()`); `metadata` goes to `__metadata__`.
 * @example
 * class Net extends Module {
 *   fc = new Linear(3, 1);
 *   forward(x: Tensor): Tensor { return this.fc.call(x); }
 * }
 * await saveSafetensors(new Net(), 'net-bf16.safetensors', { dtype: 'bfloat16', metadata: { format: 'pt' } });
 * await using f = await openSafetensors('net-bf16.safetensors');
 * f.keys() // ['fc.weight', 'fc.bias']
 * f.metadata // { format: 'pt' }
 */
export async function saveSafetensors(m: Module, file: string, opts: SaveSafetensorsOptions = {}): Promise<void> {
  if (!(m instanceof Module)) throw new AxonError('saveSafetensors', `expects a Module, got ${fmtValue(m)}`);
  const { dtype, metadata } = saveOptions('saveSafetensors', opts);
  await writeFileAtomic(file, await encodeWeights(m, metadata, { dtype }));
}

/**
 * Writes a module's parameters and buffers to a safetensors file (atomically and durably), e.g.
 * for a PyTorch-style custom Module: {@link saveSafetensors} under its older name.
 * @example
 * import { readFile } from 'node:fs/promises';
 * class Net extends Module {
 *   fc = new Linear(3, 1);
 *   forward(x: Tensor): Tensor { return this.fc.call(x); }
 * }
 * await saveWeights(new Net(), 'net.safetensors');
 * const { tensors } = parseSafetensors(new Uint8Array(await readFile('net.safetensors')));
 * Object.keys(tensors) // ['fc.weight', 'fc.bias']
 */
export async function saveWeights(m: Module, file: string, opts: SaveSafetensorsOptions = {}): Promise<void> {
  if (!(m instanceof Module)) throw new AxonError('saveWeights', `expects a Module, got ${fmtValue(m)}`);
  const { dtype, metadata } = saveOptions('saveWeights', opts);
  await writeFileAtomic(file, await encodeWeights(m, metadata, { dtype }));
}

/**
 * Loads a safetensors file (a path, read lazily: the header, then one tensor at a time) or its
 * bytes into a module, as PyTorch's `load_state_dict`: every name and shape is checked against
 * the header before any tensor is read, all problems are reported at once in PyTorch's words,
 * and nothing changes unless everything loads. `strict: false` allows missing and unexpected
 * names and returns them (`{ missingKeys, unexpectedKeys }`). Every dtype the format has is
 * read (F16/BF16/F64 widened to float32; integers range-checked into int32). Anything but a
 * regular file is refused before reading.
 * @example
 * const a = new Linear(3, 2);
 * await saveSafetensors(a, 'load-me.safetensors', { dtype: 'float16' });
 * const b = new Linear(3, 2);
 * await loadSafetensors(b, 'load-me.safetensors') // { missingKeys: [], unexpectedKeys: [] }
 * b.weight.sub(a.weight).abs().max().item() < 1e-3 // true: a's weights rounded to float16
 * await loadSafetensors(new Linear(3, 3), 'load-me.safetensors') // throws: 'size mismatch for weight'
 */
export async function loadSafetensors(m: Module, source: string | Uint8Array, opts: { strict?: boolean } = {}): Promise<LoadStateDictResult> {
  return loadInto('loadSafetensors', m, source, opts);
}

async function loadInto(op: string, m: Module, source: string | Uint8Array, opts: { strict?: boolean }): Promise<LoadStateDictResult> {
  const o = optionsOf<{ strict?: boolean }>(op, opts, ['strict']);
  const strict = optBool(op, 'strict', o.strict) ?? true;
  if (!(m instanceof Module)) throw new AxonError(op, `expects a Module, got ${fmtValue(m)}`);
  if (source instanceof Uint8Array) return loadParsedWeights(m, parseSafetensors(source), { strict });
  if (typeof source !== 'string' || source === '') throw new AxonError(op, `expects a file path or the file's bytes (a Uint8Array), got ${fmtValue(source)}`);
  const f = await openSafetensors(source);
  const read: Tensor[] = [];
  try {
    const described: Record<string, StateEntryDescription> = {};
    for (const k of f.keys()) {
      const i = f.info(k);
      described[k] = { shape: i.shape, dtype: i.dtype };
    }
    // names and shapes checked against the header before any tensor is read
    const plan = planStateDictLoad(m, described, strict);
    const sd: Record<string, Tensor> = {};
    for (const [, sk] of plan.pairs) {
      const t = await f.readTensor(sk);
      read.push(t);
      sd[sk] = t;
    }
    // unexpected names (strict: false) are not read: loadStateDict only needs their names
    const placeholder = read[0];
    if (plan.unexpectedKeys.length && placeholder) for (const k of plan.unexpectedKeys) sd[k] = placeholder;
    else if (plan.unexpectedKeys.length) {
      const z = zeros([0]);
      read.push(z);
      for (const k of plan.unexpectedKeys) sd[k] = z;
    }
    return m.loadStateDict(sd, { strict });
  } finally {
    for (const t of read) t.dispose();
    await f.close();
  }
}

/**
 * Loads a safetensors file into a module (validated; `strict: false` allows missing/unexpected
 * names): {@link loadSafetensors} for a path. The file is read lazily, one tensor at a time.
 * Anything but a regular file is refused before reading.
 * @example
 * const a = new Linear(3, 1);
 * await saveWeights(a, 'linear-weights.safetensors');
 * const b = new Linear(3, 1);
 * await loadWeights(b, 'linear-weights.safetensors');
 * b.call(ones([1, 3])).sub(a.call(ones([1, 3]))) // [[0]]
 * await loadWeights(new Linear(4, 1), 'linear-weights.safetensors') // throws: 'size mismatch for weight: copying a param with shape [1, 3] from checkpoint, the shape in current model is [1, 4]'
 */
export async function loadWeights(m: Module, file: string, opts: { strict?: boolean } = {}): Promise<LoadStateDictResult> {
  if (typeof file !== 'string' || file === '') throw new AxonError('loadWeights', `expects a file path, got ${fmtValue(file)}`);
  return loadInto('loadWeights', m, file, opts);
}
