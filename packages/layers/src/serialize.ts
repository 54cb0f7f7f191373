/**
 * Architecture configs (`model.json`): layer class names with their configs, the layer registry,
 * and rebuilding Sequential and functional models from a config. Pure (browser-usable).
 */
import { AxonError, fmtValue } from '@axon/core';
import { optionsOf } from './validate.js';
import { Activation, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh } from './activations.js';
import { AvgPool2d, Conv2d, GlobalAvgPool2d, MaxPool2d } from './conv.js';
import { AvgPool1d, Conv1d, ConvTranspose1d, ConvTranspose2d, MaxPool1d, Upsample } from './conv-more.js';
import { AveragePooling1D, AveragePooling2D, Conv2DTranspose, KerasConv1D, MaxPooling1D, UpSampling1D, UpSampling2D } from './conv-keras.js';
import { Add, Concatenate, Dense, Dropout, Embedding, Flatten, Linear, Reshape } from './layers.js';
import type { SavedCompileConfig } from './compile.js';
import { GraphModel, callNode } from './graph.js';
import { Model } from './model.js';
import { Sequential } from './sequential.js';
import { GRU, LSTM, RNN } from './recurrent.js';
import { KerasGRU, KerasLSTM, SimpleRNN } from './recurrent-keras.js';
import { MultiheadAttention } from './attention.js';
import { KerasMultiHeadAttention } from './attention-keras.js';
import { TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer } from './transformer.js';
import { PositionalEmbedding, RMSNorm, SinusoidalPositionalEncoding } from './positional.js';
import { GPT, LstmLm } from './lm.js';
import { BatchNorm1d, BatchNorm2d, BatchNormalization, LayerNorm } from './normalization.js';
import type { Module } from './module.js';
import { type JsonValue, type LayerConfig, withParameterBudget } from './module.js';
import type { SymbolicTensor} from './symbolic.js';
import { input } from './symbolic.js';

/**
 * Rebuilds a layer from its config (and name).
 * @example
 * const f: LayerFactory = (c, name) => new Dense(c['units'] as number, { name });
 * f({ units: 3 }, 'rebuilt').name // 'rebuilt'
 */
export type LayerFactory = (config: LayerConfig, name: string) => Module;

/**
 * One layer in a model config.
 * @example
 * const j: LayerJson = { className: 'Dense', name: 'classifier', config: { units: 10, activation: 'softmax' } };
 * const d = layerFromJson(j) as Dense;
 * d.units // 10
 * d.activation // 'softmax'
 */
export interface LayerJson {
  readonly className: string;
  readonly name: string;
  readonly config: LayerConfig;
}

/**
 * What `model.json` holds: a format tag, the model class and its config, the compile settings of
 * a compiled model, and the files beside it.
 * @example
 * import { readFile } from 'node:fs/promises';
 * const net = sequential([new Dense(2, { inputShape: [3] })], { name: 'tiny' });
 * net.compile({ optimizer: 'adam', loss: 'mse' });
 * await save(net, 'tiny-model');
 * const json = JSON.parse(await readFile('tiny-model/model.json', 'utf8')) as ModelJson;
 * json // { format: 'axon-model/1', className: 'Sequential', name: 'tiny', compile: { loss: 'mse', metrics: [] } }
 * json.weights!.startsWith('model-') // true
 * json.optimizerState // undefined
 */
export interface ModelJson {
  readonly format: 'axon-model/1';
  readonly className: string;
  readonly name: string;
  readonly config: LayerConfig;
  /** The compile settings of a compiled model (absent in files written before they were saved, and for uncompiled models). */
  readonly compile?: SavedCompileConfig;
  /** The weights file next to it. */
  readonly weights?: string;
  /** The optimizer state file next to it (`save` writes one when the optimizer exists, i.e. after `fit`). */
  readonly optimizerState?: string;
}

const num = (c: LayerConfig, k: string): number => c[k] as number;
const opt = <T>(c: LayerConfig, k: string): T | undefined => (c[k] === undefined || c[k] === null ? undefined : (c[k] as unknown as T));

/** Layer classes other Axon packages register when imported (a Map: `constructor` matches nothing). */
const REGISTERED_BY: ReadonlyMap<string, string> = new Map([['OnnxModel', '@axon/onnx']]);

const registry = new Map<string, LayerFactory>([
  ['Linear', (c, name) => new Linear(num(c, 'inFeatures'), num(c, 'outFeatures'), { bias: c['bias'] !== false, name })],
  [
    'Dense',
    (c, name) =>
      new Dense(num(c, 'units'), {
        name,
        activation: opt<string>(c, 'activation') ?? null,
        useBias: c['useBias'] !== false,
        ...(opt<string>(c, 'kernelInitializer') ? { kernelInitializer: c['kernelInitializer'] as never } : {}),
        ...(opt<string>(c, 'biasInitializer') ? { biasInitializer: c['biasInitializer'] as never } : {}),
        ...(opt<number>(c, 'inputDim') !== undefined ? { inputDim: num(c, 'inputDim') } : {}),
      }),
  ],
  ['Dropout', (c, name) => new Dropout({ rate: num(c, 'rate'), name, ...(opt<number>(c, 'seed') !== undefined ? { seed: num(c, 'seed') } : {}) })],
  ['Flatten', (c, name) => new Flatten({ name, startAxis: opt<number>(c, 'startAxis') ?? 1, endAxis: opt<number>(c, 'endAxis') ?? -1, ...(opt<number[]>(c, 'inputShape') ? { inputShape: c['inputShape'] as number[] } : {}) })],
  ['Embedding', (c, name) => new Embedding({ inputDim: num(c, 'inputDim'), outputDim: num(c, 'outputDim'), name })],
  ['Add', (_c, name) => new Add(name)],
  ['Concatenate', (c, name) => new Concatenate({ axis: opt<number>(c, 'axis') ?? -1, name })],
  ['Reshape', (c, name) => new Reshape({ targetShape: c['targetShape'] as number[], name })],
  ['ReLU', (_c, name) => new ReLU(name)],
  ['Sigmoid', (_c, name) => new Sigmoid(name)],
  ['Tanh', (_c, name) => new Tanh(name)],
  ['GELU', (_c, name) => new GELU(name)],
  ['Softmax', (c, name) => new Softmax({ axis: opt<number>(c, 'axis') ?? -1, name })],
  ['LogSoftmax', (c, name) => new LogSoftmax({ axis: opt<number>(c, 'axis') ?? -1, name })],
  ['LeakyReLU', (c, name) => new LeakyReLU({ alpha: opt<number>(c, 'alpha') ?? 0.01, name })],
  ['Activation', (c, name) => new Activation({ activation: c['activation'] as string, name })],
  ['Conv2d', (c, name) => Conv2d.fromConfig(c, name)],
  ['MaxPool2d', (c, name) => MaxPool2d.fromConfig(c, name)],
  ['AvgPool2d', (c, name) => AvgPool2d.fromConfig(c, name)],
  ['GlobalAvgPool2d', (c, name) => GlobalAvgPool2d.fromConfig(c, name)],
  ['Conv1d', (c, name) => Conv1d.fromConfig(c, name)],
  ['ConvTranspose1d', (c, name) => ConvTranspose1d.fromConfig(c, name)],
  ['ConvTranspose2d', (c, name) => ConvTranspose2d.fromConfig(c, name)],
  ['MaxPool1d', (c, name) => MaxPool1d.fromConfig(c, name)],
  ['AvgPool1d', (c, name) => AvgPool1d.fromConfig(c, name)],
  ['Upsample', (c, name) => Upsample.fromConfig(c, name)],
  ['KerasConv1D', (c, name) => KerasConv1D.fromConfig(c, name)],
  ['Conv2DTranspose', (c, name) => Conv2DTranspose.fromConfig(c, name)],
  ['MaxPooling1D', (c, name) => MaxPooling1D.fromConfig(c, name)],
  ['AveragePooling1D', (c, name) => AveragePooling1D.fromConfig(c, name)],
  ['AveragePooling2D', (c, name) => AveragePooling2D.fromConfig(c, name)],
  ['UpSampling1D', (c, name) => UpSampling1D.fromConfig(c, name)],
  ['UpSampling2D', (c, name) => UpSampling2D.fromConfig(c, name)],
  ['BatchNorm1d', (c, name) => BatchNorm1d.fromConfig(c, name)],
  ['BatchNorm2d', (c, name) => BatchNorm2d.fromConfig(c, name)],
  ['BatchNormalization', (c, name) => BatchNormalization.fromConfig(c, name)],
  ['LayerNorm', (c, name) => LayerNorm.fromConfig(c, name)],
  // the PyTorch recurrent modules return tuples, not one tensor, and the Keras ones with returnState a list: rebuilt here as Modules all the same
  ['RNN', (c, name) => RNN.fromConfig(c, name) as unknown as Module],
  ['LSTM', (c, name) => LSTM.fromConfig(c, name) as unknown as Module],
  ['GRU', (c, name) => GRU.fromConfig(c, name) as unknown as Module],
  ['SimpleRNN', (c, name) => SimpleRNN.fromConfig(c, name) as unknown as Module],
  ['KerasLSTM', (c, name) => KerasLSTM.fromConfig(c, name) as unknown as Module],
  ['KerasGRU', (c, name) => KerasGRU.fromConfig(c, name) as unknown as Module],
  // attention returns [output, weights]: rebuilt as a Module all the same
  ['MultiheadAttention', (c, name) => MultiheadAttention.fromConfig(c, name) as unknown as Module],
  ['KerasMultiHeadAttention', (c, name) => KerasMultiHeadAttention.fromConfig(c, name)],
  ['TransformerEncoderLayer', (c, name) => TransformerEncoderLayer.fromConfig(c, name)],
  ['TransformerDecoderLayer', (c, name) => TransformerDecoderLayer.fromConfig(c, name)],
  ['TransformerEncoder', (c, name) => TransformerEncoder.fromConfig(c, name)],
  ['PositionalEmbedding', (c, name) => new PositionalEmbedding(num(c, 'maxLen'), num(c, 'dim'), { name })],
  ['SinusoidalPositionalEncoding', (c, name) => new SinusoidalPositionalEncoding(num(c, 'dim'), { name })],
  ['RMSNorm', (c, name) => RMSNorm.fromConfig(c, name)],
  ['GPT', (c, name) => GPT.fromConfig(c, name)],
  ['LstmLm', (c, name) => LstmLm.fromConfig(c, name)],
  ['Sequential', (c, name) => sequentialFromConfig(c, name)],
  ['Functional', (c, name) => graphFromConfig(c, name)],
]);

/**
 * Registers a layer class so that `loadModel`/`modelFromJson` can rebuild it from `getConfig()`.
 * @example
 * class Scale extends Module {
 *   static readonly className = 'Scale';
 *   constructor(readonly factor: number, name?: string) { super(name); }
 *   forward(x: Tensor): Tensor { return x.mul(this.factor); }
 *   override getConfig(): LayerConfig { return { factor: this.factor }; }
 * }
 * const net = sequential([new Dense(2, { inputShape: [2] }), new Scale(10)]);
 * await save(net, 'custom-layer') // throws: "layer class 'Scale'"
 * registerLayer('Scale', (config, name) => new Scale(config['factor'] as number, name));
 * await save(net, 'custom-layer');
 * const again = await loadModel('custom-layer');
 * (again.layers[1] as Scale).factor // 10
 */
export function registerLayer(className: string, factory: LayerFactory): void {
  if (typeof className !== 'string' || className === '' || typeof factory !== 'function') throw new AxonError('registerLayer', 'expects (className: string, factory: (config, name) => Module)');
  registry.set(className, factory);
}

/**
 * The class names `modelFromJson` can rebuild.
 * @example registeredLayers().includes('Dense') // true
 */
export function registeredLayers(): string[] {
  return [...registry.keys()];
}

function classNameOf(m: Module): string {
  if (m instanceof GraphModel) return 'Functional';
  return m.className;
}

/**
 * A layer (or nested model) as `{ className, name, config }`.
 * @example
 * layerToJson(new Dense(3, { name: 'd' })) // { className: 'Dense', name: 'd', config: { units: 3, activation: 'linear', useBias: true } }
 * layerToJson(new Conv2d(1, 4, 3, { name: 'c' })).config // { inChannels: 1, outChannels: 4, kernelSize: [3, 3] }
 */
export function layerToJson(m: Module): LayerJson {
  const className = classNameOf(m);
  if (!registry.has(className)) {
    throw new AxonError('layerToJson', `layer class '${className}' (layer '${m.name}') is not registered: call registerLayer('${className}', (config, name) => new ${className}(...)) to make it saveable, or save weights only with saveWeights()`);
  }
  if (m instanceof Sequential) return { className, name: m.name, config: { ...m.getConfig(), layers: m.layers.map((l) => layerToJson(l) as unknown as JsonValue) } };
  if (m instanceof GraphModel) return { className, name: m.name, config: graphConfig(m) };
  return { className, name: m.name, config: m.getConfig() };
}

function graphConfig(g: GraphModel): LayerConfig {
  const layers: Module[] = [];
  for (const n of g.nodes) if (!layers.includes(n.layer)) layers.push(n.layer);
  // a reference: { input: i }, or { node: k } for a node's (first) output and { node: k, output: j }
  // for its j-th (Keras' [layerName, nodeIndex, tensorIndex]); a node with `initialState: n` passes
  // its last n inputs as the layer call's initialState
  const ref = (s: SymbolicTensor): JsonValue => {
    const i = g.inputs.indexOf(s);
    if (i >= 0) return { input: i };
    const k = g.nodes.findIndex((n) => n.output === s.node);
    return s.outputIndex ? { node: k, output: s.outputIndex } : { node: k };
  };
  return {
    inputs: g.inputs.map((s) => ({ name: s.name ?? 'input', shape: s.shape.slice(1) as number[], dtype: s.dtype })),
    layers: layers.map((l) => layerToJson(l) as unknown as JsonValue),
    nodes: g.nodes.map((n) => ({ layer: n.layer.name, inputs: n.inputs.map(ref), ...(n.output.stateInputs ? { initialState: n.output.stateInputs } : {}) })),
    output: ref(g.output),
  };
}

/**
 * A model's architecture as the JSON `model.json` stores, with its compile settings when it is a
 * compiled {@link Model} (see {@link Model.getCompileConfig}).
 * @example
 * const net = sequential([new Dense(2, { inputShape: [3], name: 'out' })], { name: 'net' });
 * modelToJson(net) // { format: 'axon-model/1', className: 'Sequential', name: 'net', config: { inputShape: [3], layers: [{ className: 'Dense', name: 'out', config: { units: 2 } }] } }
 * net.compile({ optimizer: 'sgd', loss: 'mse' });
 * modelToJson(net).compile!.loss // 'mse'
 */
export function modelToJson(m: Module): ModelJson {
  const j = layerToJson(m);
  const compile = m instanceof Model ? m.getCompileConfig() : null;
  return { format: 'axon-model/1', className: j.className, name: j.name, config: j.config, ...(compile ? { compile } : {}) };
}


/**
 * Rebuilds a layer from `{ className, name, config }` (unknown classes → AxonError).
 * @example
 * layerFromJson({ className: 'Dense', name: 'd', config: { units: 3 } }).name // 'd'
 * layerFromJson({ className: 'Magic', name: 'm', config: {} }) // throws: "unknown layer class 'Magic'"
 */
export function layerFromJson(j: unknown): Module {
  const op = 'layerFromJson';
  if (j === null || typeof j !== 'object') throw new AxonError(op, 'a layer entry must be { className, name, config }');
  const { className, name, config } = j as Partial<LayerJson>;
  if (typeof className !== 'string') throw new AxonError(op, 'a layer entry lacks its className');
  const f = registry.get(className);
  if (!f) {
    const from = REGISTERED_BY.get(className);
    if (from !== undefined) throw new AxonError(op, `layer class '${className}' is registered by ${from}: add \`import '${from}'\` before loading this model`);
    throw new AxonError(op, `unknown layer class '${className}'; known: ${[...registry.keys()].join(', ')} (register custom layers with registerLayer)`);
  }
  if (config !== undefined && (config === null || typeof config !== 'object' || Array.isArray(config))) throw new AxonError(op, `layer '${String(name)}' (${className}): config must be an object`);
  // A copy without a prototype: a factory reading a key the config lacks never sees Object.prototype's.
  const cfg = Object.assign(Object.create(null) as Record<string, JsonValue>, config ?? {}) as LayerConfig;
  try {
    return f(cfg, typeof name === 'string' ? name : className.toLowerCase());
  } catch (e) {
    throw new AxonError(op, `cannot rebuild layer '${String(name)}' (${className}) from its config: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function sequentialFromConfig(c: LayerConfig, name: string): Sequential {
  const layers = c['layers'];
  if (!Array.isArray(layers)) throw new AxonError('modelFromJson', `Sequential '${name}': config.layers must be an array`);
  const m = new Sequential();
  m.name = name;
  try {
    const shape = c['inputShape'];
    if (shape !== undefined) {
      if (!Array.isArray(shape)) throw new AxonError('modelFromJson', `Sequential '${name}': inputShape must be an array`);
      m.setInputShape(shape as number[]);
    }
    for (const entry of layers) {
      const l = layerFromJson(entry);
      try {
        m.add(l);
      } catch (e) {
        l.dispose(); // not added: the Sequential would not free it
        throw e;
      }
    }
  } catch (e) {
    m.dispose(); // frees every layer built so far: a failed load leaks nothing
    throw e;
  }
  return m;
}

function graphFromConfig(c: LayerConfig, name: string): GraphModel {
  const op = 'modelFromJson';
  const ins = c['inputs'];
  const ls = c['layers'];
  const nodes = c['nodes'];
  if (!Array.isArray(ins) || !Array.isArray(ls) || !Array.isArray(nodes)) throw new AxonError(op, `Functional '${name}': config needs inputs, layers and nodes arrays`);
  const inputs = ins.map((i) => {
    const o = (i ?? {}) as { name?: string; shape?: number[]; dtype?: 'float32' | 'int32' };
    if (!Array.isArray(o.shape) || !o.shape.every((d) => Number.isInteger(d) && d > 0)) throw new AxonError(op, `Functional '${name}': an input's shape must be positive integers, got ${JSON.stringify(o.shape)}`);
    return input({ shape: o.shape, ...(typeof o.name === 'string' ? { name: o.name } : {}), ...(o.dtype ? { dtype: o.dtype } : {}) });
  });
  const layers = new Map<string, Module>();
  let g: GraphModel | null = null;
  try {
    for (const l of ls) {
      const m = layerFromJson(l);
      if (layers.has(m.name)) {
        m.dispose();
        throw new AxonError(op, `Functional '${name}': two layers are named '${m.name}'`);
      }
      layers.set(m.name, m);
    }
    const outs: SymbolicTensor[][] = [];
    const resolve = (r: unknown): SymbolicTensor => {
      const o = r as { input?: number; node?: number; output?: number };
      const j = o?.output ?? 0; // files written before nodes had several outputs have none
      const s = typeof o?.input === 'number' ? inputs[o.input] : typeof o?.node === 'number' && Number.isInteger(j) ? outs[o.node]?.[j] : undefined;
      if (!s) throw new AxonError(op, `Functional '${name}': bad reference ${JSON.stringify(r)}`);
      return s;
    };
    for (const n of nodes) {
      const o = n as { layer?: string; inputs?: unknown[]; initialState?: unknown };
      const layer = typeof o?.layer === 'string' ? layers.get(o.layer) : undefined;
      if (!layer || !Array.isArray(o.inputs)) throw new AxonError(op, `Functional '${name}': node ${JSON.stringify(n)} names an unknown layer`);
      const k = o.initialState ?? 0;
      if (!(Number.isInteger(k) && (k as number) >= 0 && (k as number) < o.inputs.length)) throw new AxonError(op, `Functional '${name}': node ${JSON.stringify(n)}: initialState must be the number of its last inputs that are the initial state (an integer from 0 to ${o.inputs.length - 1})`);
      const y = callNode(layer, o.inputs.map(resolve), k as number);
      outs.push(Array.isArray(y) ? (y as SymbolicTensor[]) : [y as SymbolicTensor]);
    }
    g = new GraphModel({ inputs, outputs: resolve(c['output']), name });
  } finally {
    // On failure every layer built is freed; on success the layers no node uses (the model does not own them).
    const used = new Set(g ? g.nodes.map((n) => n.layer) : []);
    for (const m of layers.values()) if (!used.has(m)) m.dispose();
  }
  return g;
}

export { MAX_MODEL_JSON_BYTES } from './limits.js';

/**
 * The most layers {@link modelFromJson} (and so `loadModel`, `deserializeModel`,
 * `loadModelFromUrl`) builds by default, counted through nested models; raise it with the
 * `maxLayers` option.
 * @example MAX_MODEL_LAYERS // 10000
 */
export const MAX_MODEL_LAYERS = 10_000;

/**
 * Options of {@link modelFromJson}.
 * @example
 * const json = modelToJson(sequential([new Dense(1000, { inputShape: [1000] })]));
 * const opts: ModelFromJsonOptions = { maxLayers: 50_000, maxParameterBytes: 1024 };
 * modelFromJson(json, opts) // throws: 'declares parameters [1000,1000], [1000] (3.8 MiB), but the weights hold 1.0 KiB'
 * modelFromJson(json, { maxLayers: 0 }) // throws: 'maxLayers must be a positive integer'
 */
export interface ModelFromJsonOptions {
  /** The most layers (and functional nodes) the config may declare (default {@link MAX_MODEL_LAYERS}). */
  maxLayers?: number;
  /**
   * The most bytes the built-in layers may allocate for parameters and buffers (default: no cap).
   * The loaders set it to the weights file's tensor data size, so an architecture declaring more
   * than its weights hold fails before allocating.
   */
  maxParameterBytes?: number;
}

/** Counts layer entries (and functional nodes) through nested models, failing past `max`. */
function countLayers(j: unknown, max: number, acc = { n: 0 }): number {
  const config = (j as { config?: unknown } | null)?.config;
  if (config === null || typeof config !== 'object') return acc.n;
  const { layers, nodes } = config as { layers?: unknown; nodes?: unknown };
  const add = (k: number): void => {
    acc.n += k;
    if (acc.n > max) throw new AxonError('modelFromJson', `the model declares more than ${max} layers; raise the limit with the maxLayers option if this is intended`);
  };
  if (Array.isArray(nodes)) add(nodes.length);
  if (Array.isArray(layers)) {
    add(layers.length);
    for (const l of layers) countLayers(l, max, acc);
  }
  return acc.n;
}

/**
 * Rebuilds a model from a `model.json` object (weights are loaded separately). Before building
 * anything it checks the structure: at most `maxLayers` layers. Built-in layers check their
 * configs before allocating, and `maxParameterBytes` caps what they allocate in all. A failure
 * frees every layer built so far.
 * @example
 * const text = JSON.stringify(modelToJson(sequential([new Dense(4, { inputShape: [2] }), new Dense(1)])));
 * const m = modelFromJson(JSON.parse(text)); // new weights: load them with decodeWeights / loadWeights
 * m.countParams() // 17
 * m instanceof Sequential // true
 */
export function modelFromJson(j: unknown, opts: ModelFromJsonOptions = {}): Module {
  const op = 'modelFromJson';
  opts = optionsOf<ModelFromJsonOptions>(op, opts, ['maxLayers', 'maxParameterBytes']);
  if (j === null || typeof j !== 'object') throw new AxonError(op, 'model.json must hold an object');
  const o = j as Partial<ModelJson>;
  if (o.format !== 'axon-model/1') throw new AxonError(op, `unknown model format ${JSON.stringify(o.format)}; expected 'axon-model/1'`);
  const maxLayers = opts.maxLayers ?? MAX_MODEL_LAYERS;
  if (!(Number.isInteger(maxLayers) && maxLayers >= 1)) throw new AxonError(op, `maxLayers must be a positive integer, got ${fmtValue(maxLayers)}`);
  const maxBytes = opts.maxParameterBytes;
  if (maxBytes !== undefined && !(typeof maxBytes === 'number' && maxBytes >= 0)) throw new AxonError(op, `maxParameterBytes must be a non-negative number, got ${fmtValue(maxBytes)}`);
  countLayers(o, maxLayers);
  const build = (): Module => layerFromJson({ className: o.className, name: o.name, config: o.config });
  return maxBytes === undefined ? build() : withParameterBudget(maxBytes, build);
}


