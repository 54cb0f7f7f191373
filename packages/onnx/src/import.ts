/**
 * ONNX import: `loadOnnx` / `parseOnnx` read an ONNX file into an {@link OnnxModel}, a trainable
 * `@axon/layers` Model that interprets the graph with Axon core ops.
 */
import { AxonError, type Tensor, clone, failSafe, fmtShape, fmtValue, isGradEnabled, isTensor, readRegularFile, tensor, tidy, zeros } from '@axon/core';
import { type LayerConfig, Model, Module, registerLayer, reserveParameters } from '@axon/layers';
import { type GraphProto, type ModelProto, type NodeProto, type AttributeProto, type TensorProto, DataType, decodeModel, encodeModel, int64 } from './proto.js';
import { type HostKind, type HostValue, type Value, checkDims, checkTensor, dataTypeName, decodeFloat32, decodeTensor, dtypeOf, isHost, kindOf, toTensor } from './import-host.js';
import { OPS, SUPPORTED_OPS, checkAttributes } from './import-ops.js';

/**
 * The lowest default-domain opset `loadOnnx` reads (older files: upgrade them with onnx's
 * version converter, or export again with a newer opset).
 * @example MIN_ONNX_OPSET // 13
 */
export const MIN_ONNX_OPSET = 13;
/**
 * The highest default-domain opset `loadOnnx` reads.
 * @example MAX_ONNX_OPSET // 18
 */
export const MAX_ONNX_OPSET = 18;
/**
 * The most nodes one imported graph may have; larger graphs are refused before anything is built.
 * Subgraphs (If, Loop, Scan) are not supported, so a graph nests nothing.
 * @example MAX_ONNX_NODES // 100000
 */
export const MAX_ONNX_NODES = 100_000;

/**
 * Options of {@link loadOnnx} and {@link parseOnnx}.
 * @example
 * const opts: OnnxLoadOptions = { name: 'classifier', trainable: false };
 * opts.trainable // false
 */
export interface OnnxLoadOptions {
  /** The model's name (default: the ONNX graph's name, else `onnx_model`). */
  readonly name?: string;
  /**
   * Whether float initializers become trainable parameters (default true); false registers them
   * as buffers (in `stateDict()`, not in `parameters()`).
   */
  readonly trainable?: boolean;
}

/** One node of the execution plan, checked at load time. */
interface PlanStep {
  readonly node: NodeProto;
  readonly opType: string;
  readonly label: string;
  readonly attrs: ReadonlyMap<string, AttributeProto>;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Names whose last reader is this step (freed after it when nothing else holds them). */
  readonly release: readonly string[];
}

interface InputInfo {
  readonly name: string;
  readonly kind: HostKind;
  readonly code: number;
  readonly shape: readonly (number | null)[] | null;
}

/** A module holding parameters under one part of a dotted ONNX name (`fc` of `fc.weight`). */
class OnnxScope extends Module {
  static readonly className: string = 'OnnxScope';
  forward(): Tensor {
    throw new AxonError('OnnxScope', 'holds parameters of an imported ONNX model; call the model itself');
  }
}

const label = (n: NodeProto): string => `${n.opType ?? '?'}${n.name ? ` '${n.name}'` : ''}`;

function fail(msg: string): never {
  throw new AxonError('loadOnnx', msg);
}

function checkOpset(m: ModelProto): number {
  let version: number | null = null;
  for (const o of m.opsetImport ?? []) {
    const d = o.domain ?? '';
    if (d === '' || d === 'ai.onnx') version = int64('loadOnnx', 'opset version', o.version);
  }
  if (version === null) fail('the model imports no default-domain opset (opset_import lacks the ai.onnx domain)');
  if (version < MIN_ONNX_OPSET || version > MAX_ONNX_OPSET) {
    fail(`the model uses opset ${version}; Axon reads opsets ${MIN_ONNX_OPSET} to ${MAX_ONNX_OPSET} (re-export with e.g. torch.onnx.export(..., opset_version=17))`);
  }
  return version;
}

function inputInfo(g: GraphProto, initNames: ReadonlySet<string>): InputInfo[] {
  const out: InputInfo[] = [];
  for (const vi of g.input ?? []) {
    const name = vi.name ?? '';
    if (initNames.has(name)) continue; // an initializer listed as an input (IR < 4): a constant
    const tt = vi.type?.tensorType;
    if (!tt) fail(`graph input '${name}' is not a tensor (sequences, maps and optionals are not supported)`);
    const code = tt.elemType ?? 0;
    const kind = kindOf(code);
    if (kind === null) fail(`graph input '${name}' has element type ${dataTypeName(code)}, which Axon cannot hold`);
    const dims = tt.shape?.dim;
    const shape = dims === undefined ? null : dims.map((d) => {
      // protobufjs sets only the fields present in the file as own properties (absent: a default on the prototype)
      if (Object.prototype.hasOwnProperty.call(d, 'dimValue') && !d.dimParam) {
        const n = int64('loadOnnx', `graph input '${name}': dimension`, d.dimValue);
        if (n < 0) fail(`graph input '${name}' has a negative dimension ${n}`);
        return n;
      }
      return null;
    });
    out.push({ name, kind, code, shape });
  }
  return out;
}

/** Topological order of `nodes` (Kahn); a cycle is an error naming its nodes. */
function topoSort(nodes: readonly NodeProto[], producer: ReadonlyMap<string, number>): number[] {
  const n = nodes.length;
  const indeg = new Array<number>(n).fill(0);
  const users: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++) {
    const deps = new Set<number>();
    for (const name of nodes[i]!.input ?? []) {
      const p = name ? producer.get(name) : undefined;
      if (p !== undefined) deps.add(p);
    }
    for (const p of deps) {
      users[p]!.push(i);
      indeg[i]!++;
    }
  }
  const order: number[] = [];
  const queue: number[] = [];
  for (let i = 0; i < n; i++) if (indeg[i] === 0) queue.push(i);
  for (let q = 0; q < queue.length; q++) {
    const i = queue[q]!;
    order.push(i);
    for (const u of users[i]!) if (--indeg[u]! === 0) queue.push(u);
  }
  if (order.length === n) return order;
  // find one cycle among the nodes left: walk back through producers until a node repeats
  const left = new Set<number>();
  for (let i = 0; i < n; i++) if (indeg[i]! > 0) left.add(i);
  let cur = left.values().next().value as number;
  const path: number[] = [];
  const pos = new Map<number, number>();
  while (!pos.has(cur)) {
    pos.set(cur, path.length);
    path.push(cur);
    const next = (nodes[cur]!.input ?? []).map((nm) => (nm ? producer.get(nm) : undefined)).find((p) => p !== undefined && left.has(p));
    cur = next!;
  }
  const cycle = path.slice(pos.get(cur)).reverse();
  fail(`the graph has a cycle through nodes ${cycle.map((i) => label(nodes[i]!)).join(' -> ')} -> ${label(nodes[cycle[0]!]!)}; an ONNX graph must be acyclic`);
}

interface Prepared {
  readonly graphName: string;
  readonly opset: number;
  readonly producer: string;
  readonly inputs: readonly InputInfo[];
  readonly outputs: readonly string[];
  readonly plan: readonly PlanStep[];
  readonly consts: ReadonlyMap<string, HostValue>;
  /** Float initializers (checked, not yet read): name, data, whether it is a BatchNormalization running statistic, whether its values are in the weights file (a saved model's graph). */
  readonly floats: readonly FloatInit[];
  /** The model with the float initializers' values left out (see {@link stateRef}), for `getConfig`. */
  readonly stripped: ModelProto;
}

interface FloatInit {
  readonly name: string;
  readonly proto: TensorProto;
  readonly stat: boolean;
  readonly external: boolean;
  readonly size: number;
}

/**
 * The external-data location of an initializer whose values are the model's state: the graph
 * `save` writes to `model.json` keeps each float initializer's name, dims and type, and its values
 * go to the weights file under its `stateDict()` key.
 */
const STATE_LOCATION = 'axon:state-dict';

/** An initializer's entry in the saved graph: name, dims, FLOAT, values elsewhere (ONNX's external data). */
function stateRef(t: TensorProto): TensorProto {
  return { name: t.name!, dims: t.dims ?? [], dataType: DataType.FLOAT, dataLocation: 1, externalData: [{ key: 'location', value: STATE_LOCATION }] };
}

function isStateRef(t: TensorProto): boolean {
  const ext = t.externalData ?? [];
  return (t.dataLocation ?? 0) === 1 && ext.length === 1 && ext[0]!.key === 'location' && ext[0]!.value === STATE_LOCATION;
}

/**
 * The most float32 elements a saved graph's initializers may declare in all (2^29, 2 GiB: no ONNX
 * file holds more, protobuf's limit), checked before anything is allocated.
 */
const MAX_STATE_ELEMENTS = 2 ** 29;

function prepare(bytes: Uint8Array, saved = false): Prepared {
  if (!(bytes instanceof Uint8Array)) fail(`expects the bytes of an ONNX file (a Uint8Array), got ${fmtValue(bytes)}`);
  const m = decodeModel('loadOnnx', bytes);
  const g = m.graph;
  if (!g) fail('not an ONNX model: the file has no graph (is it an ONNX file?)');
  const opset = checkOpset(m);
  const nodes = g.node ?? [];
  if (nodes.length > MAX_ONNX_NODES) fail(`the graph has ${nodes.length} nodes, more than MAX_ONNX_NODES = ${MAX_ONNX_NODES}`);
  if (nodes.length === 0) fail('the graph has no nodes');

  const producer = new Map<string, number>(); // value name → node index
  const defined = new Map<string, string>(); // value name → what defines it
  const define = (name: string, what: string): void => {
    const prev = defined.get(name);
    if (prev !== undefined) fail(`value '${name}' is defined twice (by ${prev} and by ${what}); ONNX names must be unique (SSA)`);
    defined.set(name, what);
  };
  const inits = g.initializer ?? [];
  const initNames = new Set<string>();
  for (const t of inits) {
    const name = t.name ?? '';
    if (!name) fail('an initializer has no name');
    define(name, `initializer '${name}'`);
    initNames.add(name);
  }
  const inputs = inputInfo(g, initNames);
  for (const i of inputs) define(i.name, `graph input '${i.name}'`);
  if (inputs.length === 0) fail('the graph has no inputs (other than initializers)');

  // operators and attributes, before anything else is read
  for (const node of nodes) {
    const dom = node.domain ?? '';
    const opType = node.opType ?? '';
    if ((dom !== '' && dom !== 'ai.onnx') || !Object.prototype.hasOwnProperty.call(OPS, opType)) {
      const hint = opType === 'Upsample' && (dom === '' || dom === 'ai.onnx') ? ' (Upsample is deprecated since opset 10: files at opsets 13–18 use Resize)' : '';
      throw new AxonError('loadOnnx', `unsupported operator ${dom && dom !== 'ai.onnx' ? `${dom}.` : ''}${opType || '(no op_type)'} (node '${node.name ?? ''}')${hint}; supported ops: ${SUPPORTED_OPS.join(', ')}`);
    }
  }
  nodes.forEach((node, i) => {
    for (const o of node.output ?? []) {
      if (!o) continue;
      define(o, `node ${label(node)}`);
      producer.set(o, i);
    }
  });
  for (const node of nodes) {
    for (const name of node.input ?? []) {
      if (name && !defined.has(name)) fail(`node ${label(node)} reads '${name}', which no node, initializer or graph input produces`);
    }
  }
  const outputs = (g.output ?? []).map((o) => o.name ?? '');
  if (outputs.length === 0) fail('the graph has no outputs');
  for (const o of outputs) if (!defined.has(o)) fail(`graph output '${o}' is not produced by any node, initializer or input`);

  // nodes no graph output depends on never run (a file may carry dead nodes: ignore, not allocate)
  const needed = new Set<number>();
  const stack = outputs.map((o) => producer.get(o)).filter((i): i is number => i !== undefined);
  while (stack.length > 0) {
    const i = stack.pop()!;
    if (needed.has(i)) continue;
    needed.add(i);
    for (const name of nodes[i]!.input ?? []) {
      const p = name ? producer.get(name) : undefined;
      if (p !== undefined && !needed.has(p)) stack.push(p);
    }
  }
  const order = topoSort(nodes, producer).filter((i) => needed.has(i));
  const attrs = order.map((i) => checkAttributes(label(nodes[i]!), nodes[i]!.opType!, nodes[i]!));
  // tensors held by attributes (Constant's value, ConstantOfShape's fill) are checked like initializers
  attrs.forEach((m, k) => {
    for (const [name, a] of m) if (a.t) checkTensor(label(nodes[order[k]!]!), `attribute '${name}'`, a.t);
  });

  // last readers (graph outputs are never released)
  const lastUse = new Map<string, number>();
  order.forEach((i, k) => {
    for (const name of nodes[i]!.input ?? []) if (name) lastUse.set(name, k);
  });
  // an output no later node reads (and not a graph output) is released right after its node
  order.forEach((i, k) => {
    for (const name of nodes[i]!.output ?? []) if (name && !lastUse.has(name)) lastUse.set(name, k);
  });
  for (const o of outputs) lastUse.delete(o);
  const releaseAt: string[][] = order.map(() => []);
  for (const [name, k] of lastUse) if (producer.has(name)) releaseAt[k]!.push(name);
  const plan: PlanStep[] = order.map((i, k) => ({
    node: nodes[i]!,
    opType: nodes[i]!.opType!,
    label: label(nodes[i]!),
    attrs: attrs[k]!,
    inputs: nodes[i]!.input ?? [],
    outputs: nodes[i]!.output ?? [],
    release: releaseAt[k]!,
  }));

  // BatchNormalization's running statistics are state, not trained; float initializers read on
  // the host (a Pad's fill value, a Range's bounds) stay host constants
  const stats = new Set<string>();
  const hostOnly = new Set<string>();
  for (const n of nodes) {
    if (n.opType === 'BatchNormalization') for (const name of (n.input ?? []).slice(3, 5)) stats.add(name);
    for (const k of OPS[n.opType!]!.hostInputs ?? []) if (n.input?.[k]) hostOnly.add(n.input[k]!);
  }

  // initializer data: every size checked before its values are read
  for (const t of inits) checkDims('loadOnnx', `initializer '${t.name}'`, t.dims ?? []);
  // float weights are read later, one at a time, straight into float32 (see OnnxModel's constructor)
  const consts = new Map<string, HostValue>();
  const floats: FloatInit[] = [];
  let external = 0;
  for (const t of inits) {
    const what = `initializer '${t.name}'`;
    const { size } = checkDims('loadOnnx', what, t.dims ?? []);
    if (saved && isStateRef(t)) {
      // a saved model's graph: the values are in the weights file
      if (t.dataType !== DataType.FLOAT) fail(`${what} keeps its values in the weights file, so it must be declared FLOAT, got ${dataTypeName(t.dataType ?? 0)}`);
      if (hostOnly.has(t.name!)) fail(`${what} is read on the host (an operator's constant input), so its values must be in the graph, not in the weights file`);
      external += size;
      if (external > MAX_STATE_ELEMENTS) fail(`the graph's initializers declare more than ${MAX_STATE_ELEMENTS} float32 elements (2 GiB, more than any ONNX file holds); nothing was allocated`);
      // loadModel caps what a model may declare by its weights file's size (withParameterBudget)
      reserveParameters(`loadModel: OnnxModel ${what}`, [(t.dims ?? []).map((d) => int64('loadOnnx', what, d))]);
      floats.push({ name: t.name!, proto: t, stat: stats.has(t.name!), external: true, size });
    } else if (checkTensor('loadOnnx', what, t) === 'float' && !hostOnly.has(t.name!)) floats.push({ name: t.name!, proto: t, stat: stats.has(t.name!), external: false, size });
    else consts.set(t.name!, decodeTensor('loadOnnx', what, t));
  }
  const producerName = [m.producerName, m.producerVersion].filter((s) => s).join(' ');
  const state = new Set(floats.map((f) => f.name));
  const stripped: ModelProto = { ...m, graph: { ...g, initializer: inits.map((t) => (state.has(t.name!) ? stateRef(t) : t)) } };
  return { graphName: g.name ?? '', opset, producer: producerName, inputs, outputs, plan, consts, floats, stripped };
}

const RESERVED = new Set(['training', 'name']);

/** Set by {@link OnnxModel.fromConfig} for the constructor it calls: the graph may keep its float values in the weights file. */
let buildingSaved = false;

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_INDEX[B64.charCodeAt(i)] = i;

/** Standard base64 with padding (Node and browsers alike). */
function toBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  const CHUNK = 3 * 4096;
  for (let start = 0; start < bytes.length; start += CHUNK) {
    const end = Math.min(bytes.length, start + CHUNK);
    let s = '';
    for (let i = start; i < end; i += 3) {
      const a = bytes[i]!;
      const b = i + 1 < end ? bytes[i + 1]! : 0;
      const c = i + 2 < end ? bytes[i + 2]! : 0;
      s += B64[a >> 2]! + B64[((a & 3) << 4) | (b >> 4)]! + (i + 1 < end ? B64[((b & 15) << 2) | (c >> 6)]! : '=') + (i + 2 < end ? B64[c & 63]! : '=');
    }
    parts.push(s);
  }
  return parts.join('');
}

function fromBase64(op: string, s: string): Uint8Array {
  const bad = (why: string): never => {
    throw new AxonError(op, `config.graph is not base64 (${why}); it must be the ONNX graph OnnxModel.getConfig() writes`);
  };
  if (s.length % 4 !== 0) bad(`its length ${s.length} is not a multiple of 4`);
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const code = s.charCodeAt(i + k);
      let d = code < 128 ? B64_INDEX[code]! : -1;
      if (code === 61 /* = */ && i + 4 === s.length && k >= 4 - pad) d = 0;
      if (d < 0) bad(`character ${JSON.stringify(s[i + k])} at ${i + k}`);
      v = (v << 6) | d;
    }
    out[o++] = v >> 16;
    if (o < out.length) out[o++] = (v >> 8) & 255;
    if (o < out.length) out[o++] = v & 255;
  }
  return out;
}

/**
 * A model read from an ONNX file by {@link loadOnnx} or {@link parseOnnx}: an `@axon/layers`
 * {@link Model} (so `compile`, `fit`, `evaluate`, `predict`, `stateDict`, `parameters` work) whose
 * `forward` interprets the ONNX graph with Axon core ops. Float initializers are trainable
 * parameters under their ONNX names; integer initializers and Constant nodes stay host constants,
 * and shape subgraphs (Shape, Gather, Concat, Unsqueeze, …) are evaluated on the host.
 * @example
 * const net = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 2));
 * const model = parseOnnx(await toOnnx(net, randn([1, 4])));
 * model.inputNames // ['input']
 * model.inputShapes // [[1, 4]]
 * Object.keys(model.stateDict()).sort() // ['0.bias', '0.weight', '2.bias', '2.weight']
 * model.forward(zeros([3, 4])).shape // [3, 2]
 * model.compile({ optimizer: 'sgd', loss: 'mse' }); // a Model: compile, fit, evaluate, predict
 */
export class OnnxModel extends Model {
  static readonly className: string = 'OnnxModel';
  /** The names of the graph's inputs, in the order `forward` takes them. */
  readonly inputNames: readonly string[];
  /** The names of the graph's outputs, in the order {@link OnnxModel.run} returns them. */
  readonly outputNames: readonly string[];
  /** Each input's declared shape (null for a symbolic dimension; the whole entry null when undeclared). */
  readonly inputShapes: readonly (readonly (number | null)[] | null)[];
  /** The default-domain opset the file was written for. */
  readonly opsetVersion: number;
  /** The producer named in the file (`pytorch 1.13.0`), or ''. */
  readonly producer: string;
  /** Each float initializer's ONNX name → its `stateDict()` key (the same unless mangled: see the README). */
  readonly parameterNames: ReadonlyMap<string, string>;
  declare private readonly _root: Module;
  declare private readonly _onnx: {
    readonly plan: readonly PlanStep[];
    readonly inputs: readonly InputInfo[];
    readonly values: ReadonlyMap<string, Value>;
    /** The parameters and buffers (never freed by a run). */
    readonly state: ReadonlySet<Tensor>;
  };
  declare private readonly _saved: {
    /** The model without its float initializers' values (what `getConfig` encodes). */
    readonly graph: ModelProto;
    readonly trainable: boolean;
    /** `getConfig`'s base64 graph, once encoded. */
    encoded: string | null;
  };

  /**
   * Reads an ONNX model from its bytes, as {@link parseOnnx} does.
   * @example
   * const bytes = await toOnnx(new Sequential(new Linear(2, 2)), randn([1, 2]));
   * new OnnxModel(bytes, { name: 'imported' }).name // 'imported'
   */
  constructor(bytes: Uint8Array, opts: OnnxLoadOptions = {}) {
    checkOptions(opts);
    const saved = buildingSaved;
    buildingSaved = false;
    const p = prepare(bytes, saved);
    super(opts.name ?? (p.graphName && !p.graphName.includes('.') ? p.graphName : 'onnx_model'));
    this.inputNames = p.inputs.map((i) => i.name);
    this.outputNames = p.outputs.slice();
    this.inputShapes = p.inputs.map((i) => i.shape);
    this.opsetVersion = p.opset;
    this.producer = p.producer;
    const values = new Map<string, Value>(p.consts);
    const names = new Map<string, string>();
    const trainable = opts.trainable ?? true;
    const root = new OnnxScope(`${this.name}_parameters`);
    Object.defineProperty(this, '_root', { value: root, enumerable: false });
    const keys = assignKeys(this, root, p.floats.map((f) => f.name));
    const created: Tensor[] = [];
    try {
      for (const f of p.floats) {
        let t: Tensor;
        if (f.external) t = zeros(checkDims('loadOnnx', `initializer '${f.name}'`, f.proto.dims ?? []).dims); // its values come from the weights file
        else {
          const { dims, data } = decodeFloat32('loadOnnx', `initializer '${f.name}'`, f.proto);
          t = tensor(data, dims, 'float32');
        }
        created.push(t);
        const key = keys.get(f.name)!;
        const parts = key.split('.');
        // a top-level name is the model's own member; `fc` of `fc.weight` is a child (kept in a hidden root, see namedChildren)
        let owner: Module = parts.length === 1 ? this : root;
        for (const part of parts.slice(0, -1)) {
          const existing = owner.namedChildren().find(([n]) => n === part)?.[1];
          owner = existing ?? owner.registerModule(part, new OnnxScope(part));
        }
        const leaf = parts[parts.length - 1]!;
        const reg = trainable && !f.stat ? owner.registerParameter(leaf, t) : owner.registerBuffer(leaf, t);
        values.set(f.name, reg);
        names.set(f.name, key);
      }
    } catch (e) {
      for (const t of created) if (!t.isDisposed) t.dispose();
      throw e;
    }
    this.parameterNames = names;
    Object.defineProperty(this, '_saved', { value: { graph: p.stripped, trainable, encoded: null }, enumerable: false });
    Object.defineProperty(this, '_onnx', { value: { plan: p.plan, inputs: p.inputs, values, state: new Set([...values.values()].filter((v): v is Tensor => !isHost(v))) }, enumerable: false });
  }

  /**
   * The direct children: one module per first part of a dotted initializer name (`fc1` of
   * `fc1.weight`), so that `stateDict()` keys are the ONNX names.
   * @example
   * const model = parseOnnx(await toOnnx(new Sequential(new Linear(4, 2)), randn([1, 4])));
   * model.namedChildren().map(([n]) => n) // ['0']
   */
  override namedChildren(): [string, Module][] {
    const own = super.namedChildren();
    return this._root ? [...own, ...this._root.namedChildren()] : own;
  }

  /**
   * The parameters and buffers by name, in the ONNX file's initializer order (parameters and
   * BatchNormalization statistics interleaved as the file has them).
   * @example
   * const model = parseOnnx(await toOnnx(new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 2)), randn([1, 4])));
   * Object.keys(model.stateDict()) // ['0.weight', '0.bias', '2.weight', '2.bias']
   */
  override stateDict(): Record<string, Tensor> {
    const all = super.stateDict();
    const out: Record<string, Tensor> = {};
    for (const key of this.parameterNames?.values() ?? []) if (key in all) out[key] = all[key]!;
    for (const [k, t] of Object.entries(all)) if (!(k in out)) out[k] = t;
    return out;
  }

  /**
   * What `save` writes to `model.json` for this model: `graph`, the ONNX model (base64 protobuf)
   * with every float initializer's values left out (its name, dims and FLOAT type kept, its data
   * marked external: the values go to the weights file under their `stateDict()` keys), and
   * `trainable`. {@link OnnxModel.fromConfig} rebuilds the model from it (`loadModel` does so once
   * `@axon/onnx` is imported).
   * @example
   * const model = parseOnnx(await toOnnx(new Sequential(new Linear(4, 2)), randn([1, 4])));
   * const config = model.getConfig();
   * Object.keys(config) // ['graph', 'trainable']
   * typeof config['graph'] // 'string'
   */
  override getConfig(): LayerConfig {
    const s = this._saved;
    if (s.encoded === null) s.encoded = toBase64(encodeModel(s.graph));
    return { graph: s.encoded, trainable: s.trainable };
  }

  /**
   * A short description for `toString()` (the graph itself is in {@link OnnxModel.getConfig}).
   * @example
   * const model = parseOnnx(await toOnnx(new Sequential(new Linear(4, 2)), randn([1, 4])));
   * model.extraRepr() // "inputs=['input'], outputs=['output'], opset=17"
   */
  override extraRepr(): string {
    return `inputs=[${this.inputNames.map((n) => `'${n}'`).join(', ')}], outputs=[${this.outputNames.map((n) => `'${n}'`).join(', ')}], opset=${this.opsetVersion}`;
  }

  /**
   * Rebuilds a model from {@link OnnxModel.getConfig}'s config, with its parameters zero until its
   * weights are loaded (`loadModel`, `deserializeModel` and `loadModelFromUrl` call it through the
   * layer registry, then load the weights file). The graph is checked as {@link parseOnnx} checks
   * a file; a config that is not such a graph is an AxonError.
   * @example
   * const net = parseOnnx(await toOnnx(new Sequential(new Linear(4, 2)), randn([1, 4])));
   * const again = OnnxModel.fromConfig(net.getConfig(), 'again');
   * again.name // 'again'
   * again.loadStateDict(net.stateDict()) // { missingKeys: [], unexpectedKeys: [] }
   * OnnxModel.fromConfig({ graph: '%%%' }, 'bad') // throws: 'not base64'
   */
  static fromConfig(config: LayerConfig, name: string): OnnxModel {
    const op = 'OnnxModel.fromConfig';
    if (config === null || typeof config !== 'object' || Array.isArray(config)) throw new AxonError(op, `expects the config of OnnxModel.getConfig(), got ${fmtValue(config)}`);
    const graph = config['graph'];
    const trainable = config['trainable'];
    if (typeof graph !== 'string' || graph === '') throw new AxonError(op, `config.graph must be the base64 ONNX graph that OnnxModel.getConfig() writes, got ${fmtValue(graph)}`);
    if (trainable !== undefined && typeof trainable !== 'boolean') throw new AxonError(op, `config.trainable must be true or false, got ${fmtValue(trainable)}`);
    const bytes = fromBase64(op, graph);
    buildingSaved = true;
    try {
      return new OnnxModel(bytes, { name, ...(trainable === undefined ? {} : { trainable }) });
    } finally {
      buildingSaved = false;
    }
  }

  /**
   * The shape of one example (the first input's declared shape without its batch axis) when every
   * such dimension is known, else null. `fit` and `predict` check data against it.
   * @example
   * const model = parseOnnx(await toOnnx(new Sequential(new Conv2d(1, 2, 3)), randn([1, 1, 8, 8])));
   * model.inputShape // [1, 8, 8]
   */
  override get inputShape(): readonly number[] | null {
    const s = this.inputShapes?.[0];
    if (!s || s.length === 0 || this.inputNames.length !== 1) return null;
    const rest = s.slice(1);
    return rest.every((d): d is number => d !== null) ? rest : null;
  }

  /**
   * Runs the graph on `inputs` (one tensor per graph input, in {@link OnnxModel.inputNames}
   * order: float32 for float inputs, int32 for integer inputs such as token ids) and returns its
   * first output. Use {@link OnnxModel.run} for every output.
   * @example
   * const net = new Sequential(new Embedding(10, 4), new Linear(4, 3));
   * const model = parseOnnx(await toOnnx(net, tensor([[1, 2, 3]], [1, 3], 'int32')));
   * const tokens = tensor([[4, 5, 6, 7]], [1, 4], 'int32');
   * model.forward(tokens).shape // [1, 4, 3]
   */
  forward(...inputs: Tensor[]): Tensor {
    return this.run(...inputs)[0]!;
  }

  /**
   * Runs the graph and returns every output, in {@link OnnxModel.outputNames} order (the caller
   * owns them). Without gradients every intermediate tensor is freed as soon as its last reader
   * has run; with gradients they stay for `backward` (run it inside `tidy`, as `fit` does).
   * @example
   * const model = parseOnnx(await toOnnx(new Sequential(new Linear(4, 2), new Tanh()), randn([1, 4])));
   * const outputs = model.run(randn([5, 4]));
   * outputs.length // 1
   * outputs[0]!.shape // [5, 2]
   */
  run(...inputs: Tensor[]): Tensor[] {
    const op = `${this.className} '${this.name}'`;
    const info = this._onnx.inputs;
    if (inputs.length !== info.length) throw new AxonError(op, `expects ${info.length} input${info.length === 1 ? '' : 's'} (${info.map((i) => i.name).join(', ')}), got ${inputs.length}`);
    inputs.forEach((x, k) => {
      const i = info[k]!;
      if (!isTensor(x)) throw new AxonError(op, `input '${i.name}' must be a Tensor, got ${fmtValue(x)}`);
      if (x.isDisposed) throw new AxonError(op, `input '${i.name}' (tensor #${x.id}) was disposed`);
      const want = dtypeOf(i.kind);
      if (x.dtype !== want) throw new AxonError(op, `input '${i.name}' must be ${want} (the file declares ${dataTypeName(i.code)}), got ${x.dtype} ${fmtShape(x.shape)}`);
      if (i.shape && i.shape.length !== x.rank) throw new AxonError(op, `input '${i.name}' must have rank ${i.shape.length} (declared [${i.shape.map((d) => d ?? '?').join(', ')}]), got ${fmtShape(x.shape)}`);
    });
    const exec = (): Tensor[] => this.execute(op, inputs);
    // with gradients the intermediates stay for backward (failSafe still frees them on a failure)
    return isGradEnabled() ? failSafe(exec) : tidy(exec);
  }

  private execute(op: string, inputs: Tensor[]): Tensor[] {
    const vals = new Map<string, Value>(this._onnx.values);
    const state = this._onnx.state;
    this._onnx.inputs.forEach((i, k) => vals.set(i.name, inputs[k]!));
    const owned = new Set<Tensor>();
    const refs = new Map<Tensor, number>();
    const hold = (v: Value | undefined, d: number): void => {
      if (v === undefined || isHost(v) || !owned.has(v)) return;
      const n = (refs.get(v) ?? 0) + d;
      refs.set(v, n);
      if (n <= 0 && !v.requiresGrad && !v.savedForBackward && !v.isDisposed) {
        v.dispose();
        owned.delete(v);
      }
    };
    // no cleanup here on failure: tidy (no gradients) or failSafe (gradients) around the call frees it
    {
      for (const step of this._onnx.plan) {
        const ins = step.inputs.map((n) => (n ? vals.get(n) : undefined));
        const temps: Tensor[] = [];
        let outs: Value[];
        try {
          outs = OPS[step.opType]!.run({ op: step.label, node: step.node, attrs: step.attrs, inputs: ins, temps });
        } catch (e) {
          for (const t of temps) if (!t.isDisposed && !t.savedForBackward) t.dispose();
          // a core op's error names the op, not the node: say which node of which model failed
          if (e instanceof AxonError && !e.message.startsWith(op)) throw new AxonError(op, e.message.includes(step.label) ? e.message : `node ${step.label}: ${e.message}`);
          throw e;
        }
        for (let k = step.outputs.length; k > outs.length; k--) if (step.outputs[k - 1]) throw new AxonError(step.label, `produced no output ${k - 1} ('${step.outputs[k - 1]}')`);
        outs.forEach((v, k) => {
          const name = step.outputs[k] ?? '';
          if (isHost(v)) {
            if (name) vals.set(name, v);
            return;
          }
          const fresh = !owned.has(v) && !state.has(v) && !inputs.includes(v) && !ins.includes(v);
          if (!name) {
            // an output the graph does not use (LSTM's Y_c, …): freed now unless another name holds it
            const named = outs.some((o, j) => j !== k && o === v && step.outputs[j]);
            if (fresh && !named && !v.requiresGrad && !v.savedForBackward && !v.isDisposed) v.dispose();
            return;
          }
          if (fresh) owned.add(v);
          vals.set(name, v);
          hold(v, 1);
        });
        for (const t of temps) if (!outs.includes(t) && !t.savedForBackward && !t.isDisposed) t.dispose();
        for (const name of step.release) {
          hold(vals.get(name), -1);
          vals.delete(name);
        }
      }
      const given = new Set<Tensor>();
      const result = this.outputNames.map((name) => {
        const v = vals.get(name)!;
        if (isHost(v)) return toTensor(op, v);
        // a parameter, an input or an output listed twice is returned as a copy the caller owns
        const out = owned.has(v) && !given.has(v) ? v : clone(v);
        given.add(out);
        return out;
      });
      return result;
    }
  }
}

/**
 * The state-dict key of each float initializer: its ONNX name when that can be a dotted path of
 * modules, else the name with '.' replaced by '_' (and `_1`, `_2`, … when that is taken).
 */
const n_in = (o: object, k: string): boolean => k in o;

function assignKeys(model: Module, root: Module, names: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const leaves = new Set<string>();
  const prefixes = new Set<string>();
  const probe = new OnnxScope('probe');
  // a top-level name becomes a member of the model, the first part of a dotted name a child of the root
  const topTaken = (n: string): boolean => RESERVED.has(n) || n in model || n in root;
  const valid = (name: string): boolean => {
    const parts = name.split('.');
    if (parts.some((p) => p === '' || RESERVED.has(p))) return false;
    if (parts.length === 1 ? n_in(model, name) : n_in(probe, parts[0]!)) return false;
    if (parts.slice(1).some((p) => p in probe)) return false;
    if (leaves.has(name) || prefixes.has(name)) return false;
    for (let k = 1; k < parts.length; k++) if (leaves.has(parts.slice(0, k).join('.'))) return false;
    return true;
  };
  const take = (name: string, key: string): void => {
    out.set(name, key);
    leaves.add(key);
    const parts = key.split('.');
    for (let k = 1; k < parts.length; k++) prefixes.add(parts.slice(0, k).join('.'));
  };
  const all = new Set(names);
  // a name that is also the start of another (`fc` and `fc.weight`) is mangled
  const isPrefix = (n: string): boolean => names.some((o) => o !== n && o.startsWith(`${n}.`));
  const later: string[] = [];
  for (const n of names) {
    if (!isPrefix(n) && valid(n)) take(n, n);
    else later.push(n);
  }
  for (const n of later) {
    const flat = n.replace(/\./g, '_');
    const base = flat === '' || topTaken(flat) ? `onnx_${flat}` : flat;
    let key = base;
    for (let k = 1; leaves.has(key) || prefixes.has(key) || topTaken(key) || (all.has(key) && key !== n); k++) key = `${base}_${k}`;
    take(n, key);
  }
  probe.dispose();
  return out;
}

/**
 * Reads an ONNX model from its bytes (synchronous; works in browsers): the whole graph is checked
 * first — opset, operators, attribute types, that every input is produced, unique names, no
 * cycle, initializer sizes against their data — then float initializers become parameters.
 * @example
 * const bytes = await toOnnx(new Sequential(new Linear(3, 1)), randn([1, 3]));
 * const model = parseOnnx(bytes);
 * model.opsetVersion // 17
 * model.producer.startsWith('axon') // true
 * parseOnnx(new Uint8Array([0xff, 0xff, 0xff])) // throws: 'not a valid ONNX'
 */
export function parseOnnx(bytes: Uint8Array, opts: OnnxLoadOptions = {}): OnnxModel {
  return new OnnxModel(bytes, opts);
}

function checkOptions(opts: unknown): void {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) fail(`options must be an object, got ${fmtValue(opts)}`);
  const bad = Object.keys(opts).filter((k) => k !== 'name' && k !== 'trainable');
  if (bad.length) fail(`unknown option${bad.length > 1 ? 's' : ''} ${bad.map((k) => `'${k}'`).join(', ')}; known: name, trainable`);
  const o = opts as OnnxLoadOptions;
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name === '')) fail(`name must be a non-empty string, got ${fmtValue(o.name)}`);
  if (o.trainable !== undefined && typeof o.trainable !== 'boolean') fail(`trainable must be true or false, got ${fmtValue(o.trainable)}`);
}

/**
 * Loads an ONNX model from a file path (Node) or from its bytes; see {@link parseOnnx}.
 * @example
 * import { writeFile } from 'node:fs/promises';
 * await writeFile('tiny.onnx', await toOnnx(new Sequential(new Linear(3, 2)), randn([1, 3])));
 * const model = await loadOnnx('tiny.onnx');
 * model.predict(randn([4, 3])).shape // [4, 2]
 * await loadOnnx('no-such-file.onnx') // throws: 'no-such-file.onnx'
 */
export async function loadOnnx(source: string | Uint8Array, opts: OnnxLoadOptions = {}): Promise<OnnxModel> {
  checkOptions(opts);
  if (typeof source === 'string') return parseOnnx(await readRegularFile('loadOnnx', source), opts);
  if (source instanceof Uint8Array) return parseOnnx(source, opts);
  fail(`expects a file path or the bytes of an ONNX file, got ${fmtValue(source)}`);
}

// `loadModel`, `deserializeModel` and `loadModelFromUrl` of @axon/layers rebuild an OnnxModel
// saved by `save` once this package is imported
registerLayer(OnnxModel.className, (config, name) => OnnxModel.fromConfig(config, name));
