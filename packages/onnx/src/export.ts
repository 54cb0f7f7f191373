/**
 * ONNX export: run the model once on a sample input with core's tracer installed, take the ops
 * its output depends on, and write each as ONNX nodes (opset 17 or 18). Parameters and buffers
 * become initializers under their state-dict names; values that do not depend on the input or
 * the parameters (masks, scalars, positional tables) become constant initializers. Shapes are
 * the sample's (static), as `torch.onnx.export` does without `dynamic_axes`.
 */
import { AxonError, type DType, OP_TABLE, type OpAttrs, Sym, type Tensor, type TableOpName, type TracedOp, type Window2d, concat, fmtShape, fmtValue, isTensor, keep, noGrad, setTraceHook, tidy } from '@axon/core';
import { type Module, type RecurrentRun, setRecurrentExportHook } from '@axon/layers';
import { DataType, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto, decodeModel, encodeModel } from './proto.js';

/**
 * Options of {@link toOnnx} and {@link exportOnnx}.
 * @example
 * const opts: ExportOnnxOptions = { opset: 18, inputNames: ['pixels'], outputNames: ['logits'] };
 * const bytes = await toOnnx(new Linear(4, 2), randn([1, 4]), opts);
 * bytes.length > 0 // true
 */
export interface ExportOnnxOptions {
  /** The ONNX opset: 17 (default) or 18. */
  readonly opset?: number;
  /** Names of the graph's inputs (default `input`, or `input_0`, `input_1`, … for several). */
  readonly inputNames?: readonly string[];
  /** Names of the graph's outputs (default `output`, or `output_0`, …). */
  readonly outputNames?: readonly string[];
  /** The model's `doc_string`. */
  readonly docString?: string;
  /**
   * Make the leading (batch) dimension of the inputs and outputs symbolic (`'batch'`), so the
   * file runs at any batch size. Checked: the model is traced at the sample's batch and at one
   * more, and the two graphs must be the same — an `AxonError` says where they differ (a model
   * that folds the batch into another dimension, or builds a batch-sized constant, is refused
   * rather than exported wrong). Default false (static shapes, as `torch.onnx.export` without
   * `dynamic_axes`). For time-major data (axis 1 is the batch) use `dynamicAxes`.
   */
  readonly dynamicBatch?: boolean;
  /**
   * Symbolic dimensions by input or output name, as `torch.onnx.export`'s `dynamic_axes`:
   * `{ input: { 0: 'batch', 1: 'sequence' }, output: { 0: 'batch', 1: 'sequence' } }`. Checked as
   * `dynamicBatch` is: the model is traced again with every named input axis one longer, and the
   * graph must not change (an `AxonError` names the node that does, or the output whose dimension
   * changed without a name). Recurrent layers exported as ONNX LSTM/GRU/RNN nodes run at any
   * sequence length this way.
   */
  readonly dynamicAxes?: Readonly<Record<string, Readonly<Record<number, string>>>>;
}

/** Symbolic dimensions: the batch size written as `'batch'` in axis 0 (dynamicBatch), and named axes by value name. */
interface Dynamic {
  readonly batch: number | null;
  readonly axes: ReadonlyMap<string, ReadonlyMap<number, string>>;
}

function checkDynamicAxes(v: unknown): Map<string, Map<number, string>> {
  const out = new Map<string, Map<number, string>>();
  if (v === undefined) return out;
  const bad = (why: string): never => {
    throw new AxonError(OP, `dynamicAxes must map input/output names to { axis: name } objects (e.g. { input: { 1: 'sequence' } }): ${why}`);
  };
  if (v === null || typeof v !== 'object' || Array.isArray(v) || isTensor(v)) bad(`got ${fmtValue(v)}`);
  for (const [name, axes] of Object.entries(v as Record<string, unknown>)) {
    if (axes === null || typeof axes !== 'object' || Array.isArray(axes)) bad(`'${name}' maps to ${fmtValue(axes)}`);
    const m = new Map<number, string>();
    for (const [k, sym] of Object.entries(axes as Record<string, unknown>)) {
      if (!/^(0|[1-9][0-9]{0,5})$/.test(k)) bad(`'${name}' has axis '${k}', expected a non-negative integer`);
      if (typeof sym !== 'string' || sym === '') bad(`'${name}' axis ${k} is named ${fmtValue(sym)}, expected a non-empty string`);
      m.set(Number(k), sym as string);
    }
    out.set(name, m);
  }
  return out;
}

/** The opsets {@link toOnnx} writes. */
export const EXPORT_OPSETS: readonly number[] = [17, 18];

const OP = 'exportOnnx';
const OPTION_KEYS: readonly string[] = ['opset', 'inputNames', 'outputNames', 'docString', 'dynamicBatch', 'dynamicAxes'];

interface TNode {
  /** A traced op, or `recurrent`: one recurrent module's run (attrs.run), emitted as ONNX RNN/GRU/LSTM nodes. */
  readonly op: TracedOp | 'recurrent';
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  readonly attrs: OpAttrs;
}

const ELEM: Readonly<Record<DType, number>> = { float32: DataType.FLOAT, int32: DataType.INT32, bool: DataType.BOOL };

function leBytes(data: Float32Array | Int32Array | Uint8Array | Float64Array | BigInt64Array): Uint8Array {
  const out = new Uint8Array(data.byteLength);
  const dv = new DataView(out.buffer);
  if (data instanceof Uint8Array) out.set(data);
  else if (data instanceof Float32Array) data.forEach((v, i) => dv.setFloat32(i * 4, v, true));
  else if (data instanceof Int32Array) data.forEach((v, i) => dv.setInt32(i * 4, v, true));
  else if (data instanceof Float64Array) data.forEach((v, i) => dv.setFloat64(i * 8, v, true));
  else data.forEach((v, i) => dv.setBigInt64(i * 8, v, true));
  return out;
}

/** What the trace found: the nodes in order, and the tensors it made that must be freed. */
interface Trace {
  readonly producer: Map<Tensor, { node: TNode; index: number }>;
  readonly owned: Tensor[];
  readonly outputs: Tensor[];
}

function collectOutputs(r: unknown): Tensor[] {
  if (isTensor(r)) return [r];
  if (Array.isArray(r) && r.length > 0 && r.every(isTensor)) return r;
  throw new AxonError(OP, `the model's forward must return a Tensor or an array of Tensors, got ${fmtValue(r)}`);
}

function runTrace(model: Module<Tensor | Tensor[]>, inputs: readonly Tensor[], roots: ReadonlySet<Tensor>): Trace {
  const tainted = new Set<Tensor>(roots);
  const producer = new Map<Tensor, { node: TNode; index: number }>();
  const owned: Tensor[] = [];
  const clones = new Map<Tensor, Tensor>();
  let busy = false;
  const constant = (t: Tensor): Tensor => {
    let c = clones.get(t);
    if (c === undefined) {
      busy = true;
      try {
        c = keep(t.clone());
      } finally {
        busy = false;
      }
      clones.set(t, c);
      owned.push(c);
    }
    return c;
  };
  const prev = setTraceHook((op, ins, outs, attrs) => {
    if (busy) return;
    if (op === 'hostRead') {
      if (tainted.has(ins[0]!)) {
        throw new AxonError(OP, `the model's forward reads the values of a tensor computed from its inputs on the host (${ins[0]!.dtype} ${fmtShape(ins[0]!.shape)}: data(), dataSync(), item(), …); the exported graph would hold what they were for the sample input as constants — write that step with tensor ops`);
      }
      return;
    }
    const attrTensors = Object.values(attrs).filter(isTensor);
    if (!ins.some((t) => tainted.has(t)) && !attrTensors.some((t) => tainted.has(t))) return; // folds to a constant
    // Inputs that do not depend on the graph's inputs are copied now: the op's temporaries
    // (scalars, casts) are freed as soon as it returns.
    const a: Record<string, unknown> = { ...attrs };
    for (const [k, v] of Object.entries(attrs)) if (isTensor(v) && !tainted.has(v)) a[k] = constant(v);
    const node: TNode = { op, inputs: ins.map((t) => (tainted.has(t) ? t : constant(t))), outputs: [...outs], attrs: a };
    outs.forEach((o, index) => {
      tainted.add(o);
      producer.set(o, { node, index });
    });
  });
  // A recurrent module's run becomes one node (its inside is not traced) when ONNX's RNN/GRU/LSTM
  // express it exactly; otherwise (masks, other activations) its ops are traced (unrolled).
  const prevRecurrent = setRecurrentExportHook((run) => {
    if (busy || !recurrentAsNode(run)) return null;
    const ins = recurrentInputs(run);
    if (!ins.some((t) => tainted.has(t))) return null; // folds to a constant
    return (outs) => {
      const node: TNode = { op: 'recurrent', inputs: ins.map((t) => (tainted.has(t) ? t : constant(t))), outputs: [...outs], attrs: { run } as unknown as OpAttrs };
      outs.forEach((o, index) => {
        tainted.add(o);
        producer.set(o, { node, index });
      });
    };
  });
  const modes = model.modules().map((m) => [m, m.training] as const);
  try {
    model.eval();
    const outputs = tidy(() => {
      const r: unknown = noGrad(() => (model.forward as (...xs: Tensor[]) => unknown)(...inputs));
      return collectOutputs(r).map((t) => keep(t));
    });
    return { producer, owned, outputs };
  } catch (e) {
    for (const t of owned) t.dispose();
    throw e;
  } finally {
    setTraceHook(prev);
    setRecurrentExportHook(prevRecurrent);
    for (const [m, t] of modes) m.training = t;
  }
}

/** Builds the ONNX graph's nodes and initializers. */
class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  /** Tensors whose values are read when the graph is done: parameters (initializers) and constants (Constant nodes). */
  private readonly pending: { name: string; t: Tensor; order: number; constant: TensorProto | null }[] = [];
  private readonly names = new Map<Tensor, string>();
  private readonly used = new Set<string>();
  private readonly consts = new Map<string, string>();
  private count = 0;

  constructor(readonly opset: number) {}

  unique(base: string): string {
    let n = base;
    for (let i = 1; this.used.has(n); i++) n = `${base}_${i}`;
    this.used.add(n);
    return n;
  }

  fresh(hint: string): string {
    return this.unique(`${hint}_${this.count++}`);
  }

  nameOf(t: Tensor): string | undefined {
    return this.names.get(t);
  }

  setName(t: Tensor, name: string): void {
    this.names.set(t, name);
  }

  /** A parameter's values as an initializer (read when the graph is done); `order` sorts them. */
  initializer(t: Tensor, name: string, order: number): string {
    this.names.set(t, name);
    this.pending.push({ name, t, order, constant: null });
    return name;
  }

  /**
   * A constant's values as a Constant node (read when the graph is done): constants are not
   * initializers, so an importer does not take them for weights to train.
   */
  constantOf(t: Tensor): string {
    const name = this.fresh('const');
    const proto: TensorProto = { name, dims: [...t.shape], dataType: ELEM[t.dtype] };
    this.constant(name, proto);
    this.names.set(t, name);
    this.pending.push({ name, t, order: 0, constant: proto });
    return name;
  }

  /** A Constant node holding `value` (its data may be filled in later). */
  constant(name: string, value: TensorProto): void {
    this.nodes.push({ opType: 'Constant', input: [], output: [name], name: this.unique(`Constant_${this.nodes.length}`), attribute: [{ name: 'value', type: 4, t: value }] });
  }

  /** An int64 constant (shapes, axes, pads). */
  ints(values: readonly number[], scalar = false): string {
    const key = `i64:${scalar ? 's' : ''}${values.join(',')}`;
    let n = this.consts.get(key);
    if (n === undefined) {
      n = this.fresh('const_i64');
      this.constant(n, { dims: scalar ? [] : [values.length], dataType: DataType.INT64, rawData: leBytes(BigInt64Array.from(values, (v) => BigInt(v))) });
      this.consts.set(key, n);
    }
    return n;
  }

  /** A scalar constant of a dtype. */
  scalar(v: number, dtype: DType = 'float32'): string {
    const key = `${dtype}:${Object.is(v, -0) ? '-0' : String(v)}`;
    let n = this.consts.get(key);
    if (n === undefined) {
      n = this.fresh('const');
      const data = dtype === 'float32' ? new Float32Array([v]) : dtype === 'int32' ? new Int32Array([v]) : new Uint8Array([v ? 1 : 0]);
      this.constant(n, { dims: [], dataType: ELEM[dtype], rawData: leBytes(data) });
      this.consts.set(key, n);
    }
    return n;
  }

  /** Adds a node; returns its (first) output name. */
  node(opType: string, inputs: readonly string[], attrs: Record<string, number | readonly number[] | string | readonly string[]> = {}, output?: string | string[]): string {
    const outs = output === undefined ? [this.fresh(opType.toLowerCase())] : Array.isArray(output) ? output : [output];
    const attribute = Object.entries(attrs).map(([name, v]) => {
      if (typeof v === 'string') return { name, type: 3, s: new TextEncoder().encode(v) };
      if (typeof v === 'number') return Number.isInteger(v) && !FLOAT_ATTRS.has(name) ? { name, type: 2, i: v } : { name, type: 1, f: v };
      if (v.every((e): e is string => typeof e === 'string')) return { name, type: 8, strings: v.map((e) => new TextEncoder().encode(e)) };
      return { name, type: 7, ints: [...(v as readonly number[])] };
    });
    this.nodes.push({ opType, input: [...inputs], output: outs, name: this.unique(`${opType}_${this.nodes.length}`), attribute });
    return outs[0]!;
  }

  async finish(): Promise<void> {
    const params: { order: number; proto: TensorProto }[] = [];
    for (const { name, t, order, constant } of this.pending) {
      const rawData = leBytes((await t.data()) as Float32Array | Int32Array | Uint8Array);
      if (constant !== null) constant.rawData = rawData;
      else params.push({ order, proto: { name, dims: [...t.shape], dataType: ELEM[t.dtype], rawData } });
    }
    // in the model's stateDict() order
    this.initializers.push(...params.sort((a, b) => a.order - b.order).map((p) => p.proto));
  }
}

const FLOAT_ATTRS = new Set(['alpha', 'beta', 'epsilon', 'value_float']);

const UNARY: Readonly<Record<string, string>> = {
  neg: 'Neg', abs: 'Abs', sign: 'Sign', exp: 'Exp', log: 'Log', sqrt: 'Sqrt', reciprocal: 'Reciprocal',
  sin: 'Sin', cos: 'Cos', tanh: 'Tanh', erf: 'Erf', sigmoid: 'Sigmoid', relu: 'Relu', floor: 'Floor',
  ceil: 'Ceil', round: 'Round', not: 'Not', identity: 'Identity',
};
const BINARY: Readonly<Record<string, string>> = {
  add: 'Add', sub: 'Sub', mul: 'Mul', div: 'Div', pow: 'Pow', maximum: 'Max', minimum: 'Min', max: 'Max', min: 'Min',
  eq: 'Equal', lt: 'Less', le: 'LessOrEqual', gt: 'Greater', ge: 'GreaterOrEqual', and: 'And', or: 'Or', xor: 'Xor',
};
const COMPARE = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);

/** Unary ops (core's and the op table's primitives) as ONNX nodes over value `x`. */
function unary(g: GraphBuilder, op: string, x: string, dtype: DType): string {
  const one = (): string => g.scalar(1, dtype);
  switch (op) {
    case 'log1p':
      return g.node('Log', [g.node('Add', [x, one()])]);
    case 'expm1':
      return g.node('Sub', [g.node('Exp', [x]), one()]);
    case 'rsqrt':
      return g.node('Reciprocal', [g.node('Sqrt', [x])]);
    case 'square':
      return g.node('Mul', [x, x]);
    default: {
      const t = UNARY[op];
      if (t === undefined) throw new AxonError(OP, `op '${op}' has no ONNX equivalent in this exporter`);
      return g.node(t, [x]);
    }
  }
}

/** Binary ops over values of one dtype (comparisons give bool). */
function binary(g: GraphBuilder, op: string, a: string, b: string, dtype: DType): string {
  if (op === 'ne') return g.node('Not', [g.node('Equal', [a, b])]);
  if (op === 'mod') {
    if (dtype === 'int32') return g.node('Mod', [a, b], { fmod: 0 });
    // Python's modulo (the sign of the divisor): a − floor(a / b)·b
    return g.node('Sub', [a, g.node('Mul', [g.node('Floor', [g.node('Div', [a, b])]), b])]);
  }
  if (op === 'and' || op === 'or' || op === 'xor') {
    const ab = dtype === 'bool' ? a : g.node('Cast', [a], { to: DataType.BOOL });
    const bb = dtype === 'bool' ? b : g.node('Cast', [b], { to: DataType.BOOL });
    return g.node(BINARY[op]!, [ab, bb]);
  }
  const t = BINARY[op];
  if (t === undefined) throw new AxonError(OP, `op '${op}' has no ONNX equivalent in this exporter`);
  return g.node(t, [a, b]);
}

type Expr = { k: 'leaf' } | { k: 'const'; v: number } | { k: 'op'; op: string; args: readonly Expr[] };

/** An op-table op: its forward expression (written with `Sym`) as ONNX nodes. */
function tableOp(g: GraphBuilder, name: TableOpName, x: string): string {
  const leaf: Expr = { k: 'leaf' };
  const def = OP_TABLE[name] as { forward: (s: Sym) => Sym };
  const root = def.forward(new Sym(leaf as never)).e as unknown as Expr;
  const memo = new Map<Expr, string>();
  const emit = (e: Expr): string => {
    const hit = memo.get(e);
    if (hit !== undefined) return hit;
    let v: string;
    if (e.k === 'leaf') v = x;
    else if (e.k === 'const') v = g.scalar(e.v);
    else if (e.op === 'where') {
      const [c, a, b] = e.args.map(emit) as [string, string, string];
      v = g.node('Where', [g.node('Cast', [c], { to: DataType.BOOL }), a, b]);
    } else if (e.args.length === 1) v = unary(g, e.op, emit(e.args[0]!), 'float32');
    else {
      const r = binary(g, e.op, emit(e.args[0]!), emit(e.args[1]!), 'float32');
      // in a fused expression a comparison is 1 or 0
      v = COMPARE.has(e.op) ? g.node('Cast', [r], { to: DataType.FLOAT }) : r;
    }
    memo.set(e, v);
    return v;
  };
  return emit(root);
}

/** A convolution's or pooling's window, as core's window2d records it (with its bottom/right padding). */
type Win = Window2d & { readonly padBottom: number; readonly padRight: number };

/** The axes of `a` whose removal (all of size 1) leaves `b`, or null when `b` is not `a` less unit dims. */
function unitAxes(a: readonly number[], b: readonly number[]): number[] | null {
  const surplus = a.length - b.length;
  if (surplus <= 0) return null;
  const axes: number[] = [];
  let j = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === 1 && axes.length < surplus) axes.push(i);
    else if (j < b.length && a[i] === b[j]) j++;
    else return null;
  }
  return j === b.length && axes.length === surplus ? axes : null;
}

function reduceNode(g: GraphBuilder, type: string, x: string, axes: readonly number[], keepDims: boolean): string {
  if (type === 'ReduceSum' || g.opset >= 18) return g.node(type, [x, g.ints(axes)], { keepdims: keepDims ? 1 : 0 });
  return g.node(type, [x], { axes, keepdims: keepDims ? 1 : 0 });
}

// ------------------------------------------------------------------ recurrent layers as nodes

/** ONNX's gate order from each front's: LSTM i,o,f,c from i,f,g,o (PyTorch) / i,f,c,o (Keras); GRU z,r,h from r,z,n (PyTorch) / z,r,h (Keras). */
function gatePerm(run: RecurrentRun): readonly number[] {
  if (run.kind === 'LSTM') return [0, 3, 1, 2];
  if (run.kind === 'GRU') return run.front === 'torch' ? [1, 0, 2] : [0, 1, 2];
  return [0];
}

/** Whether ONNX's RNN/GRU/LSTM compute exactly what the module computes. */
function recurrentAsNode(run: RecurrentRun): boolean {
  if (run.front === 'torch') return !run.dropoutActive;
  if (run.masked) return false; // a mask can skip any step; ONNX's sequence_lens covers trailing padding only
  if (run.kind === 'RNN_TANH') return run.activation === 'tanh' || run.activation === 'relu';
  return run.activation === 'tanh' && run.recurrentActivation === 'sigmoid';
}

/** The tensors a run's node reads, in the order `emitRecurrent` expects: x, h0?, c0?, then the weights. */
function recurrentInputs(run: RecurrentRun): Tensor[] {
  const ins: Tensor[] = [run.x];
  if (run.h0 !== null) ins.push(run.h0);
  if (run.c0 !== null) ins.push(run.c0);
  if (run.front === 'torch') for (const w of run.weights) ins.push(w.ih, w.hh, ...(w.bih ? [w.bih] : []), ...(w.bhh ? [w.bhh] : []));
  else ins.push(run.kernel, run.recurrentKernel, ...(run.bias ? [run.bias] : []));
  return ins;
}

/**
 * A recurrent module's run as ONNX nodes, as `torch.onnx.export` writes them: one LSTM/GRU/RNN node
 * per layer (directions in one node), Squeeze or Transpose + Reshape between layers, Transpose for
 * batch-first data; the weights repacked from the parameters (gate blocks reordered, W [D, G·H, In],
 * R [D, G·H, H], B [D, 2·G·H]) by nodes, so the parameters stay initializers under their names.
 * Omitted initial states are zeros in ONNX too, so nothing depends on the batch or sequence length.
 */
function emitRecurrent(g: GraphBuilder, run: RecurrentRun, ins: readonly string[], outNames: readonly (string | undefined)[], need: readonly boolean[]): string[] {
  const H = run.hidden;
  const G = run.kind === 'LSTM' ? 4 : run.kind === 'GRU' ? 3 : 1;
  const opType = run.kind === 'LSTM' ? 'LSTM' : run.kind === 'GRU' ? 'GRU' : 'RNN';
  const perm = gatePerm(run);
  let k = 0;
  const x = ins[k++]!;
  const h0 = run.h0 !== null ? ins[k++]! : null;
  const c0 = run.c0 !== null ? ins[k++]! : null;
  /** A [G·H, …] weight's gate blocks (axis 0) in ONNX's order. */
  const reorder = (w: string): string => {
    if (perm.every((p, i) => p === i)) return w;
    const parts = Array.from({ length: G }, () => g.fresh('gate'));
    g.node('Split', [w, g.ints(new Array<number>(G).fill(H))], { axis: 0 }, parts);
    return g.node('Concat', perm.map((p) => parts[p]!), { axis: 0 });
  };
  const unsq0 = (v: string): string => g.node('Unsqueeze', [v, g.ints([0])]);
  const stackDirs = (vs: readonly string[]): string => (vs.length === 1 ? unsq0(vs[0]!) : g.node('Concat', vs.map(unsq0), { axis: 0 }));
  const attrs: Record<string, number | string | readonly number[]> = { hidden_size: H };
  const finish = (v: string, i: number): string => {
    const want = outNames[i];
    if (want === undefined || want === v) return v;
    g.node('Identity', [v], {}, want);
    return want;
  };
  /** One node over time-major `seq` [T, B, In]; returns Y [T, D, B, H], Y_h, Y_c [D, B, H]. */
  const layer = (seq: string, W: string, R: string, B: string | null, hInit: string | null, cInit: string | null, direction: string): string[] => {
    const a: Record<string, number | string | readonly number[] | readonly string[]> = { ...attrs, direction };
    if (run.kind === 'GRU') a['linear_before_reset'] = run.front === 'torch' || run.resetAfter ? 1 : 0;
    if (run.kind === 'RNN_RELU' || (run.front === 'keras' && run.kind === 'RNN_TANH' && run.activation === 'relu')) a['activations'] = direction === 'bidirectional' ? ['Relu', 'Relu'] : ['Relu'];
    const inputs = [seq, W, R, B ?? '', '', hInit ?? '', ...(run.kind === 'LSTM' ? [cInit ?? ''] : [])];
    while (inputs[inputs.length - 1] === '') inputs.pop();
    const outs = [g.fresh('Y'), g.fresh('Y_h'), ...(run.kind === 'LSTM' ? [g.fresh('Y_c')] : [])];
    g.node(opType, inputs, a, outs);
    return outs;
  };
  if (run.front === 'torch') {
    const D = run.bidirectional ? 2 : 1;
    const L = run.numLayers;
    const ws: { ih: string; hh: string; bih: string | null; bhh: string | null }[] = [];
    for (const w of run.weights) ws.push({ ih: ins[k++]!, hh: ins[k++]!, bih: w.bih ? ins[k++]! : null, bhh: w.bhh ? ins[k++]! : null });
    let seq = run.batched ? (run.batchFirst ? g.node('Transpose', [x], { perm: [1, 0, 2] }) : x) : g.node('Unsqueeze', [x, g.ints([1])]);
    const state = (s: string | null): string | null => (s === null ? null : run.batched ? s : g.node('Unsqueeze', [s, g.ints([1])]));
    const hs = state(h0);
    const cs = state(c0);
    const perLayer = (s: string | null, l: number): string | null => (s === null ? null : L === 1 ? s : g.node('Slice', [s, g.ints([l * D]), g.ints([(l + 1) * D]), g.ints([0])]));
    const hN: string[] = [];
    const cN: string[] = [];
    for (let l = 0; l < L; l++) {
      const dirs = ws.slice(l * D, (l + 1) * D);
      const W = stackDirs(dirs.map((d) => reorder(d.ih)));
      const R = stackDirs(dirs.map((d) => reorder(d.hh)));
      const B = dirs[0]!.bih === null ? null : stackDirs(dirs.map((d) => g.node('Concat', [reorder(d.bih!), reorder(d.bhh!)], { axis: 0 })));
      const [Y, Yh, Yc] = layer(seq, W, R, B, perLayer(hs, l), perLayer(cs, l), D === 2 ? 'bidirectional' : 'forward');
      hN.push(Yh!);
      if (Yc !== undefined) cN.push(Yc);
      // [T, D, B, H] → [T, B, D·H] (the last layer's only when the output is read)
      if (l === L - 1 && !need[0]) break;
      seq = D === 1 ? g.node('Squeeze', [Y!, g.ints([1])]) : g.node('Reshape', [g.node('Transpose', [Y!], { perm: [0, 2, 1, 3] }), g.ints([0, 0, -1])]);
    }
    // outputs nothing reads get no nodes (their names stay unset)
    const out = (): string => (run.batched ? (run.batchFirst ? g.node('Transpose', [seq], { perm: [1, 0, 2] }) : seq) : g.node('Squeeze', [seq, g.ints([1])]));
    const states = (vs: readonly string[]): string => {
      const v = vs.length === 1 ? vs[0]! : g.node('Concat', vs, { axis: 0 });
      return run.batched ? v : g.node('Squeeze', [v, g.ints([1])]);
    };
    const res = [need[0] ? finish(out(), 0) : '', need[1] ? finish(states(hN), 1) : ''];
    if (run.kind === 'LSTM') res.push(need[2] ? finish(states(cN), 2) : '');
    return res;
  }
  // Keras: x [B, T, I], one direction (reverse for goBackwards), states [B, units]
  const kernel = ins[k++]!;
  const recurrent = ins[k++]!;
  const bias = run.bias !== null ? ins[k++]! : null;
  const W = unsq0(reorder(g.node('Transpose', [kernel], { perm: [1, 0] })));
  const R = unsq0(reorder(g.node('Transpose', [recurrent], { perm: [1, 0] })));
  let B: string | null = null;
  if (bias !== null) {
    if (run.kind === 'GRU' && run.resetAfter) B = g.node('Reshape', [bias, g.ints([1, 2 * G * H])]); // [input; recurrent] biases, z,r,h both
    else {
      const zero = g.fresh('zero_bias');
      g.constant(zero, { dims: [G * H], dataType: DataType.FLOAT, rawData: new Uint8Array(4 * G * H) });
      B = unsq0(g.node('Concat', [reorder(bias), zero], { axis: 0 }));
    }
  }
  const seq = g.node('Transpose', [x], { perm: [1, 0, 2] });
  const [Y, Yh, Yc] = layer(seq, W, R, B, h0 === null ? null : unsq0(h0), c0 === null ? null : unsq0(c0), run.goBackwards ? 'reverse' : 'forward');
  let out = '';
  if (!need[0]) {
    // not read
  } else if (run.returnSequences) {
    let y = g.node('Squeeze', [Y!, g.ints([1])]); // [T, B, H], by input step
    // Keras gives the sequence in processing order: reversed for goBackwards
    if (run.goBackwards) y = g.node('Slice', [y, g.ints([-1]), g.ints([-9223372036854775808]), g.ints([0]), g.ints([-1])]);
    out = g.node('Transpose', [y], { perm: [1, 0, 2] });
  } else out = g.node('Squeeze', [Yh!, g.ints([0])]); // the last step processed is the final state
  const res = [need[0] ? finish(out, 0) : '', need[1] ? finish(g.node('Squeeze', [Yh!, g.ints([0])]), 1) : ''];
  if (run.kind === 'LSTM') res.push(need[2] ? finish(g.node('Squeeze', [Yc!, g.ints([0])]), 2) : '');
  return res;
}

/** Emits one traced op; `ins` are its inputs' value names; returns its outputs' value names. */
function emitNode(g: GraphBuilder, n: TNode, ins: readonly string[], outNames: readonly (string | undefined)[], used: ReadonlySet<Tensor>): string[] {
  const a = n.attrs;
  const x = ins[0]!;
  const t0 = n.inputs[0]!;
  const out0 = n.outputs[0]!;
  const want = outNames[0];
  const fin = (v: string): string[] => {
    if (want === undefined || v === want) return [v];
    g.node('Identity', [v], {}, want);
    return [want];
  };
  const op = n.op as string;
  if (op === 'recurrent') return emitRecurrent(g, (a as unknown as { run: RecurrentRun }).run, ins, outNames, n.outputs.map((o) => used.has(o)));
  if (op in OP_TABLE) return fin(tableOp(g, op as TableOpName, x));
  switch (op) {
    case 'identity':
      return fin(x);
    case 'cast':
      return fin(g.node('Cast', [x], { to: ELEM[a['to'] as DType] }));
    case 'clip': {
      const lo = a['lo'] as number | null;
      const hi = a['hi'] as number | null;
      const args = [x, lo === null || lo === undefined ? '' : g.scalar(lo, t0.dtype), hi === null || hi === undefined ? '' : g.scalar(hi, t0.dtype)];
      while (args[args.length - 1] === '') args.pop();
      return fin(g.node('Clip', args));
    }
    case 'where':
      return fin(g.node('Where', [n.inputs[2]!.dtype === 'bool' ? ins[2]! : g.node('Cast', [ins[2]!], { to: DataType.BOOL }), ins[0]!, ins[1]!]));
    case 'sum':
    case 'prod':
    case 'max':
    case 'min': {
      const axes = a['axes'] as readonly number[];
      if (axes.length === 0) return fin(x);
      const type = { sum: 'ReduceSum', prod: 'ReduceProd', max: 'ReduceMax', min: 'ReduceMin' }[op];
      return fin(reduceNode(g, type, x, axes, a['keepDims'] === true));
    }
    case 'argmax':
    case 'argmin': {
      const axes = a['axes'] as readonly number[];
      if (axes.length !== 1) throw new AxonError(OP, `${op} over ${axes.length} axes has no ONNX equivalent (ONNX's ArgMax takes one axis)`);
      const r = g.node(op === 'argmax' ? 'ArgMax' : 'ArgMin', [x], { axis: axes[0]!, keepdims: a['keepDims'] === true ? 1 : 0, select_last_index: 0 });
      return fin(g.node('Cast', [r], { to: ELEM[out0.dtype] }));
    }
    // A leading dimension that passes through (the batch) is written as "the input's" — 0 for
    // Reshape, 1 for Expand's broadcast — so the graph runs at other batch sizes (dynamicBatch).
    case 'reshape': {
      if (t0.rank > 0 && out0.rank > 0 && t0.shape[0] === out0.shape[0]) {
        return fin(g.node('Reshape', [x, g.ints(out0.shape.map((d, i) => (i === 0 ? 0 : d)))]));
      }
      // only size-1 dims removed or added: Squeeze/Unsqueeze, which keep every other dim as it comes
      const sq = unitAxes(t0.shape, out0.shape);
      if (sq !== null && sq.length > 0) return fin(g.node('Squeeze', [x, g.ints(sq)]));
      const usq = unitAxes(out0.shape, t0.shape);
      if (usq !== null && usq.length > 0) return fin(g.node('Unsqueeze', [x, g.ints(usq)]));
      return fin(g.node('Reshape', [x, g.ints(out0.shape)]));
    }
    case 'expand': {
      const off = out0.rank - t0.rank;
      return fin(g.node('Expand', [x, g.ints(out0.shape.map((d, i) => (i === 0 && off === 0 && t0.shape[0] === d ? 1 : d)))]));
    }
    case 'permute':
      return fin(g.node('Transpose', [x], { perm: a['axes'] as readonly number[] }));
    case 'slice': {
      const begin = a['begin'] as readonly number[];
      const size = a['size'] as readonly number[];
      const steps = (a['steps'] as readonly number[] | undefined) ?? begin.map(() => 1);
      const axes: number[] = [];
      const starts: number[] = [];
      const ends: number[] = [];
      const st: number[] = [];
      const from = a['from'] as readonly number[];
      for (let i = 0; i < begin.length; i++) {
        if (begin[i] === 0 && size[i] === from[i] && steps[i] === 1) continue;
        axes.push(i);
        starts.push(begin[i]!);
        ends.push(size[i] === 0 ? begin[i]! : begin[i]! + (size[i]! - 1) * steps[i]! + 1);
        st.push(steps[i]!);
      }
      if (axes.length === 0) return fin(x);
      return fin(g.node('Slice', [x, g.ints(starts), g.ints(ends), g.ints(axes), g.ints(st)]));
    }
    case 'concat':
      return fin(g.node('Concat', ins, { axis: a['axis'] as number }));
    case 'pad': {
      const p = a['paddings'] as readonly (readonly [number, number])[];
      const value = (a['value'] as number | undefined) ?? 0;
      return fin(g.node('Pad', [x, g.ints([...p.map((q) => q[0]), ...p.map((q) => q[1])]), g.scalar(value, t0.dtype)], { mode: 'constant' }));
    }
    case 'gather': {
      const idx = a['indices'] as Tensor;
      return fin(g.node('Gather', [x, valueName(g, idx)], { axis: a['axis'] as number }));
    }
    case 'matmul':
      return fin(g.node('MatMul', [x, ins[1]!]));
    case 'attention': {
      const [q, k, v] = ins as [string, string, string];
      const kr = n.inputs[1]!.rank;
      const perm = [...Array(kr).keys()];
      [perm[kr - 2], perm[kr - 1]] = [perm[kr - 1]!, perm[kr - 2]!];
      let s = g.node('Mul', [g.node('MatMul', [q, g.node('Transpose', [k], { perm })]), g.scalar(a['scale'] as number)]);
      const bias = n.inputs.length > 3 ? ins[3]! : isTensor(a['bias']) ? valueName(g, a['bias']) : null;
      if (bias !== null) s = g.node('Add', [s, bias]);
      if (a['causal'] === true) {
        const Tq = n.inputs[0]!.shape[n.inputs[0]!.rank - 2]!;
        const Tk = n.inputs[1]!.shape[kr - 2]!;
        const allowed = g.fresh('causal_mask');
        const m = new Uint8Array(Tq * Tk);
        for (let i = 0; i < Tq; i++) for (let j = 0; j <= Math.min(i, Tk - 1); j++) m[i * Tk + j] = 1;
        g.constant(allowed, { dims: [Tq, Tk], dataType: DataType.BOOL, rawData: m });
        s = g.node('Where', [allowed, s, g.scalar(-Infinity)]);
      }
      return fin(g.node('MatMul', [g.node('Softmax', [s], { axis: -1 }), v]));
    }
    case 'pool2d': {
      const w = a['win'] as Win;
      const common = { kernel_shape: [w.kH, w.kW], strides: [w.strideH, w.strideW], pads: [w.padTop, w.padLeft, w.padBottom, w.padRight] };
      if (a['op'] === 'max') return fin(g.node('MaxPool', [x], { ...common, dilations: [w.dilationH, w.dilationW] }));
      if (w.dilationH !== 1 || w.dilationW !== 1) throw new AxonError(OP, 'average pooling with dilation has no ONNX equivalent');
      return fin(g.node('AveragePool', [x], { ...common, count_include_pad: 0 }));
    }
    case 'conv2d': {
      const w = a['win'] as Win;
      return fin(
        g.node('Conv', ins, {
          kernel_shape: [w.kH, w.kW],
          strides: [w.strideH, w.strideW],
          pads: [w.padTop, w.padLeft, w.padBottom, w.padRight],
          dilations: [w.dilationH, w.dilationW],
          group: a['groups'] as number,
        }),
      );
    }
    case 'split':
    case 'unbind': {
      const axis = a['axis'] as number;
      const sizes = op === 'split' ? (a['sizes'] as readonly number[]) : n.outputs.map(() => 1);
      const names = n.outputs.map((o, i) => (op === 'split' ? (outNames[i] ?? g.fresh('split')) : g.fresh('split')));
      g.node('Split', [x, g.ints(sizes)], { axis }, names);
      if (op === 'split') return names;
      return names.map((nm, i) => g.node('Squeeze', [nm, g.ints([axis])], {}, outNames[i] ?? g.fresh('squeeze')));
    }
    default:
      if (op in UNARY || ['log1p', 'expm1', 'rsqrt', 'square'].includes(op)) return fin(unary(g, op, x, t0.dtype));
      if (op in BINARY || op === 'ne' || op === 'mod') return fin(binary(g, op, x, ins[1]!, n.inputs[0]!.dtype));
      throw new AxonError(OP, `op '${op}' (output ${fmtShape(out0.shape)}) cannot be exported to ONNX${op === 'im2col' || op === 'col2im' ? ' (unfold/fold outside conv2d)' : op === 'customGrad' ? ' (a customGrad function: export its forward written with ops instead)' : ''}`);
  }
}

/** The value name of a tensor already in the graph (an input, a parameter, a node's output or a constant). */
function valueName(g: GraphBuilder, t: Tensor): string {
  const n = g.nameOf(t);
  if (n === undefined) throw new AxonError(OP, `internal: tensor ${fmtShape(t.shape)} has no value in the graph`);
  return n;
}

function valueInfo(name: string, t: Tensor, dyn: Dynamic): ValueInfoProto {
  const named = dyn.axes.get(name);
  const dim = t.shape.map((d, i) => {
    const sym = named?.get(i) ?? (i === 0 && d === dyn.batch ? 'batch' : undefined);
    return sym !== undefined ? { dimParam: sym } : { dimValue: d };
  });
  return { name, type: { tensorType: { elemType: ELEM[t.dtype], shape: { dim } } } };
}

function checkNames(what: string, names: readonly string[] | undefined, count: number): string[] {
  const base = what === 'inputNames' ? 'input' : 'output';
  if (names === undefined) return count === 1 ? [base] : Array.from({ length: count }, (_, i) => `${base}_${i}`);
  if (!Array.isArray(names) || names.length !== count || !names.every((s) => typeof s === 'string' && s !== '') || new Set(names).size !== count) {
    throw new AxonError(OP, `${what} must be ${count} distinct non-empty strings, got ${fmtValue(names)}`);
  }
  return [...names];
}

/**
 * Converts a model to ONNX bytes (browser-usable): runs `model.forward` once on `sampleInput` (in
 * eval mode, without gradients; training mode is restored after) and writes the ops the output
 * depends on. Shapes are the sample's unless `dynamicBatch` / `dynamicAxes` make some symbolic.
 * Parameters and buffers become initializers named as in `model.stateDict()`. Supported: what
 * MLPs, CNNs (`conv2d`, pooling) and transformers (attention as MatMul/Softmax) are made of, and
 * recurrent layers as ONNX LSTM/GRU/RNN nodes (one per layer, any batch and sequence length;
 * unrolled over the sample's steps where ONNX cannot express them exactly: Keras masks, other
 * activations); an op without an ONNX equivalent is an `AxonError` naming it.
 * @example
 * const net = new Sequential(new Linear(3, 4), new ReLU(), new Linear(4, 2));
 * const bytes = await toOnnx(net, randn([5, 3]));
 * const back = parseOnnx(bytes);
 * back.outputNames // ['output']
 * // a GRU over [batch, time, features], at any batch size and length
 * const gru = new KerasGRU(4, { returnSequences: true });
 * gru.build(3);
 * const seq = parseOnnx(await toOnnx(gru, randn([2, 5, 3]), { dynamicAxes: { input: { 0: 'b', 1: 't' }, output: { 0: 'b', 1: 't' } } }));
 * seq.predict(randn([1, 8, 3])).shape // [1, 8, 4]
 */
export async function toOnnx(model: Module<Tensor | Tensor[]>, sampleInput: Tensor | readonly Tensor[], opts: ExportOnnxOptions = {}): Promise<Uint8Array> {
  if (model === null || typeof model !== 'object' || typeof (model as { forward?: unknown }).forward !== 'function' || typeof model.modules !== 'function') {
    throw new AxonError(OP, `expects a Module (a model or layer), got ${fmtValue(model)}`);
  }
  const inputs = isTensor(sampleInput) ? [sampleInput] : Array.isArray(sampleInput) && sampleInput.length > 0 && sampleInput.every(isTensor) ? [...sampleInput] : null;
  if (inputs === null) throw new AxonError(OP, `sampleInput must be a Tensor or a non-empty array of Tensors, got ${fmtValue(sampleInput)}`);
  for (const t of inputs) if (t.isDisposed) throw new AxonError(OP, `sampleInput ${fmtShape(t.shape)} was disposed`);
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts) || isTensor(opts)) throw new AxonError(OP, `options must be an object, got ${fmtValue(opts)}`);
  for (const k of Object.keys(opts)) if (!OPTION_KEYS.includes(k)) throw new AxonError(OP, `unknown option '${k}' (options: ${OPTION_KEYS.join(', ')})`);
  if (opts.docString !== undefined && typeof opts.docString !== 'string') throw new AxonError(OP, `docString must be a string, got ${fmtValue(opts.docString)}`);
  const opset = opts.opset ?? 17;
  if (!EXPORT_OPSETS.includes(opset)) throw new AxonError(OP, `opset must be one of ${EXPORT_OPSETS.join(', ')}, got ${fmtValue(opset)}`);
  const inputNames = checkNames('inputNames', opts.inputNames, inputs.length);

  if (new Set(inputs).size !== inputs.length) throw new AxonError(OP, 'the sample inputs must be distinct tensors');
  const owned = new Set(Object.values(model.stateDict()));
  for (const t of inputs) if (owned.has(t)) throw new AxonError(OP, "a sample input is one of the model's parameters");
  const dynamic = opts.dynamicBatch ?? false;
  if (typeof dynamic !== 'boolean') throw new AxonError(OP, `dynamicBatch must be a boolean, got ${fmtValue(dynamic)}`);
  const axes = checkDynamicAxes(opts.dynamicAxes);
  inputs.forEach((t, i) => {
    for (const [k] of axes.get(inputNames[i]!) ?? []) {
      if (k >= t.rank || t.shape[k] === 0) throw new AxonError(OP, `dynamicAxes: input '${inputNames[i]}' ${fmtShape(t.shape)} has no non-empty axis ${k}`);
    }
  });
  if (!dynamic && axes.size === 0) return encodeModel(await buildModel(model, inputs, opts, opset, inputNames, { batch: null, axes }));
  const B = dynamic ? inputs[0]!.shape[0] : undefined;
  if (dynamic && (inputs.some((t) => t.rank === 0 || t.shape[0] !== B) || B === undefined || B === 0)) {
    throw new AxonError(OP, `dynamicBatch needs every sample input to have the same non-zero leading (batch) dimension, got ${inputs.map((t) => fmtShape(t.shape)).join(', ')}`);
  }
  // Export at the sample's sizes and with every dynamic axis one longer: a graph that does not
  // depend on them comes out byte for byte the same (those dims are symbolic, Reshape/Expand copy them).
  const a = encodeModel(await buildModel(model, inputs, opts, opset, inputNames, { batch: B ?? null, axes }));
  const grow = (t: Tensor, i: number): Tensor =>
    tidy(() => {
      const along = new Set<number>(axes.get(inputNames[i]!)?.keys() ?? []);
      if (dynamic) along.add(0);
      let u = t;
      for (const ax of [...along].sort((p, q) => p - q)) u = concat([u, u.slice(u.shape.map(() => 0), u.shape.map((d, j) => (j === ax ? 1 : d)))], ax);
      return u === t ? t.clone() : u;
    });
  const more = inputs.map(grow);
  try {
    const b = encodeModel(await buildModel(model, more, opts, opset, inputNames, { batch: B === undefined ? null : B + 1, axes }));
    if (a.length !== b.length || a.some((v, i) => v !== b[i])) {
      const da = decodeModel(OP, a).graph!;
      const db = decodeModel(OP, b).graph!;
      const i = (da.node ?? []).findIndex((n, k) => JSON.stringify(n) !== JSON.stringify(db.node?.[k]));
      const o = (da.output ?? []).findIndex((n, k) => JSON.stringify(n) !== JSON.stringify(db.output?.[k]));
      const what = axes.size === 0 ? 'dynamicBatch: the graph depends on the batch size' : 'dynamicAxes: the graph depends on the size of a dynamic axis';
      if (i < 0 && o >= 0) throw new AxonError(OP, `${what}: output '${da.output![o]!.name}' has a dimension that changes with it — name that axis in dynamicAxes`);
      const where = i >= 0 ? `node ${i} (${da.node![i]!.opType} '${da.node![i]!.name}')` : 'its initializers';
      throw new AxonError(OP, `${what} at ${where} — the model folds it into another dimension or makes a constant of that size (e.g. a zero initial state, or a slice at a fixed step); export at the size you will run, without it`);
    }
    return a;
  } finally {
    for (const t of more) t.dispose();
  }
}

/** Traces `model` on `inputs` and builds the ModelProto (dyn: the dimensions written symbolically). */
async function buildModel(model: Module<Tensor | Tensor[]>, inputs: readonly Tensor[], opts: ExportOnnxOptions, opset: number, inputNames: readonly string[], dyn: Dynamic): Promise<ModelProto> {
  let params = Object.entries(model.stateDict()); // in PyTorch's state_dict() order
  let trace = runTrace(model, inputs, new Set<Tensor>([...inputs, ...params.map(([, p]) => p)]));
  if (Object.keys(model.stateDict()).length !== params.length) {
    // layers built by their first call (Keras layers without inputShape) made their weights during
    // the trace, which took them for constants: trace again, now that they are parameters
    disposeTrace(trace, inputs, params);
    params = Object.entries(model.stateDict());
    trace = runTrace(model, inputs, new Set<Tensor>([...inputs, ...params.map(([, p]) => p)]));
  }
  try {
    const outputNames = checkNames('outputNames', opts.outputNames, trace.outputs.length);
    for (const n of outputNames) if (inputNames.includes(n)) throw new AxonError(OP, `the name '${n}' is both an input and an output name`);
    for (const [name, ax] of dyn.axes) {
      const o = outputNames.indexOf(name);
      if (o < 0 && !inputNames.includes(name)) throw new AxonError(OP, `dynamicAxes names '${name}', which is neither an input (${inputNames.join(', ')}) nor an output (${outputNames.join(', ')})`);
      if (o >= 0) for (const [k] of ax) if (k >= trace.outputs[o]!.rank) throw new AxonError(OP, `dynamicAxes: output '${name}' ${fmtShape(trace.outputs[o]!.shape)} has no axis ${k}`);
    }
    const g = new GraphBuilder(opset);
    inputs.forEach((t, i) => {
      g.setName(t, inputNames[i]!);
      g.unique(inputNames[i]!);
    });
    for (const n of outputNames) g.unique(n);
    const wanted = new Map<Tensor, string>();
    trace.outputs.forEach((t, i) => {
      if (!wanted.has(t)) wanted.set(t, outputNames[i]!);
    });
    // topological order of the nodes the outputs need (iterative: unrolled RNNs are deep)
    const order: TNode[] = [];
    const seen = new Set<TNode>();
    const paramIndex = new Map<Tensor, number>(params.map(([, p], i) => [p, i]));
    const constants = new Set(trace.owned);
    const leaf = (t: Tensor): void => {
      if (g.nameOf(t) !== undefined) return;
      const i = paramIndex.get(t);
      if (i !== undefined) g.initializer(t, g.unique(params[i]![0]), i);
      else if (constants.has(t)) g.constantOf(t);
      else throw new AxonError(OP, `internal: a leaf tensor ${fmtShape(t.shape)} is neither an input, a parameter nor a constant`);
    };
    const deps = (n: TNode): Tensor[] => [...n.inputs, ...Object.values(n.attrs).filter(isTensor)];
    for (const out of trace.outputs) {
      const stack: { t: Tensor; expanded: boolean }[] = [{ t: out, expanded: false }];
      while (stack.length > 0) {
        const top = stack.pop()!;
        const p = trace.producer.get(top.t);
        if (p === undefined) {
          if (!inputs.includes(top.t)) leaf(top.t);
          continue;
        }
        if (seen.has(p.node)) continue;
        if (top.expanded) {
          seen.add(p.node);
          order.push(p.node);
          continue;
        }
        stack.push({ t: top.t, expanded: true });
        for (const d of deps(p.node)) if (!trace.producer.has(d) || !seen.has(trace.producer.get(d)!.node)) stack.push({ t: d, expanded: false });
      }
    }
    // the values something reads: a node's outputs nothing reads may be left out
    const used = new Set<Tensor>(trace.outputs);
    for (const n of order) for (const d of deps(n)) used.add(d);
    for (const n of order) {
      const ins = n.inputs.map((t) => valueName(g, t));
      const names = emitNode(g, n, ins, n.outputs.map((o) => wanted.get(o)), used);
      n.outputs.forEach((o, i) => {
        if (names[i]) g.setName(o, names[i]);
      });
    }
    // outputs that are inputs or parameters themselves, or repeated
    const outInfo: ValueInfoProto[] = [];
    trace.outputs.forEach((t, i) => {
      const name = outputNames[i]!;
      const have = valueName(g, t);
      if (have !== name) g.node('Identity', [have], {}, name);
      outInfo.push(valueInfo(name, t, dyn));
    });
    await g.finish();
    return {
      irVersion: 8,
      opsetImport: [{ domain: '', version: opset }],
      producerName: 'axon',
      producerVersion: '0.1.0',
      docString: opts.docString ?? '',
      graph: {
        name: model.className ?? 'model',
        node: g.nodes,
        initializer: g.initializers,
        input: inputs.map((t, i) => valueInfo(inputNames[i]!, t, dyn)),
        output: outInfo,
      },
    };
  } finally {
    disposeTrace(trace, inputs, params);
  }
}

/** Frees what a trace made: its constants and its outputs (unless they are inputs or parameters). */
function disposeTrace(trace: Trace, inputs: readonly Tensor[], params: readonly (readonly [string, Tensor])[]): void {
  for (const t of trace.owned) t.dispose();
  for (const t of trace.outputs) if (!inputs.includes(t) && !params.some(([, p]) => p === t)) t.dispose();
}

/**
 * Exports a model to an ONNX file (Node): {@link toOnnx}, written atomically to `path` (a crash
 * leaves the previous file, if any). Check it with onnxruntime, load it back with {@link loadOnnx}.
 * @example
 * const net = new Sequential(new Linear(3, 4), new ReLU(), new Linear(4, 2));
 * await exportOnnx(net, randn([5, 3]), 'net.onnx');
 * const back = await loadOnnx('net.onnx');
 * back.inputShapes // [[5, 3]]
 */
export async function exportOnnx(model: Module<Tensor | Tensor[]>, sampleInput: Tensor | readonly Tensor[], path: string, opts: ExportOnnxOptions = {}): Promise<void> {
  if (typeof path !== 'string' || path === '') throw new AxonError(OP, `path must be a non-empty string, got ${fmtValue(path)}`);
  const bytes = await toOnnx(model, sampleInput, opts);
  const { writeFileAtomic } = await import('@axon/layers');
  await writeFileAtomic(path, bytes);
}
