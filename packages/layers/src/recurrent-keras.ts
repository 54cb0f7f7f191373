/**
 * The Keras front's recurrent layers: `SimpleRNN`, `KerasLSTM`, `KerasGRU` (Keras' `SimpleRNN`,
 * `LSTM`, `GRU`; the last two are prefixed because `LSTM`/`GRU` are the PyTorch front's modules,
 * as `Dense`/`Linear` and `BatchNormalization`/`BatchNorm1d` are separate classes). They run the
 * loop of `recurrent.ts`.
 */
import { AxonError, type Tensor, concat, fmtShape, fmtValue, isTensor, ones, stack, zeros } from '@axon/core';
import { type ActivationName, activationName, getActivation } from './activations.js';
import { initParameter } from './build.js';
import { type Initializer, getInitializer } from './init.js';
import { type LayerConfig, Module, reserveParameters } from './module.js';
import { type CellKind, type DirectionWeights, type LoopSpec, type RecurrentRun, compositeAll, gateCount, reportRecurrent, runDirection } from './recurrent.js';
import { type SymbolicShape, SymbolicTensor, isSymbolic } from './symbolic.js';
import { checkFinite, checkInt, optBool, optInputShape, optName, optionsOf } from './validate.js';
import type { LayerOptions } from './layers.js';

/**
 * Options of {@link SimpleRNN}, {@link KerasLSTM} and {@link KerasGRU} (Keras' arguments). `S` is
 * the type of `returnState` (default `false`): `KerasRecurrentOptions<true>` for options that make
 * `call` return `[output, ...states]`, `KerasRecurrentOptions<boolean>` when it is known only at run time.
 * @example
 * const opts: KerasRecurrentOptions = { returnSequences: true, inputShape: [10, 8] };
 * const layer = new KerasLSTM(16, opts);
 * layer.call(randn([4, 10, 8])).shape // [4, 10, 16]
 * const withState: KerasRecurrentOptions<true> = { returnState: true };
 * const [out, h, c] = new KerasLSTM(16, withState).call(randn([4, 10, 8]));
 * c.shape // [4, 16]
 */
export interface KerasRecurrentOptions<S extends boolean = false> extends LayerOptions {
  /** The candidate/output activation (default `'tanh'`). */
  activation?: ActivationName | string | null;
  /** The gates' activation (default `'sigmoid'`; not used by SimpleRNN). */
  recurrentActivation?: ActivationName | string | null;
  /** Whether to learn a bias (default true). */
  useBias?: boolean;
  /** Return the output of every step [batch, time, units] instead of the last [batch, units] (default false). */
  returnSequences?: boolean;
  /**
   * Whether `call` returns `[output, ...states]` (`[output, h]` for SimpleRNN and GRU, `[output, h,
   * c]` for LSTM) instead of the output alone, as Keras' `return_state=True` (default false). Such a
   * layer cannot be a layer of a Sequential model (its output is a list).
   */
  returnState?: S;
  /** Process the sequence in reverse; the returned sequence is in processing order, as Keras (default false). */
  goBackwards?: boolean;
  /** `kernel` initialiser (default `'glorotUniform'`). */
  kernelInitializer?: Initializer;
  /** `recurrentKernel` initialiser (default `'orthogonal'`). */
  recurrentInitializer?: Initializer;
  /** `bias` initialiser (default `'zeros'`). */
  biasInitializer?: Initializer;
  /** LSTM: initialise the forget gate's bias to 1 (default true, as Keras). */
  unitForgetBias?: boolean;
  /** GRU: reset gate after the recurrent matmul, with separate input and recurrent biases `bias` [2, 3·units] (default true, Keras' default and PyTorch's form). */
  resetAfter?: boolean;
  /** Steps whose features all equal this value are masked, as after Keras' `Masking(maskValue)` (default: no masking unless a mask is passed). */
  maskValue?: number;
}

const KERAS_KEYS = ['activation', 'recurrentActivation', 'useBias', 'returnSequences', 'returnState', 'goBackwards', 'kernelInitializer', 'recurrentInitializer', 'biasInitializer', 'maskValue', 'inputShape', 'name'] as const;

/**
 * What a Keras recurrent layer's `call` returns: `[output, ...states]` when `S` (its `returnState`)
 * is `true`, the output alone when `false`, either when `boolean`; `T` is `Tensor` eagerly,
 * {@link SymbolicTensor} in a functional model.
 * @example
 * const both: KerasRecurrentOutput<true, Tensor> = new KerasGRU(2, { returnState: true }).call(randn([1, 3, 2]));
 * both.length // 2
 */
export type KerasRecurrentOutput<S extends boolean, T> = S extends true ? T[] : T;

/**
 * Options of a Keras recurrent layer's `call` ({@link KerasRecurrentBase#call}): `T` is `Tensor`
 * eagerly, {@link SymbolicTensor} in a functional model (Keras' `layer(x, mask=…, initial_state=[…])`).
 * @example
 * const enc = new KerasLSTM(4, { returnState: true });
 * const [, h, c] = enc.call(randn([2, 5, 3]));
 * const opts: KerasRecurrentCallOptions<Tensor> = { initialState: [h, c] };
 * new KerasLSTM(4).call(randn([2, 6, 3]), opts).shape // [2, 4]
 */
export interface KerasRecurrentCallOptions<T> {
  /** [batch, timesteps] (bool, or numbers where 0 masks): masked steps keep the previous state and output. */
  mask?: T;
  /** The initial state, zeros by default: `[h]` for SimpleRNN and GRU, `[h, c]` for LSTM, each [batch, units]. */
  initialState?: readonly T[];
}

/**
 * @internal The shared implementation: weights `kernel` [in, G·units], `recurrentKernel` [units,
 * G·units], `bias`. `S` is the type of `returnState` (see {@link KerasRecurrentOutput}).
 */
export abstract class KerasRecurrentBase<S extends boolean = false> extends Module<KerasRecurrentOutput<S, Tensor>, KerasRecurrentOutput<S, SymbolicTensor>> {
  /** Size of the state and output. */
  readonly units: number;
  /** The activation's canonical name. */
  readonly activation: ActivationName;
  /** The gates' activation's canonical name. */
  readonly recurrentActivation: ActivationName;
  /** Whether a bias is learned. */
  readonly useBias: boolean;
  /** Whether every step's output is returned. */
  readonly returnSequences: boolean;
  /** Whether `call` returns `[output, ...states]` (Keras' `return_state`). */
  readonly returnState: S;
  /** Whether the sequence is processed in reverse. */
  readonly goBackwards: boolean;
  /** Steps whose features all equal it are masked, when set. */
  readonly maskValue: number | undefined;
  /** The input's shape (one example: [time, features]) when given. */
  readonly inputShape: readonly number[] | undefined;
  /** [inputDim, G·units] once built. */
  kernel: Tensor | null = null;
  /** [units, G·units] once built. */
  recurrentKernel: Tensor | null = null;
  /** [G·units] (GRU with resetAfter: [2, 3·units]) once built, when `useBias`. */
  bias: Tensor | null = null;
  /** @internal */
  protected readonly kind: CellKind;
  /** @internal */
  protected readonly resetAfter: boolean;
  /** @internal */
  protected readonly unitForgetBias: boolean;
  private readonly inits: { kernel: Initializer; recurrent: Initializer; bias: Initializer };

  protected constructor(cls: string, kind: CellKind, units: number, opts: KerasRecurrentOptions<S>, extra: readonly string[]) {
    const o = optionsOf<KerasRecurrentOptions<S>>(cls, opts, [...KERAS_KEYS, ...extra]);
    super(optName(cls, o.name));
    this.kind = kind;
    this.units = checkInt(cls, 'units', units);
    this.activation = activationName(o.activation === undefined ? 'tanh' : o.activation, cls);
    this.recurrentActivation = activationName(o.recurrentActivation === undefined ? 'sigmoid' : o.recurrentActivation, cls);
    this.useBias = optBool(cls, 'useBias', o.useBias) ?? true;
    this.returnSequences = optBool(cls, 'returnSequences', o.returnSequences) ?? false;
    this.returnState = (optBool(cls, 'returnState', o.returnState) ?? false) as S;
    this.goBackwards = optBool(cls, 'goBackwards', o.goBackwards) ?? false;
    this.resetAfter = optBool(cls, 'resetAfter', o.resetAfter) ?? true;
    this.unitForgetBias = optBool(cls, 'unitForgetBias', o.unitForgetBias) ?? true;
    this.maskValue = o.maskValue === undefined ? undefined : checkFinite(cls, 'maskValue', o.maskValue);
    this.inits = { kernel: o.kernelInitializer ?? 'glorotUniform', recurrent: o.recurrentInitializer ?? 'orthogonal', bias: o.biasInitializer ?? 'zeros' };
    getInitializer(this.inits.kernel);
    getInitializer(this.inits.recurrent);
    getInitializer(this.inits.bias);
    const shape = optInputShape(cls, o.inputShape);
    if (shape && shape.length !== 2) throw new AxonError(cls, `inputShape must be [timesteps, features], got ${fmtShape(shape)}`);
    this.inputShape = shape;
    if (shape) this.build(shape[1]!);
  }

  /** The input size once built, else null. */
  get inputDim(): number | null {
    return this.kernel ? this.kernel.shape[0]! : null;
  }

  /** Whether the weights exist. */
  get built(): boolean {
    return this.kernel !== null;
  }

  /**
   * Creates the weights for inputs of `inputDim` features (done on the first call).
   * @example
   * const layer = new SimpleRNN(4);
   * layer.build(3);
   * layer.kernel!.shape // [3, 4]
   * layer.recurrentKernel!.shape // [4, 4]
   */
  build(inputDim: number): void {
    const op = `${this.className} '${this.name}'`;
    if (this.kernel) {
      if (this.kernel.shape[0] !== inputDim) throw new AxonError(op, `already built for ${this.kernel.shape[0]} input features, got ${inputDim}`);
      return;
    }
    checkInt(op, 'input size', inputDim);
    const G = gateCount(this.kind);
    const u = this.units;
    const biasShape = this.kind === 'GRU' && this.resetAfter ? [2, G * u] : [G * u];
    reserveParameters(op, [[inputDim, G * u], [u, G * u], ...(this.useBias ? [biasShape] : [])]);
    try {
      this.kernel = initParameter(this, 'kernel', getInitializer(this.inits.kernel), [inputDim, G * u], { fanIn: inputDim, fanOut: G * u });
      this.recurrentKernel = initParameter(this, 'recurrentKernel', getInitializer(this.inits.recurrent), [u, G * u], { fanIn: u, fanOut: G * u });
      if (this.useBias) {
        const binit = getInitializer(this.inits.bias);
        if (this.kind === 'LSTM' && this.unitForgetBias) {
          // Keras: the initialiser's values for i, c, o and ones for the forget gate
          this.bias = this.addParameter('bias', () => {
            const b = binit([G * u], { fanIn: inputDim, fanOut: G * u });
            if (!isTensor(b) || b.rank !== 1 || b.shape[0] !== G * u) throw new AxonError(op, `the bias initialiser must return a Tensor [${G * u}]`);
            return concat([b.slice([0], [u]), ones([u]), b.slice([2 * u], [2 * u])], 0);
          });
        } else this.bias = initParameter(this, 'bias', binit, biasShape, { fanIn: inputDim, fanOut: G * u });
      }
    } catch (e) {
      for (const t of [this.kernel, this.recurrentKernel, this.bias]) t?.dispose();
      this.kernel = this.recurrentKernel = this.bias = null;
      throw e;
    }
  }

  /** @internal The direction weights in the loop's layout. */
  private weights(tmp: <T extends Tensor>(t: T) => T): DirectionWeights {
    const G = gateCount(this.kind);
    const u = this.units;
    if (this.kind === 'GRU' && this.resetAfter && this.bias) {
      return { wx: this.kernel!, wh: this.recurrentKernel!, bx: tmp(tmp(this.bias.slice([0, 0], [1, G * u])).reshape([G * u])), bh: tmp(tmp(this.bias.slice([1, 0], [1, G * u])).reshape([G * u])) };
    }
    return { wx: this.kernel!, wh: this.recurrentKernel!, bx: this.bias, bh: null };
  }

  /**
   * Runs the layer and returns `[output, ...states]` as Keras' `return_state=True` does: `[output,
   * h]` for SimpleRNN and GRU, `[output, h, c]` for LSTM (states [batch, units]). `mask` [batch,
   * time] (bool, or numbers where 0 masks) skips steps: a masked step keeps the previous state and
   * output. `initialState` defaults to zeros. Whatever `returnState` is (with `returnState: true`,
   * `call` returns the same list).
   * @example
   * const lstm = new KerasLSTM(3, { returnSequences: true, returnState: true });
   * const [seq, h, c] = lstm.forwardWithState(randn([2, 5, 4]));
   * seq.shape // [2, 5, 3]
   * h.shape // [2, 3]
   * c.shape // [2, 3]
   */
  forwardWithState(x: Tensor, opts: { mask?: Tensor; initialState?: readonly Tensor[] } = {}): Tensor[] {
    const op = `${this.className} '${this.name}'`;
    const o = optionsOf<{ mask?: Tensor; initialState?: readonly Tensor[] }>(op, opts, ['mask', 'initialState']);
    if (!isTensor(x)) throw new AxonError(op, `expects a Tensor input, got ${fmtValue(x)}`);
    if (x.rank !== 3 || x.dtype !== 'float32') throw new AxonError(op, `expects float32 input [batch, timesteps, features], got ${x.dtype} ${fmtShape(x.shape)}`);
    const [B, T, F] = x.shape as [number, number, number];
    if (this.inputShape && (this.inputShape[0] !== T || this.inputShape[1] !== F)) throw new AxonError(op, `expected input [batch, ${this.inputShape.join(', ')}], got ${fmtShape(x.shape)}`);
    if (T === 0) throw new AxonError(op, `expects at least one time step, got ${fmtShape(x.shape)}`);
    if (this.kernel && F !== this.inputDim) throw new AxonError(op, `expected ${this.inputDim} input features ([batch, timesteps, ${this.inputDim}]), got ${fmtShape(x.shape)}`);
    const mask = o.mask;
    if (mask !== undefined) {
      if (!isTensor(mask) || mask.rank !== 2 || mask.shape[0] !== B || mask.shape[1] !== T) throw new AxonError(op, `mask must be a Tensor [batch, timesteps] = [${B}, ${T}], got ${isTensor(mask) ? `${mask.dtype} ${fmtShape(mask.shape)}` : fmtValue(mask)}`);
    }
    const nStates = this.kind === 'LSTM' ? 2 : 1;
    const init = o.initialState;
    if (init !== undefined) {
      if (!Array.isArray(init) || init.length !== nStates || !init.every((s) => isTensor(s) && s.dtype === 'float32' && s.rank === 2 && s.shape[0] === B && s.shape[1] === this.units)) {
        throw new AxonError(op, `initialState must be ${nStates} float32 Tensor${nStates > 1 ? 's' : ''} [${B}, ${this.units}], got ${fmtValue(init)}`);
      }
    }
    if (!this.kernel) this.build(F);
    const spec: LoopSpec = { kind: this.kind, hidden: this.units, gruOrder: 'zrn', resetAfter: this.resetAfter, act: getActivation(this.activation), recAct: getActivation(this.recurrentActivation) };
    const describe = (): RecurrentRun => ({
      front: 'keras',
      module: this,
      kind: this.kind,
      hidden: this.units,
      x,
      h0: init ? init[0]! : null,
      c0: init && this.kind === 'LSTM' ? init[1]! : null,
      activation: this.activation,
      recurrentActivation: this.recurrentActivation,
      resetAfter: this.resetAfter,
      goBackwards: this.goBackwards,
      returnSequences: this.returnSequences,
      masked: mask !== undefined || this.maskValue !== undefined,
      kernel: this.kernel!,
      recurrentKernel: this.recurrentKernel!,
      bias: this.bias,
    });
    return reportRecurrent(describe, () => compositeAll([x, mask, ...(init ?? [])], (tmp) => {
      const seq = tmp(x.permute([1, 0, 2]));
      let m: Tensor | null = null;
      if (mask) m = tmp(tmp(tmp(mask.dtype === 'bool' ? mask : tmp(mask.ne(0))).T).reshape([T, B, 1]));
      else if (this.maskValue !== undefined) {
        // a step is masked when all its features equal maskValue (Keras' Masking)
        m = tmp(tmp(tmp(tmp(tmp(seq.ne(this.maskValue)).astype('float32')).max(-1, true)).gt(0)));
      }
      const h0 = init ? init[0]! : tmp(zeros([B, this.units]));
      const c0 = this.kind === 'LSTM' ? (init ? init[1]! : h0) : null;
      const res = runDirection(spec, this.weights(tmp), seq, h0, c0, this.goBackwards, m, tmp);
      // Keras returns the sequence in processing order (reversed for goBackwards)
      const order = this.goBackwards ? [...res.outputs].reverse() : res.outputs;
      const out = this.returnSequences ? tmp(tmp(stack(order, 1))) : order[order.length - 1]!;
      const states = res.c ? [res.h, res.c] : [res.h];
      // a state that is also the output (or an input) is returned as its own tensor
      const own = states.map((s) => (s === out || s === x || init?.includes(s) ? tmp(s.reshape(s.shape)) : s));
      return [out, ...own];
    }));
  }

  /** @internal The number of states: 2 for the LSTM, 1 otherwise. */
  get stateCount(): number {
    return this.kind === 'LSTM' ? 2 : 1;
  }

  /**
   * Runs the layer: the last output [batch, units], or every step's [batch, timesteps, units] with
   * `returnSequences`; with `returnState`, `[output, ...states]` (see
   * {@link KerasRecurrentBase#forwardWithState}). The second argument is a `mask` [batch, timesteps]
   * or `{ mask, initialState }`.
   * @example
   * new SimpleRNN(4).call(randn([2, 6, 3])).shape // [2, 4]
   * const [out, h] = new SimpleRNN(4, { returnState: true }).forward(randn([2, 6, 3]));
   * h.shape // [2, 4]
   */
  forward(x: Tensor, opts?: Tensor | KerasRecurrentCallOptions<Tensor>): KerasRecurrentOutput<S, Tensor> {
    const o = opts === undefined ? {} : isTensor(opts) ? { mask: opts } : opts;
    const outs = this.forwardWithState(x, o);
    if (this.returnState) return outs as KerasRecurrentOutput<S, Tensor>;
    for (const s of outs.slice(1)) if (!s.requiresGrad && s !== outs[0]) s.dispose();
    return outs[0]! as KerasRecurrentOutput<S, Tensor>;
  }

  /**
   * Runs the layer (Keras' `layer(x, mask=…, initial_state=[…])`): on a Tensor, `forward`; on a {@link SymbolicTensor} it records a node of a functional
   * model. The second argument is a `mask` [batch, timesteps] or `{ mask, initialState }` (tensors,
   * or symbolic tensors in a functional model: e.g. an encoder's states feeding a decoder). With
   * `returnState: true` it returns `[output, ...states]` (`[output, h, c]` for the LSTM), else the
   * output alone.
   * @example
   * const encIn = input({ shape: [5, 3] });
   * const decIn = input({ shape: [4, 2] });
   * const [, h, c] = new KerasLSTM(6, { returnState: true }).call(encIn);
   * const dec = new KerasLSTM(6, { returnSequences: true }).call(decIn, { initialState: [h, c] });
   * const m = model({ inputs: [encIn, decIn], outputs: new Dense(3).call(dec) });
   * m.forward(randn([2, 5, 3]), randn([2, 4, 2])).shape // [2, 4, 3]
   */
  override call(x: Tensor, opts?: Tensor | KerasRecurrentCallOptions<Tensor>): KerasRecurrentOutput<S, Tensor>;
  override call(x: SymbolicTensor, opts?: SymbolicTensor | KerasRecurrentCallOptions<SymbolicTensor>): KerasRecurrentOutput<S, SymbolicTensor>;
  override call(...inputs: Tensor[]): KerasRecurrentOutput<S, Tensor>;
  override call(...inputs: SymbolicTensor[]): KerasRecurrentOutput<S, SymbolicTensor>;
  override call(...args: unknown[]): KerasRecurrentOutput<S, Tensor> | KerasRecurrentOutput<S, SymbolicTensor> {
    const op = `${this.className} '${this.name}'`;
    const [x, second] = args;
    if (args.length < 1 || args.length > 2) throw new AxonError(op, `call expects (x, mask?) or (x, { mask, initialState }), got ${args.length} arguments`);
    let mask: unknown;
    let init: unknown;
    if (second === undefined || isTensor(second) || isSymbolic(second)) mask = second;
    else {
      const o = optionsOf<KerasRecurrentCallOptions<unknown>>(op, second as KerasRecurrentCallOptions<unknown>, ['mask', 'initialState']);
      mask = o.mask;
      init = o.initialState;
    }
    const symbolic = isSymbolic(x);
    const all = [x, mask, ...(Array.isArray(init) ? (init as unknown[]) : [])].filter((v) => v !== undefined);
    if (symbolic !== all.every(isSymbolic) || (!symbolic && all.some(isSymbolic))) throw new AxonError(`${this.name}.call`, 'cannot mix symbolic and concrete tensors in one call');
    if (!symbolic) {
      if (!isTensor(x)) throw new AxonError(op, `input 0 is not a Tensor (got ${fmtValue(x)})`);
      for (const [i, t] of all.entries()) if (isTensor(t) && t.isDisposed) throw new AxonError(op, `input ${i} (tensor #${t.id} ${fmtShape(t.shape)} ${t.dtype}) was disposed`);
      return this.forward(x, { ...(mask !== undefined ? { mask: mask as Tensor } : {}), ...(init !== undefined ? { initialState: init as Tensor[] } : {}) });
    }
    const sx = x as SymbolicTensor;
    const n = this.stateCount;
    const fmt = (t: unknown): string => (isSymbolic(t) ? `[${t.shape.map((d) => d ?? 'null').join(',')}]` : fmtValue(t));
    if (init !== undefined) {
      if (!Array.isArray(init) || init.length !== n || !init.every((t) => isSymbolic(t) && t.dtype === 'float32' && t.shape.length === 2 && t.shape[1] === this.units)) {
        throw new AxonError(op, `initialState must be ${n} float32 symbolic tensor${n > 1 ? 's' : ''} [null, ${this.units}] (${this.kind === 'LSTM' ? '[h, c]' : '[h]'}), got ${Array.isArray(init) ? `${init.length}: ${init.map(fmt).join(', ')}` : fmtValue(init)}`);
      }
    }
    if (mask !== undefined) {
      const m = mask as SymbolicTensor;
      if (m.shape.length !== 2 || (typeof m.shape[1] === 'number' && typeof sx.shape[1] === 'number' && m.shape[1] !== sx.shape[1])) throw new AxonError(op, `mask must be [batch, timesteps] = [null, ${sx.shape[1] ?? 'null'}], got ${fmt(m)}`);
    }
    const shape = this.computeOutputShape(sx.shape);
    const states = (init as SymbolicTensor[] | undefined) ?? [];
    const shapes = this.returnState ? [shape, ...Array.from({ length: n }, (): SymbolicShape => [null, this.units])] : [shape];
    const outs = SymbolicTensor.node(shapes, this as unknown as Module, [sx, ...(mask !== undefined ? [mask as SymbolicTensor] : []), ...states], states.length);
    return (this.returnState ? outs : outs[0]!) as KerasRecurrentOutput<S, SymbolicTensor>;
  }

  override computeOutputShape(s: SymbolicShape): SymbolicShape {
    const op = `${this.className} '${this.name}'`;
    if (s.length !== 3) throw new AxonError(op, `expects input [batch, timesteps, features], got [${s.map((d) => d ?? 'null').join(',')}]`);
    const f = s[2];
    if (typeof f !== 'number') throw new AxonError(op, 'cannot infer the number of input features');
    if (!this.kernel) this.build(f);
    else if (f !== this.inputDim) throw new AxonError(op, `expected ${this.inputDim} input features, got ${f}`);
    return this.returnSequences ? [s[0]!, s[1]!, this.units] : [s[0]!, this.units];
  }

  override getConfig(): LayerConfig {
    const c: Record<string, LayerConfig[string]> = {
      units: this.units,
      activation: this.activation,
      useBias: this.useBias,
      returnSequences: this.returnSequences,
      returnState: this.returnState,
      goBackwards: this.goBackwards,
    };
    if (this.kind !== 'RNN_TANH') c['recurrentActivation'] = this.recurrentActivation;
    if (this.kind === 'GRU') c['resetAfter'] = this.resetAfter;
    if (this.kind === 'LSTM') c['unitForgetBias'] = this.unitForgetBias;
    if (this.maskValue !== undefined) c['maskValue'] = this.maskValue;
    for (const [k, v] of [['kernelInitializer', this.inits.kernel], ['recurrentInitializer', this.inits.recurrent], ['biasInitializer', this.inits.bias]] as const) if (typeof v === 'string') c[k] = v;
    if (this.inputShape) c['inputShape'] = [...this.inputShape];
    else if (this.inputDim !== null) c['inputDim'] = this.inputDim;
    return c;
  }

  override extraRepr(): string {
    return `units=${this.units}${this.returnSequences ? ', returnSequences=true' : ''}${this.goBackwards ? ', goBackwards=true' : ''}`;
  }
}

/** Options of a saved config. @internal */
function kerasOptionsFrom(c: LayerConfig, name: string): { units: number; opts: KerasRecurrentOptions<boolean> & { inputDim?: number } } {
  const o: Record<string, unknown> = { name };
  for (const k of [...KERAS_KEYS, 'unitForgetBias', 'resetAfter']) if (k !== 'name' && c[k] !== undefined && c[k] !== null) o[k] = c[k];
  return { units: c['units'] as number, opts: o as KerasRecurrentOptions<boolean> };
}

function built<T extends KerasRecurrentBase<boolean>>(layer: T, c: LayerConfig): T {
  const d = c['inputDim'];
  if (typeof d === 'number') layer.build(d);
  return layer;
}

/**
 * Keras' `SimpleRNN`: `h_t = activation(x_t·kernel + h_{t−1}·recurrentKernel + bias)`.
 * @example
 * const rnn = new SimpleRNN(8, { returnSequences: true, inputShape: [5, 3] });
 * rnn.call(randn([2, 5, 3])).shape // [2, 5, 8]
 */
export class SimpleRNN<S extends boolean = false> extends KerasRecurrentBase<S> {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'SimpleRNN';
  constructor(units: number, opts: KerasRecurrentOptions<S> = {}) {
    super('SimpleRNN', 'RNN_TANH', units, opts, []);
  }
  /**
   * Rebuilds a SimpleRNN from {@link SimpleRNN.getConfig}.
   * @example SimpleRNN.fromConfig(new SimpleRNN(4, { goBackwards: true }).getConfig(), 's').goBackwards // true
   */
  static fromConfig(c: LayerConfig, name: string): SimpleRNN<boolean> {
    const { units, opts } = kerasOptionsFrom(c, name);
    return built(new SimpleRNN(units, opts), c);
  }
}

/**
 * Keras' `LSTM` (gates i, f, c, o in `kernel` [in, 4·units], `recurrentKernel` [units, 4·units],
 * `bias` [4·units]); named `KerasLSTM` here because {@link LSTM} is the PyTorch module. A PyTorch
 * LSTM's weights map as kernel = weight_ihᵀ, recurrentKernel = weight_hhᵀ, bias = bias_ih + bias_hh.
 * @example
 * const lstm = new KerasLSTM(16, { inputShape: [10, 8] });
 * lstm.call(randn([4, 10, 8])).shape // [4, 16]
 */
export class KerasLSTM<S extends boolean = false> extends KerasRecurrentBase<S> {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'KerasLSTM';
  constructor(units: number, opts: KerasRecurrentOptions<S> = {}) {
    super('KerasLSTM', 'LSTM', units, opts, ['unitForgetBias']);
  }
  /**
   * Rebuilds a KerasLSTM from {@link KerasLSTM.getConfig}.
   * @example KerasLSTM.fromConfig(new KerasLSTM(4, { returnSequences: true }).getConfig(), 'l').returnSequences // true
   */
  static fromConfig(c: LayerConfig, name: string): KerasLSTM<boolean> {
    const { units, opts } = kerasOptionsFrom(c, name);
    return built(new KerasLSTM(units, opts), c);
  }
}

/**
 * Keras' `GRU` (gates z, r, h; `resetAfter: true` by default, the form PyTorch uses, with `bias`
 * [2, 3·units] = input and recurrent biases); named `KerasGRU` here because {@link GRU} is the
 * PyTorch module.
 * @example
 * const gru = new KerasGRU(6, { returnSequences: true });
 * gru.call(randn([2, 4, 3])).shape // [2, 4, 6]
 * gru.bias!.shape // [2, 18]
 */
export class KerasGRU<S extends boolean = false> extends KerasRecurrentBase<S> {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'KerasGRU';
  constructor(units: number, opts: KerasRecurrentOptions<S> = {}) {
    super('KerasGRU', 'GRU', units, opts, ['resetAfter']);
  }
  /**
   * Rebuilds a KerasGRU from {@link KerasGRU.getConfig}.
   * @example KerasGRU.fromConfig(new KerasGRU(4, { resetAfter: false }).getConfig(), 'g').getConfig()['resetAfter'] // false
   */
  static fromConfig(c: LayerConfig, name: string): KerasGRU<boolean> {
    const { units, opts } = kerasOptionsFrom(c, name);
    return built(new KerasGRU(units, opts), c);
  }
}
