/**
 * Keras's functional API: {@link GraphModel} (a DAG of layer calls from symbolic inputs to one
 * output), {@link model}, and the merges {@link add} and {@link concatenate}.
 */
import { AxonError, type Tensor, fmtShape, fmtValue } from '@axon/core';
import { finalActivation, preFinal } from './fusion.js';
import { Add as AddLayer, Concatenate as ConcatenateLayer } from './layers.js';
import { type GraphNode, Model, countStats } from './model.js';
import { type Module, uniqueName } from './module.js';
import { type SymbolicShape, type SymbolicTensor, isSymbolic } from './symbolic.js';
import { optName, optionsOf } from './validate.js';

/**
 * Options of {@link model}.
 * @example
 * const x = input({ shape: [4] });
 * const y = new Dense(1).call(x);
 * const options: GraphModelOptions = { inputs: x, outputs: y, name: 'regressor' };
 * model(options).name // 'regressor'
 */
export interface GraphModelOptions {
  /** The symbolic input(s) from {@link input}. */
  inputs: SymbolicTensor | readonly SymbolicTensor[];
  /** The symbolic output (one). */
  outputs: SymbolicTensor | readonly SymbolicTensor[];
  /** Model name. */
  name?: string;
}

/**
 * A functional model: a DAG of layer calls from symbolic inputs to one output (Keras's
 * functional `Model`). Layers may be shared (called more than once); merges use {@link Add} /
 * {@link Concatenate}.
 * @example
 * const x = input({ shape: [10] });
 * const y = new Dense(1).call(new Dense(5, { activation: 'relu' }).call(x));
 * const m = model({ inputs: x, outputs: y });
 * m instanceof GraphModel // true
 * m.predict(randn([3, 10])).shape // [3, 1]
 * m.countParams() // 61
 */
export class GraphModel extends Model {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'GraphModel';
  /** The symbolic inputs. */
  readonly inputs: readonly SymbolicTensor[];
  /** The symbolic output. */
  readonly output: SymbolicTensor;
  /** The nodes in execution order. */
  readonly nodes: readonly GraphNode[];
  /** Outputs of nodes that neither a node nor the model reads (e.g. the states of a layer with `returnState`). */
  private readonly unused: ReadonlySet<SymbolicTensor>;

  constructor(opts: GraphModelOptions) {
    const o = optionsOf<GraphModelOptions>('model', opts, ['inputs', 'outputs', 'name']);
    super(optName('model', o.name) ?? uniqueName('Functional'));
    const op = 'model';
    const inputs = Array.isArray(opts.inputs) ? [...(opts.inputs as SymbolicTensor[])] : [opts.inputs as SymbolicTensor];
    const outputs = Array.isArray(opts.outputs) ? [...(opts.outputs as SymbolicTensor[])] : [opts.outputs as SymbolicTensor];
    if (inputs.length === 0 || !inputs.every(isSymbolic)) throw new AxonError(op, 'inputs must be symbolic tensors from input({ shape })');
    if (outputs.length !== 1 || !isSymbolic(outputs[0])) throw new AxonError(op, `outputs must be one symbolic tensor (got ${outputs.length}); models with several outputs are not supported yet`);
    for (const i of inputs) if (i.layer !== null) throw new AxonError(op, `inputs must come from input(), but ${i.toString()} is a layer output`);
    const output = outputs[0]!;
    // topological order by DFS from the output
    const order: SymbolicTensor[] = [];
    const state = new Map<SymbolicTensor, 1 | 2>();
    const visit = (out: SymbolicTensor): void => {
      const t = out.node; // a node's outputs share it: visited once
      const s = state.get(t);
      if (s === 2) return;
      if (s === 1) throw new AxonError(op, 'the graph has a cycle');
      state.set(t, 1);
      if (t.layer === null) {
        if (!inputs.includes(t)) throw new AxonError(op, `the output depends on ${t.toString()}, which is not among the model's inputs`);
      } else for (const i of t.inputs) visit(i);
      state.set(t, 2);
      order.push(t);
    };
    visit(output);
    this.inputs = inputs;
    this.output = output;
    this.nodes = order.filter((t) => t.layer !== null).map((t) => ({ layer: t.layer!, inputs: t.inputs, output: t, outputs: t.outputs }));
    const used = new Set<SymbolicTensor>([output]);
    for (const n of this.nodes) for (const i of n.inputs) used.add(i);
    this.unused = new Set(this.nodes.flatMap((n) => n.outputs.filter((o) => !used.has(o))));
    const byName = new Map<string, Module>();
    for (const n of this.nodes) {
      const prev = byName.get(n.layer.name);
      if (prev && prev !== n.layer) throw new AxonError(op, `two different layers are named '${n.layer.name}'; layer names must be unique in a model`);
      if (!prev) {
        byName.set(n.layer.name, n.layer);
        this.registerModule(n.layer.name.replace(/\./g, '_'), n.layer);
      }
    }
  }

  override get inputShape(): readonly number[] | null {
    return this.inputs.length === 1 ? (this.inputs[0]!.shape.slice(1) as number[]) : null;
  }

  override get finalActivation(): 'softmax' | 'sigmoid' | null {
    const last = this.nodes[this.nodes.length - 1];
    return last && last.inputs.length === 1 ? finalActivation(last.layer) : null;
  }

  forward(...xs: Tensor[]): Tensor {
    return this.run(xs, false);
  }

  override forwardParts(x: Tensor, strip: boolean): Tensor {
    return this.run([x], strip);
  }

  override get exampleShapes(): readonly (readonly number[] | null)[] {
    return this.inputs.map((s) => s.shape.slice(1) as number[]);
  }

  /** @internal */
  override forwardInputs(xs: readonly Tensor[], strip: boolean): Tensor {
    return this.run(xs, strip);
  }

  private run(xs: readonly Tensor[], strip: boolean): Tensor {
    const op = `${this.className} '${this.name}'`;
    if (xs.length !== this.inputs.length) throw new AxonError(op, `expects ${this.inputs.length} input(s), got ${xs.length}`);
    const values = new Map<SymbolicTensor, Tensor>();
    this.inputs.forEach((s, i) => {
      const x = xs[i]!;
      const want = s.shape.slice(1);
      const got = x.shape.slice(1);
      if (got.length !== want.length || got.some((d, k) => want[k] !== null && d !== want[k])) {
        throw new AxonError(op, `input '${s.name ?? i}' expects [batch, ${want.join(', ')}], got ${fmtShape(x.shape)}`);
      }
      values.set(s, x);
    });
    const last = this.nodes.length - 1;
    this.nodes.forEach((n, i) => {
      const args = n.inputs.map((s) => values.get(s)!);
      const y: unknown = i === last && strip && this.finalActivation ? preFinal(n.layer, args[0]!) : callNode(n.layer, args, n.output.stateInputs);
      const ys = n.outputs.length > 1 ? (y as Tensor[]) : [y as Tensor];
      if (!Array.isArray(ys) || ys.length !== n.outputs.length) throw new AxonError(op, `layer '${n.layer.name}' returned ${Array.isArray(y) ? `${y.length} tensors` : 'one tensor'}, but the model was built with ${n.outputs.length} outputs of it`);
      n.outputs.forEach((o, k) => {
        const t = ys[k]!;
        // an output nothing reads is freed as the layer's own forward frees unreturned states
        if (this.unused.has(o) && !t.requiresGrad && !ys.slice(0, k).includes(t)) t.dispose();
        else values.set(o, t);
      });
    });
    return values.get(this.output)!;
  }

  override computeOutputShape(): SymbolicShape {
    return this.output.shape;
  }

  protected override layerShapes(): { name: string; type: string; shape: SymbolicShape | null; params: number; inbound?: string }[] {
    const rows: { name: string; type: string; shape: SymbolicShape | null; params: number; inbound?: string }[] = this.inputs.map((s) => ({ name: s.name ?? 'input', type: 'InputLayer', shape: s.shape, params: 0, inbound: '' }));
    const counted = new Set<Module>();
    const nameOf = (s: SymbolicTensor): string => (s.layer ? `${s.layer.name}${s.node.outputs.length > 1 ? `[${s.outputIndex}]` : ''}` : (s.name ?? 'input'));
    for (const n of this.nodes) {
      rows.push({ name: n.layer.name, type: n.layer.className, shape: n.output.shape, params: counted.has(n.layer) ? 0 : n.layer.countParams() + countStats(n.layer), inbound: n.inputs.map(nameOf).join(', ') });
      counted.add(n.layer);
    }
    return rows;
  }
}

/**
 * @internal Runs a node's layer on its inputs: the last `stateInputs` of them are passed as
 * `{ initialState }` (with the mask, when there is one, as Keras' `layer(x, mask=…, initial_state=[…])`).
 */
export function callNode<T>(layer: Module, args: readonly T[], stateInputs: number): unknown {
  const l = layer as unknown as { call(...a: unknown[]): unknown };
  if (stateInputs === 0) return l.call(...args);
  const pos = args.slice(0, args.length - stateInputs);
  return l.call(pos[0], { ...(pos.length > 1 ? { mask: pos[1] } : {}), initialState: args.slice(args.length - stateInputs) });
}

/**
 * Builds a functional model from symbolic inputs and outputs (Keras's `keras.Model({ inputs, outputs })`).
 * @example
 * const x = input({ shape: [10] });
 * const h = new Dense(5, { activation: 'relu' }).call(x);
 * const m = model({ inputs: x, outputs: new Dense(1).call(h) });
 * m.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
 * const history = await m.fit(randn([20, 10]), randn([20, 1]), { epochs: 2, verbose: 0 });
 * history.epoch // [0, 1]
 */
export function model(opts: GraphModelOptions): GraphModel {
  if (opts === null || typeof opts !== 'object') throw new AxonError('model', `expects { inputs, outputs }, got ${fmtValue(opts)}`);
  return new GraphModel(opts);
}

/**
 * Adds symbolic or concrete tensors elementwise through an {@link Add} layer (Keras's `layers.add`).
 * @example
 * add([tensor([1, 2]), tensor([10, 20])]) // [11, 22]
 * const a = input({ shape: [4] });
 * const b = new Dense(4).call(a);
 * const s = add([a, b]); // a residual connection
 * model({ inputs: a, outputs: s }).predict(randn([2, 4])).shape // [2, 4]
 */
export function add(xs: readonly SymbolicTensor[]): SymbolicTensor;
export function add(xs: readonly Tensor[]): Tensor;
export function add(xs: readonly (Tensor | SymbolicTensor)[]): Tensor | SymbolicTensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new AxonError('add', `expects a non-empty list of tensors, got ${fmtValue(xs)}`);
  const layer = new AddLayer();
  return xs.every(isSymbolic) ? layer.call(...(xs as SymbolicTensor[])) : layer.call(...(xs as Tensor[]));
}

/**
 * Concatenates symbolic or concrete tensors along `axis` through a {@link Concatenate} layer.
 * @example
 * concatenate([tensor([[1, 2]]), tensor([[3]])]) // [[1, 2, 3]]
 * const a = input({ shape: [4] });
 * const b = input({ shape: [2] });
 * const h = concatenate([a, b]);
 * h.shape // [null, 6]
 * model({ inputs: [a, b], outputs: new Dense(1).call(h) }).forward(randn([3, 4]), randn([3, 2])).shape // [3, 1]
 */
export function concatenate(xs: readonly SymbolicTensor[], axis?: number): SymbolicTensor;
export function concatenate(xs: readonly Tensor[], axis?: number): Tensor;
export function concatenate(xs: readonly (Tensor | SymbolicTensor)[], axis = -1): Tensor | SymbolicTensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new AxonError('concatenate', `expects a non-empty list of tensors, got ${fmtValue(xs)}`);
  const layer = new ConcatenateLayer({ axis });
  return xs.every(isSymbolic) ? layer.call(...(xs as SymbolicTensor[])) : layer.call(...(xs as Tensor[]));
}
