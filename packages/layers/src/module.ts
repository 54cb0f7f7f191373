/**
 * `Module`: the PyTorch-style base class of every layer and model.
 */
// Installs the autograd tape, so that `loss.backward()` and `fit` work without a separate import.
import '@axon/autograd';
import { AxonError, type DType, type Tensor, fmtShape, fmtValue, isTensor, keep, noGrad, realize, tidy, zeros as tensorZeros } from '@axon/core';
import { SymbolicTensor, type SymbolicShape, isSymbolic } from './symbolic.js';

/**
 * A JSON value, as layer configs hold.
 * @example
 * const v: JsonValue = { units: 3, activation: 'relu', sizes: [1, 2], bias: null };
 * JSON.parse(JSON.stringify(v)) // { units: 3, activation: 'relu', sizes: [1, 2], bias: null }
 */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [k: string]: JsonValue };

/**
 * A layer's JSON-able configuration (what `model.json` stores to rebuild it).
 * @example
 * const c: LayerConfig = new Dense(10, { activation: 'relu' }).getConfig();
 * c // { units: 10, activation: 'relu', useBias: true }
 */
export type LayerConfig = { readonly [k: string]: JsonValue };

/**
 * A flat map from dotted names to tensors, as {@link Module.stateDict} returns and
 * {@link Module.loadStateDict} accepts.
 * @example
 * const sd: StateDict = { weight: ones([2, 3]), bias: zeros([2]) };
 * const fc = new Linear(3, 2);
 * fc.loadStateDict(sd);
 * fc.call(tensor([[1, 2, 3]])) // [[6, 6]]
 */
export type StateDict = Readonly<Record<string, Tensor>>;

/**
 * Options of {@link Module.loadStateDict}.
 * @example
 * const opts: LoadStateDictOptions = { strict: false };
 * const fc = new Linear(3, 2);
 * fc.loadStateDict({ bias: ones([2]) }, opts); // only the bias; the weight is left as it is
 * fc.bias // [1, 1]
 * fc.loadStateDict({ bias: ones([2]) }) // throws: 'Missing key(s) in state_dict: "weight".'
 */
export interface LoadStateDictOptions {
  /** Whether missing and unexpected names are errors (default true). Shapes and dtypes are always checked. */
  strict?: boolean;
}

/**
 * What {@link Module.loadStateDict} returns (PyTorch's `_IncompatibleKeys`): the module's names
 * the dict lacked and the dict's names the module lacks — both empty after a strict load.
 * @example
 * const r: LoadStateDictResult = new Linear(3, 2).loadStateDict({ bias: ones([2]) }, { strict: false });
 * r // { missingKeys: ['weight'], unexpectedKeys: [] }
 */
export interface LoadStateDictResult {
  readonly missingKeys: string[];
  readonly unexpectedKeys: string[];
}

const autoNames = new Map<string, number>();

/**
 * A unique snake_case name for a layer of class `cls`, Keras style (`dense`, `dense_1`, …).
 * @example
 * uniqueName('ResidualBlock') // 'residual_block'
 * uniqueName('ResidualBlock') // 'residual_block_1'
 */
export function uniqueName(cls: string): string {
  if (typeof cls !== 'string' || cls === '') throw new AxonError('uniqueName', `expects a class name, got ${fmtValue(cls)}`);
  const base = cls.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2').toLowerCase();
  const n = autoNames.get(base) ?? 0;
  autoNames.set(base, n + 1);
  return n === 0 ? base : `${base}_${n}`;
}

/**
 * Makes `t` a parameter: kept (no `tidy` frees it), requiring grad, and cut from any graph.
 * @example
 * const w = parameter(randn([3, 3]));
 * w.requiresGrad // true
 * class Scale extends Module {
 *   factor = parameter(ones([1])); // found by parameters() because it requires grad
 *   forward(x: Tensor): Tensor { return x.mul(this.factor); }
 * }
 * new Scale().countParams() // 1
 */
export function parameter(t: Tensor): Tensor {
  if (!isTensor(t)) throw new AxonError('parameter', `expected a Tensor, got ${fmtValue(t)}`);
  if (t.isDisposed) throw new AxonError('parameter', `tensor #${t.id} ${fmtShape(t.shape)} was disposed`);
  if (t.dtype !== 'float32') throw new AxonError('parameter', `parameters must be float32, got ${t.dtype} ${fmtShape(t.shape)}`);
  const p = t.gradNode !== null ? noGrad(() => t.detach()) : t;
  if (p !== t) t.dispose();
  commit(p);
  return keep(p).requireGrad();
}

/**
 * Computes a pending tensor that becomes model state, so that running out of memory is reported
 * by the constructor; on failure the tensor (owned from here on) is freed.
 */
function commit(t: Tensor): void {
  try {
    realize(t);
  } catch (e) {
    t.dispose();
    throw e;
  }
}

const INTERNAL = new Set(['training', 'name']);

let budget: { left: number; readonly total: number } | null = null;

function fmtBytes(n: number): string {
  return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} bytes`;
}

/**
 * @internal Runs `fn` (which builds layers, e.g. `modelFromJson`) with at most `bytes` bytes for
 * the parameters and buffers of built-in layers: each layer calls {@link reserveParameters}
 * before allocating, so a config declaring more than the cap fails before the allocation.
 */
export function withParameterBudget<T>(bytes: number, fn: () => T): T {
  const prev = budget;
  budget = { left: bytes, total: bytes };
  try {
    return fn();
  } finally {
    budget = prev;
  }
}

/**
 * The most elements the parameters and buffers of one built-in layer may hold together: 2^28
 * (1 GiB of float32). A layer declaring more (e.g. `new BatchNorm2d(1e9)` or
 * `new Linear(100_000, 10_000)`) throws an {@link AxonError} before allocating anything, instead
 * of spending seconds and gigabytes to fail (or succeed) on the backend. Modules that register
 * their own tensors with {@link Module.registerParameter} are not limited.
 * @example
 * MAX_LAYER_PARAMETERS // 268435456
 * new Linear(100_000, 10_000) // throws: 'MAX_LAYER_PARAMETERS'
 */
export const MAX_LAYER_PARAMETERS: number = 2 ** 28;

/**
 * @internal Called by built-in layers before they allocate parameters/buffers of `shapes`
 * (4 bytes per element): throws an {@link AxonError} when they hold more than
 * {@link MAX_LAYER_PARAMETERS} elements, or when a {@link withParameterBudget} cap would be
 * exceeded (outside such a call only the first check applies).
 */
export function reserveParameters(op: string, shapes: readonly (readonly number[])[]): void {
  let elements = 0;
  for (const s of shapes) elements += s.reduce((a, b) => a * b, 1);
  const bytes = elements * 4;
  if (budget && !(bytes <= budget.left)) {
    const used = budget.total - budget.left;
    throw new AxonError(
      op,
      `declares parameters ${shapes.map((s) => fmtShape(s)).join(', ')} (${fmtBytes(bytes)}), but the weights hold ${fmtBytes(budget.total)} of tensor data in all${used > 0 ? ` and earlier layers already declared ${fmtBytes(used)}` : ''}: the architecture does not match its weights (nothing was allocated for it)`,
    );
  }
  if (!(elements <= MAX_LAYER_PARAMETERS)) {
    throw new AxonError(
      op,
      `declares parameters and buffers ${shapes.map((s) => fmtShape(s)).join(', ')} (${elements} elements, ${fmtBytes(bytes)}), more than a built-in layer may hold (MAX_LAYER_PARAMETERS = 2^28 elements, 1 GiB of float32); nothing was allocated`,
    );
  }
  if (budget) budget.left -= bytes;
}

/**
 * The base class of layers and models (PyTorch's `nn.Module`). Subclasses implement
 * {@link Module.forward}; calling {@link Module.call} runs it (and, on symbolic inputs, builds a
 * functional graph).
 *
 * Children and parameters register themselves **by assignment**: a property holding a
 * {@link Module}, an array of modules, or a tensor that requires grad (see {@link parameter} and
 * {@link Module.addParameter}) is found by {@link Module.namedParameters} in property order.
 * `registerParameter`, `registerBuffer` and `registerModule` do the same explicitly.
 *
 * Type parameters: `Out` is what `forward` (and `call` on tensors) returns — `Tensor` for layers,
 * e.g. `[Tensor, [Tensor, Tensor]]` for the PyTorch LSTM; `SymOut` is what `call` returns on
 * {@link SymbolicTensor}s — one `SymbolicTensor`, or `SymbolicTensor[]` for a Keras recurrent layer
 * with `returnState` (see `KerasRecurrentOutput`).
 *
 * @example
 * class MLP extends Module {
 *   fc1 = new Linear(4, 8);
 *   fc2 = new Linear(8, 2);
 *   forward(x: Tensor): Tensor { return this.fc2.call(relu(this.fc1.call(x))); }
 * }
 * const m = new MLP();
 * m.namedParameters().map(([n]) => n); // ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']
 */
export abstract class Module<Out = Tensor, SymOut = SymbolicTensor> {
  /** Whether the module is in training mode (see {@link Module.train} / {@link Module.eval}). */
  training = true;
  /** The layer's name (Keras style, unique per class: `dense`, `dense_1`, …). */
  name: string;

  constructor(name?: string) {
    if (name !== undefined && (typeof name !== 'string' || name === '')) throw new AxonError(this.className, `name must be a non-empty string, got ${fmtValue(name)}`);
    this.name = name ?? uniqueName(this.className);
    Object.defineProperty(this, '_registry', { value: new Map<string, Tensor | Module>(), enumerable: false, writable: false });
    Object.defineProperty(this, '_buffers', { value: new Map<string, Tensor>(), enumerable: false, writable: false });
  }

  /**
   * The layer's class name as saved in `model.json`: the class's own static `className` when it
   * declares one (every built-in layer does, so that bundlers renaming classes do not matter),
   * else the constructor's name.
   * @example new Dense(3).className // 'Dense'
   */
  get className(): string {
    const ctor = this.constructor as { className?: unknown; name: string };
    return Object.prototype.hasOwnProperty.call(ctor, 'className') && typeof ctor.className === 'string' ? ctor.className : ctor.name;
  }

  /** @internal explicitly registered parameters and modules (names that are not properties). */
  declare private readonly _registry: Map<string, Tensor | Module>;
  /** @internal registered buffers. */
  declare private readonly _buffers: Map<string, Tensor>;

  /**
   * The computation. Subclasses override it with their own signature.
   * @example
   * class Block extends Module {
   *   fc = new Linear(2, 2);
   *   forward(x: Tensor): Tensor { return this.fc.call(x).relu(); }
   * }
   * new Block().forward(zeros([1, 2])).shape // [1, 2]
   */
  abstract forward(...inputs: Tensor[]): Out;

  /**
   * Runs the module: `forward` on tensors; on {@link SymbolicTensor}s (from {@link input}) it records a
   * node of a functional graph and returns a symbolic output (Keras's `layer(x)`).
   * @example
   * const layer = new Dense(4, { activation: 'relu' });
   * const y = layer.call(randn([2, 3])); // a tensor
   * y.shape // [2, 4]
   * const s = layer.call(input({ shape: [3] })); // a symbolic tensor, for a functional model
   * s.shape // [null, 4]
   */
  call(...inputs: Tensor[]): Out;
  call(...inputs: SymbolicTensor[]): SymOut;
  call(...inputs: (Tensor | SymbolicTensor)[]): Out | SymOut {
    if (inputs.length > 0 && inputs.every(isSymbolic)) {
      const syms = inputs as SymbolicTensor[];
      const shape = this.computeOutputShape(...syms.map((s) => s.shape));
      return new SymbolicTensor(shape, 'float32', this as unknown as Module, syms) as SymOut;
    }
    if (inputs.some(isSymbolic)) throw new AxonError(`${this.name}.call`, 'cannot mix symbolic and concrete tensors in one call');
    for (let i = 0; i < inputs.length; i++) {
      const x = inputs[i];
      if (!isTensor(x)) throw new AxonError(`${this.className} '${this.name}'`, `input ${i} is not a Tensor (got ${typeof x})`);
      if (x.isDisposed) throw new AxonError(`${this.className} '${this.name}'`, `input ${i} (tensor #${x.id} ${fmtShape(x.shape)} ${x.dtype}) was disposed`);
    }
    return this.forward(...(inputs as Tensor[]));
  }

  /**
   * The output shape (batch axis `null`) for the given input shapes. The default runs `forward`
   * once on zeros with batch 1 (in eval mode, without gradients); layers override it.
   * @example new Dense(3).computeOutputShape([null, 5]) // [null, 3]
   */
  computeOutputShape(...inputShapes: SymbolicShape[]): SymbolicShape {
    const wasTraining = this.training;
    this.eval();
    try {
      return tidy(() =>
        noGrad(() => {
          const xs = inputShapes.map((s) => zerosOf(s));
          const out: unknown = this.forward(...xs);
          const y = Array.isArray(out) ? (out[0] as Tensor) : (out as Tensor);
          return [null, ...y.shape.slice(1)];
        }),
      );
    } finally {
      if (wasTraining) this.train();
    }
  }

  /**
   * The layer's JSON-able configuration, from which its class rebuilds it (see `registerLayer`).
   * Custom modules that should be saved with `save()` override it.
   * @example new Dense(3, { activation: 'relu' }).getConfig() // { units: 3, activation: 'relu', useBias: true }
   */
  getConfig(): LayerConfig {
    return {};
  }

  // ------------------------------------------------------------------ registration
  /**
   * Registers a parameter under `name` (made a kept, grad-requiring tensor) and returns it.
   * @example
   * class Scale extends Module {
   *   constructor() {
   *     super();
   *     this.registerParameter('scale', ones([4]));
   *   }
   *   forward(x: Tensor): Tensor { return x.mul(this.stateDict()['scale']!); }
   * }
   * Object.keys(new Scale().stateDict()) // ['scale']
   */
  registerParameter(name: string, t: Tensor): Tensor {
    checkName(this, name);
    const p = parameter(t);
    this.setMember(name, p);
    return p;
  }

  /**
   * Creates a parameter from an initialiser function run without gradients, registers it, returns it.
   * @example
   * class Square extends Module {
   *   weight: Tensor;
   *   constructor() {
   *     super();
   *     this.weight = this.addParameter('weight', () => randn([3, 3]));
   *   }
   *   forward(x: Tensor): Tensor { return x.matmul(this.weight); }
   * }
   * new Square().namedParameters().map(([n, p]) => [n, p.shape]) // [['weight', [3, 3]]]
   */
  addParameter(name: string, init: () => Tensor): Tensor {
    const op = `${this.className}.addParameter`;
    if (typeof init !== 'function') throw new AxonError(op, `init must be a function returning a Tensor, got ${fmtValue(init)}`);
    checkName(this, name);
    const t = tidy(() =>
      noGrad(() => {
        const v: unknown = init();
        if (!isTensor(v)) throw new AxonError(op, `the initialiser of '${name}' returned ${fmtValue(v)}, not a Tensor`);
        return keep(v);
      }),
    );
    try {
      return this.registerParameter(name, t);
    } catch (e) {
      // e.g. an int32 tensor: the parameter was not registered, so it is not the module's to free
      t.dispose();
      throw e;
    }
  }

  /**
   * Registers a buffer: state saved by `stateDict` but not trained (e.g. running statistics).
   * The module owns it (it is kept and freed by `dispose`).
   * @example
   * class Center extends Module {
   *   constructor() {
   *     super();
   *     this.registerBuffer('runningMean', zeros([4]));
   *   }
   *   forward(x: Tensor): Tensor { return x.sub(this.stateDict()['runningMean']!); }
   * }
   * const c = new Center();
   * c.namedBuffers().map(([n]) => n) // ['runningMean']
   * c.parameters().length // 0
   */
  registerBuffer(name: string, t: Tensor): Tensor {
    checkName(this, name);
    if (!isTensor(t)) throw new AxonError(`${this.name}.registerBuffer`, `buffer '${name}' must be a Tensor, got ${fmtValue(t)}`);
    if (t.isDisposed) throw new AxonError(`${this.name}.registerBuffer`, `buffer '${name}' (tensor #${t.id} ${fmtShape(t.shape)}) was disposed`);
    commit(t);
    keep(t);
    this._buffers.get(name)?.dispose();
    this._buffers.set(name, t);
    (this as unknown as Record<string, unknown>)[name] = t;
    return t;
  }

  /**
   * Registers a child module under `name` and returns it.
   * @example
   * class Stack extends Module {
   *   constructor(depth: number) {
   *     super();
   *     for (let i = 0; i < depth; i++) this.registerModule(`block${i}`, new Linear(4, 4));
   *   }
   *   forward(x: Tensor): Tensor { return this.children().reduce((h, m) => m.call(h), x); }
   * }
   * new Stack(2).namedChildren().map(([n]) => n) // ['block0', 'block1']
   */
  registerModule<M extends Module>(name: string, m: M): M {
    checkName(this, name);
    if (!(m instanceof Module)) throw new AxonError(`${this.name}.registerModule`, `'${name}' must be a Module`);
    this.setMember(name, m);
    return m;
  }

  private setMember(name: string, v: Tensor | Module): void {
    const self = this as unknown as Record<string, unknown>;
    const desc = Object.getOwnPropertyDescriptor(this, name);
    if (/^[A-Za-z_$][\w$]*$/.test(name) && (desc === undefined || desc.writable === true)) {
      self[name] = v;
      this._registry.delete(name);
    } else {
      this._registry.set(name, v);
    }
  }

  /** Own members in registration order: [name, value] for parameters and modules. */
  private ownMembers(): [string, Tensor | Module][] {
    const out: [string, Tensor | Module][] = [];
    for (const key of Object.keys(this)) {
      if (INTERNAL.has(key) || this._buffers.has(key)) continue;
      const v = (this as unknown as Record<string, unknown>)[key];
      if (v instanceof Module) out.push([key, v]);
      else if (isTensor(v) && v.requiresGrad && v.gradNode === null) out.push([key, v]);
      else if (Array.isArray(v) && v.length > 0 && v.every((e) => e instanceof Module)) v.forEach((m: Module, i) => out.push([`${key}.${i}`, m]));
    }
    for (const [k, v] of this._registry) out.push([k, v]);
    return out;
  }

  // ------------------------------------------------------------------ traversal
  /**
   * Direct children as [name, module] pairs.
   * @example
   * const net = new Sequential(new Linear(3, 2), new ReLU());
   * for (const [name, child] of net.namedChildren()) console.log(name, child.className);
   * net.namedChildren().map(([name]) => name) // ['0', '1']
   */
  namedChildren(): [string, Module][] {
    return this.ownMembers().filter((e): e is [string, Module] => e[1] instanceof Module);
  }

  /**
   * Direct children.
   * @example new Sequential(new Linear(3, 2), new ReLU()).children().length // 2
   */
  children(): Module[] {
    return this.namedChildren().map((e) => e[1]);
  }

  /**
   * This module and every descendant as [dotted name, module] (this one named `''`), each once.
   * @example
   * class MLP extends Module {
   *   fc1 = new Linear(4, 8);
   *   fc2 = new Linear(8, 2);
   *   forward(x: Tensor): Tensor { return this.fc2.call(relu(this.fc1.call(x))); }
   * }
   * new MLP().namedModules().map(([n]) => n) // ['', 'fc1', 'fc2']
   */
  namedModules(prefix = '', seen: Set<Module> = new Set()): [string, Module][] {
    // every module, whatever its forward returns, is traversed as a Module
    const self = this as unknown as Module;
    if (seen.has(self)) return [];
    seen.add(self);
    const out: [string, Module][] = [[prefix, self]];
    for (const [n, m] of this.namedChildren()) out.push(...m.namedModules(prefix ? `${prefix}.${n}` : n, seen));
    return out;
  }

  /**
   * This module and every descendant.
   * @example new Sequential(new Linear(3, 2), new ReLU(), new Linear(2, 1)).modules().filter((m) => m instanceof Linear).length // 2
   */
  modules(): Module[] {
    return this.namedModules().map((e) => e[1]);
  }

  /**
   * Every parameter with its dotted path (`fc1.weight`), each tensor once (shared ones under their first name).
   * @example new Sequential(new Linear(3, 2)).namedParameters().map(([n, p]) => `${n} ${p.shape}`) // ['0.weight 2,3', '0.bias 2']
   */
  namedParameters(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [n, v] of m.ownMembers()) {
        if (v instanceof Module || seen.has(v)) continue;
        seen.add(v);
        out.push([prefix ? `${prefix}.${n}` : n, v]);
      }
    }
    return out;
  }

  /**
   * Every parameter (what an optimizer trains).
   * @example
   * const net = new Sequential(new Linear(3, 2), new ReLU(), new Linear(2, 1));
   * net.parameters().length // 4
   * const opt = new SGD(net.parameters(), { lr: 0.01 });
   */
  parameters(): Tensor[] {
    return this.namedParameters().map((e) => e[1]);
  }

  /**
   * Every buffer with its dotted path.
   * @example new Sequential(new Linear(3, 2), new BatchNorm1d(2)).namedBuffers().map(([n]) => n) // ['1.running_mean', '1.running_var', '1.num_batches_tracked']
   */
  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) for (const [n, b] of m._buffers) out.push([prefix ? `${prefix}.${n}` : n, b]);
    return out;
  }

  /**
   * Total number of parameter elements.
   * @example new Linear(3, 2).countParams() // 8
   */
  countParams(): number {
    return this.parameters().reduce((s, p) => s + p.size, 0);
  }

  // ------------------------------------------------------------------ modes
  /**
   * Sets training mode (Dropout active) on this module and every descendant.
   * @example
   * const net = new Sequential(new Linear(3, 2), new Dropout(0.5));
   * net.train(); // Dropout drops, BatchNorm uses batch statistics
   * net.modules().every((m) => m.training) // true
   * net.train(false).training // false
   */
  train(mode = true): this {
    if (typeof mode !== 'boolean') throw new AxonError(`${this.className}.train`, `mode must be true or false, got ${fmtValue(mode)}`);
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /**
   * Sets evaluation mode (Dropout is the identity).
   * @example
   * const net = new Sequential(new Linear(3, 2), new Dropout(0.5));
   * net.eval(); // Dropout passes values through, BatchNorm uses running statistics
   * net.modules().some((m) => m.training) // false
   */
  eval(): this {
    return this.train(false);
  }

  /**
   * Calls `fn` on every descendant and then on this module (PyTorch's `apply`), e.g. to initialise weights.
   * @example
   * const net = new Sequential(new Linear(3, 2), new ReLU(), new Linear(2, 1));
   * net.apply((m) => { if (m instanceof Linear) m.bias?.assign(zerosLike(m.bias)); });
   * net.stateDict()['2.bias'] // [0]
   */
  apply(fn: (m: Module) => void): this {
    if (typeof fn !== 'function') throw new AxonError(`${this.className}.apply`, `expects a function (module) => void, got ${fmtValue(fn)}`);
    const seen = new Set<Module>();
    const visit = (m: Module): void => {
      if (seen.has(m)) return;
      seen.add(m);
      for (const c of m.children()) visit(c);
      fn(m);
    };
    visit(this as unknown as Module);
    return this;
  }


  /**
   * Disposes every parameter's gradient (sets `.grad` to null).
   * @example
   * const fc = new Linear(2, 1);
   * fc.call(ones([1, 2])).sum().backward();
   * fc.bias!.grad // [1]
   * fc.zeroGrad();
   * fc.bias!.grad // null
   */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      if (p.grad) {
        p.grad.dispose();
        p.grad = null;
      }
    }
  }

  // ------------------------------------------------------------------ state
  /**
   * Parameters and buffers by dotted name, in PyTorch's `state_dict()` order: module by module
   * (a module's parameters, then its buffers, then its children's). The tensors are the module's
   * own (do not dispose them; `clone()` them for a snapshot that later training does not change).
   * @example
   * class Net extends Module {
   *   fc = new Linear(3, 2);
   *   forward(x: Tensor): Tensor { return this.fc.call(x); }
   * }
   * const sd = new Net().stateDict();
   * Object.keys(sd) // ['fc.weight', 'fc.bias']
   * Object.keys(new Sequential(new BatchNorm1d(2), new Linear(2, 1)).stateDict()) // ['0.weight', '0.bias', '0.running_mean', '0.running_var', '0.num_batches_tracked', '1.weight', '1.bias']
   */
  stateDict(): StateDict {
    const out: Record<string, Tensor> = {};
    const seen = new Set<Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [n, v] of m.ownMembers()) {
        if (v instanceof Module || seen.has(v)) continue;
        seen.add(v);
        out[prefix ? `${prefix}.${n}` : n] = v;
      }
      for (const [n, b] of m._buffers) out[prefix ? `${prefix}.${n}` : n] = b;
    }
    return out;
  }

  /**
   * Copies values from `dict` into this module's parameters and buffers, as PyTorch's
   * `load_state_dict`: every name, shape and dtype is checked first, and on any problem an
   * {@link AxonError} lists them all at once in PyTorch's words (`Error(s) in loading state_dict
   * for Linear:` then `Missing key(s) in state_dict: "weight".`, `Unexpected key(s) in
   * state_dict: "extra".`, `size mismatch for weight: copying a param with shape [3, 2] from
   * checkpoint, the shape in current model is [2, 3].`) and nothing changes. With
   * `strict: false` missing and unexpected names are allowed and returned (`{ missingKeys,
   * unexpectedKeys }`, as PyTorch's result); shape mismatches are still refused. A float32 entry
   * for an int32 buffer (or the reverse) is converted, as PyTorch's `copy_`; bool entries must
   * match bool state. Names a layer used before (BatchNorm's `runningMean` before
   * `running_mean`) are still accepted. The dict's tensors stay the caller's.
   * @example
   * const a = new Linear(3, 2);
   * const b = new Linear(3, 2);
   * b.loadStateDict(a.stateDict()); // copies: a and b stay independent
   * b.call(ones([1, 3])).sub(a.call(ones([1, 3]))).abs().max() // 0
   * b.loadStateDict({ bias: ones([2]), extra: ones([1]) }, { strict: false }) // { missingKeys: ['weight'], unexpectedKeys: ['extra'] }
   * b.loadStateDict({ weight: ones([3, 2]), bias: ones([2]) }) // throws: 'size mismatch for weight: copying a param with shape [3, 2] from checkpoint, the shape in current model is [2, 3]'
   */
  loadStateDict(dict: StateDict, opts: LoadStateDictOptions = {}): LoadStateDictResult {
    const op = `${this.className}.loadStateDict`;
    if (dict === null || typeof dict !== 'object' || Array.isArray(dict)) throw new AxonError(op, `expected a record of tensors, got ${fmtValue(dict)}`);
    const strict = loadOptions(op, opts);
    const own = this.stateDict();
    const described: Record<string, StateEntryDescription> = {};
    for (const k of Object.keys(dict)) {
      const src: unknown = dict[k];
      if (!isTensor(src)) described[k] = `'${k}' is not a Tensor (got ${fmtValue(src)}).`;
      else if (src.isDisposed) described[k] = `'${k}' (tensor #${src.id}) was disposed.`;
      else {
        // a legacy name has no entry of its own: its module's tensors share one backend
        const target = own[k] ?? Object.values(own)[0];
        described[k] = target && src.backend !== target.backend ? `'${k}' lives on backend '${src.backend.name}', the module on '${target.backend.name}' (move it with await t.toBackend('${target.backend.name}')).` : { shape: src.shape, dtype: src.dtype };
      }
    }
    const plan = planStateDictLoad(this, described, strict);
    const pairs = plan.pairs.map(([target, source]): [Tensor, Tensor] => [own[target]!, dict[source]!]);
    noGrad(() => {
      const copies = pairs.map(([target, src]) => (src.dtype === target.dtype ? src.clone() : src.astype(target.dtype)));
      pairs.forEach(([target], i) => target.assign(copies[i]!));
    });
    return { missingKeys: plan.missingKeys, unexpectedKeys: plan.unexpectedKeys };
  }

  /**
   * @internal Names this module's state had in earlier versions, `{ oldName: currentName }`, that
   * {@link Module.loadStateDict} still accepts (e.g. BatchNorm's `runningMean` → `running_mean`).
   */
  legacyStateNames(): Readonly<Record<string, string>> {
    return {};
  }

  /**
   * Non-tensor state that training changes and a checkpoint must restore to continue exactly
   * (PyTorch's `get_extra_state`), e.g. a seeded Dropout's mask counter; `undefined` (the default)
   * when there is none. It must be JSON-able.
   * @example new Dropout({ rate: 0.5, seed: 1 }).getExtraState() // { calls: 0 }
   */
  getExtraState(): JsonValue | undefined {
    return undefined;
  }

  /**
   * Restores a value from {@link Module.getExtraState} (PyTorch's `set_extra_state`). Modules
   * that return extra state override it (validating `state`); the default throws, since a module
   * without extra state cannot take one.
   * @example
   * const dropout = new Dropout({ rate: 0.5, seed: 1 });
   * dropout.setExtraState({ calls: 12 });
   * dropout.getExtraState() // { calls: 12 }
   * new ReLU().setExtraState({ calls: 12 }) // throws: 'keeps no extra state'
   */
  setExtraState(state: JsonValue): void {
    throw new AxonError(`${this.className} '${this.name}'.setExtraState`, `this module keeps no extra state, got ${JSON.stringify(state)}`);
  }

  /**
   * The extra state of this module and its descendants, by dotted path (`''` for this module),
   * for those that have some (see {@link Module.getExtraState}).
   * @example
   * const net = new Sequential(new Linear(3, 2), new Dropout({ rate: 0.5, seed: 7 }));
   * for (let i = 0; i < 40; i++) net.call(ones([1, 3]));
   * net.extraStateDict() // { '1': { calls: 40 } }
   */
  extraStateDict(): Record<string, JsonValue> {
    const out: Record<string, JsonValue> = {};
    for (const [path, m] of this.namedModules()) {
      const s = m.getExtraState();
      if (s !== undefined) out[path] = s;
    }
    return out;
  }

  /**
   * Restores {@link Module.extraStateDict}'s output: every path must name a module of this one
   * (and, unless `strict: false`, every module with extra state must be given). All or nothing:
   * if a module rejects its state, those already restored are put back.
   * @example
   * const net = new Sequential(new Linear(3, 2), new Dropout({ rate: 0.5, seed: 7 }));
   * const saved = { '1': { calls: 40 } };
   * net.loadExtraStateDict(saved);
   * net.extraStateDict() // { '1': { calls: 40 } }
   */
  loadExtraStateDict(dict: Readonly<Record<string, JsonValue>>, opts: LoadStateDictOptions = {}): void {
    const op = `${this.className}.loadExtraStateDict`;
    if (dict === null || typeof dict !== 'object' || Array.isArray(dict)) throw new AxonError(op, 'expected a record of JSON values by module path');
    const modules = new Map(this.namedModules());
    const current = this.extraStateDict();
    const unknown = Object.keys(dict).filter((k) => !modules.has(k));
    if (unknown.length) throw new AxonError(op, `no module at ${unknown.map((k) => JSON.stringify(k)).join(', ')}`);
    const missing = Object.keys(current).filter((k) => !Object.hasOwn(dict, k));
    if (loadOptions(op, opts) && missing.length) throw new AxonError(op, `missing extra state for ${missing.map((k) => JSON.stringify(k)).join(', ')}`);
    const done: string[] = [];
    try {
      for (const [k, v] of Object.entries(dict)) {
        modules.get(k)!.setExtraState(v);
        done.push(k);
      }
    } catch (e) {
      for (const k of done) if (current[k] !== undefined) modules.get(k)!.setExtraState(current[k]!);
      throw e;
    }
  }

  /**
   * Frees every parameter and buffer of this module and its descendants (and their gradients).
   * @example
   * const before = memory().numTensors;
   * const net = new Sequential(new Linear(3, 2), new BatchNorm1d(2)); // Linear: weight, bias; BatchNorm1d: weight, bias and 3 buffers
   * memory().numTensors - before // 7
   * net.dispose();
   * memory().numTensors - before // 0
   */
  dispose(): void {
    for (const m of this.modules()) {
      for (const [, v] of m.ownMembers()) if (!(v instanceof Module)) v.dispose();
      for (const b of m._buffers.values()) b.dispose();
      m.onDispose();
    }
  }

  /**
   * Hook for subclasses holding other tensors (called by {@link Module.dispose}).
   * @example
   * class Cached extends Module {
   *   cache: Tensor | null = null; // not a parameter (no grad): dispose() would not see it
   *   forward(x: Tensor): Tensor {
   *     this.cache?.dispose();
   *     this.cache = x.clone().keep();
   *     return x;
   *   }
   *   protected override onDispose(): void { this.cache?.dispose(); }
   * }
   * const before = memory().numTensors;
   * const c = new Cached();
   * c.call(ones([2])).dispose();
   * c.dispose();
   * memory().numTensors - before // 0
   */
  protected onDispose(): void {}

  /**
   * The part of {@link Module.toString} between the parentheses for a module without children
   * (its configuration); layers override it.
   * @example new Linear(3, 2).extraRepr() // 'inFeatures=3, outFeatures=2, bias=true'
   */
  extraRepr(): string {
    const c = this.getConfig();
    return Object.entries(c)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(', ');
  }

  /**
   * A PyTorch-style description: the class and configuration, and children indented by name.
   * @example
   * const net = new Sequential(new Linear(3, 2), new ReLU());
   * console.log(String(net));
   * // Sequential(
   * //   (0): Linear(inFeatures=3, outFeatures=2, bias=true)
   * //   (1): ReLU()
   * // )
   * String(net).split('\n') // ['Sequential(', '  (0): Linear(inFeatures=3, outFeatures=2, bias=true)', '  (1): ReLU()', ')']
   */
  toString(): string {
    const kids = this.namedChildren();
    if (kids.length === 0) return `${this.className}(${this.extraRepr()})`;
    const lines = kids.map(([n, m]) => `  (${n}): ${String(m).split('\n').join('\n  ')}`);
    return `${this.className}(\n${lines.join('\n')}\n)`;
  }
}

/** @internal What a state-dict entry holds (its shape and dtype), or a problem with it (an error line). */
export type StateEntryDescription = { readonly shape: readonly number[]; readonly dtype: DType } | string;

/**
 * @internal The checks of {@link Module.loadStateDict}, over descriptions of the entries (so a
 * file's header can be checked before its tensors are read): which module state each entry
 * fills (`pairs`: [module name, dict name], legacy names resolved), the missing and unexpected
 * names, or an {@link AxonError} listing every problem in PyTorch's words.
 */
export function planStateDictLoad(m: Module<unknown, unknown> | StateTarget, dict: Readonly<Record<string, StateEntryDescription>>, strict: boolean): { pairs: [string, string][]; missingKeys: string[]; unexpectedKeys: string[] } {
  const t: StateTarget = m instanceof Module ? stateTargetOf(m) : m;
  const op = `${t.className}.loadStateDict`;
  const own = t.own;
  // names of earlier versions: the dict's legacy name stands for the current one when the dict lacks that
  const alias = new Map<string, string>();
  for (const [n, o] of t.legacy ?? []) if (Object.hasOwn(own, n) && !Object.hasOwn(dict, n) && Object.hasOwn(dict, o)) alias.set(n, o);
  const used = new Set(alias.values());
  const sourceKey = (k: string): string => alias.get(k) ?? k;
  const missingKeys = Object.keys(own).filter((k) => !Object.hasOwn(dict, sourceKey(k)));
  const unexpectedKeys = Object.keys(dict).filter((k) => !Object.hasOwn(own, k) && !used.has(k));
  const problems: string[] = [];
  if (strict && missingKeys.length) problems.push(`Missing key(s) in state_dict: ${missingKeys.map((k) => JSON.stringify(k)).join(', ')}.`);
  if (strict && unexpectedKeys.length) problems.push(`Unexpected key(s) in state_dict: ${unexpectedKeys.map((k) => JSON.stringify(k)).join(', ')}.`);
  const pairs: [string, string][] = [];
  const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;
  for (const [k, target] of Object.entries(own)) {
    const sk = sourceKey(k);
    // a name given with an undefined value is not a missing name: it is a bad value
    if (!Object.hasOwn(dict, sk)) continue;
    const src = dict[sk]!;
    if (typeof src === 'string') {
      problems.push(src);
      continue;
    }
    let ok = true;
    if (src.shape.length !== target.shape.length || src.shape.some((d, i) => d !== target.shape[i])) {
      problems.push(`size mismatch for ${k}: copying a param with shape ${fmt(src.shape)} from checkpoint, the shape in current model is ${fmt(target.shape)}.`);
      ok = false;
    }
    if (src.dtype !== target.dtype && (src.dtype === 'bool' || target.dtype === 'bool')) {
      problems.push(`dtype mismatch for ${k}: copying a ${src.dtype} tensor from checkpoint, the tensor in current model is ${target.dtype}.`);
      ok = false;
    }
    if (ok) pairs.push([k, sk]);
  }
  if (problems.length) throw new AxonError(op, `Error(s) in loading state_dict for ${m.className}:\n\t${problems.join('\n\t')}`);
  return { pairs, missingKeys, unexpectedKeys };
}

/** @internal What a state dict is loaded into: a class name (for errors), its entries' shapes and dtypes, legacy names ([current, old] full names). */
export interface StateTarget {
  readonly className: string;
  readonly own: Readonly<Record<string, { readonly shape: readonly number[]; readonly dtype: DType }>>;
  readonly legacy?: readonly (readonly [string, string])[];
}

function stateTargetOf(m: Module<unknown, unknown>): StateTarget {
  const legacy: [string, string][] = [];
  for (const [prefix, sub] of m.namedModules()) {
    for (const [old, now] of Object.entries(sub.legacyStateNames())) legacy.push([prefix ? `${prefix}.${now}` : now, prefix ? `${prefix}.${old}` : old]);
  }
  return { className: m.className, own: m.stateDict(), legacy };
}

/** `{ strict }` of the load methods (default true), checked. */
function loadOptions(op: string, opts: unknown): boolean {
  if (opts === undefined) return true;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw new AxonError(op, `options must be an object such as { strict: false }, got ${fmtValue(opts)}`);
  for (const k of Reflect.ownKeys(opts)) if (k !== 'strict') throw new AxonError(op, `unknown option ${typeof k === 'string' ? `'${k}'` : String(k)}; expected strict`);
  const strict: unknown = (opts as LoadStateDictOptions).strict;
  if (strict !== undefined && typeof strict !== 'boolean') throw new AxonError(op, `strict must be true or false, got ${fmtValue(strict)}`);
  return strict ?? true;
}

function checkName(m: Module<unknown, unknown>, name: string): void {
  if (typeof name !== 'string' || name === '' || name.includes('.')) {
    throw new AxonError(`${m.className}.register`, `names must be non-empty strings without '.', got ${JSON.stringify(name)}`);
  }
  if (INTERNAL.has(name)) throw new AxonError(`${m.className}.register`, `'${name}' is reserved`);
}

/** Zeros of a symbolic shape with batch (null) 1. */
export function zerosOf(shape: SymbolicShape, dtype: DType = 'float32'): Tensor {
  return noGrad(() => tensorZeros(shape.map((d) => d ?? 1), dtype));
}
