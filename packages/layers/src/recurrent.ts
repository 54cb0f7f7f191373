/**
 * Recurrent layers written with core ops (autograd gives the gradients): the PyTorch front's
 * `RNN`, `LSTM` and `GRU` modules, and the Keras front's `SimpleRNN`, `KerasLSTM` and `KerasGRU`
 * layers (see `recurrent-keras.ts`). Both run the same step loop: the input projection of every
 * step is one matmul before the loop; each step is one matmul with the recurrent weights plus a
 * short elementwise chain that the lazy engine fuses.
 */
import { AxonError, type Tensor, bernoulli, concat, fmtShape, fmtValue, isTensor, matmul, noGrad, setTraceHook, split, stack, unbind, where, zeros } from '@axon/core';
import { allocating } from './build.js';
import { torchDefault } from './init.js';
import { type LayerConfig, Module, reserveParameters } from './module.js';
import { checkFinite, checkInt, optBool, optName, optionsOf } from './validate.js';

/** @internal The cell computed at each step. */
export type CellKind = 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU';

/** @internal Number of gate blocks of a cell's weights. */
export function gateCount(kind: CellKind): number {
  return kind === 'LSTM' ? 4 : kind === 'GRU' ? 3 : 1;
}

/**
 * @internal The weights of one direction of one layer, in the layout the loop uses:
 * `wx` [inputSize, G·H] (PyTorch's `weight_ih`ᵀ, Keras' `kernel`), `wh` [H, G·H], biases [G·H].
 */
export interface DirectionWeights {
  readonly wx: Tensor;
  readonly wh: Tensor;
  /** Added to the input projection. */
  readonly bx: Tensor | null;
  /** Added to the recurrent projection (for GRU inside the reset gate's product). */
  readonly bh: Tensor | null;
}

/** @internal How the loop computes one direction. */
export interface LoopSpec {
  readonly kind: CellKind;
  readonly hidden: number;
  /** GRU gate order in the weights: PyTorch's r, z, n or Keras' z, r, h. */
  readonly gruOrder: 'rzn' | 'zrn';
  /** GRU: reset gate applied after the recurrent matmul (PyTorch, Keras' default) or before. */
  readonly resetAfter: boolean;
  /** The candidate's activation (tanh; relu for RNN_RELU; Keras' `activation`). */
  readonly act: (x: Tensor) => Tensor;
  /** The gates' activation (sigmoid; Keras' `recurrentActivation`). */
  readonly recAct: (x: Tensor) => Tensor;
}

/** @internal What every recurrent module reports to an exporter about one forward. */
interface RecurrentRunBase {
  /** The module that ran. */
  readonly module: Module<unknown, unknown>;
  /** The cell. */
  readonly kind: CellKind;
  /** Features of the hidden state. */
  readonly hidden: number;
  /** The input as the module got it. */
  readonly x: Tensor;
  /** The initial states as given (null: zeros). */
  readonly h0: Tensor | null;
  readonly c0: Tensor | null;
}

/**
 * @internal A PyTorch-front run (`RNN`, `LSTM`, `GRU`): weights as stored, index `layer·D + direction`
 * (`ih` [G·H, in], `hh` [G·H, H], biases [G·H]; gates i,f,g,o / r,z,n); states [numLayers·D, (B,) H];
 * outputs `[output, hN, cN?]`.
 */
export interface TorchRecurrentRun extends RecurrentRunBase {
  readonly front: 'torch';
  readonly numLayers: number;
  readonly bidirectional: boolean;
  readonly batchFirst: boolean;
  /** Whether the input is [T, B, I] (or [B, T, I]); false for an unbatched [T, I]. */
  readonly batched: boolean;
  /** Whether dropout runs between layers (training mode with dropout > 0). */
  readonly dropoutActive: boolean;
  readonly weights: readonly { readonly ih: Tensor; readonly hh: Tensor; readonly bih: Tensor | null; readonly bhh: Tensor | null }[];
}

/**
 * @internal A Keras-front run (`SimpleRNN`, `KerasLSTM`, `KerasGRU`): `kernel` [in, G·units],
 * `recurrentKernel` [units, G·units], `bias` [G·units] (GRU with resetAfter: [2, 3·units]); gates
 * i,f,c,o / z,r,h; input [B, T, I]; states [B, units]; outputs `[output, h, c?]`.
 */
export interface KerasRecurrentRun extends RecurrentRunBase {
  readonly front: 'keras';
  readonly activation: string;
  readonly recurrentActivation: string;
  readonly resetAfter: boolean;
  readonly goBackwards: boolean;
  readonly returnSequences: boolean;
  /** Whether steps are masked (a mask argument or `maskValue`). */
  readonly masked: boolean;
  readonly kernel: Tensor;
  readonly recurrentKernel: Tensor;
  readonly bias: Tensor | null;
}

/** @internal A recurrent module's run, as an exporter sees it. */
export type RecurrentRun = TorchRecurrentRun | KerasRecurrentRun;

/**
 * @internal An exporter's hook: told about each recurrent module's run before it computes; returns
 * null to see the run's ops one by one (unrolled), or a function that receives the run's outputs —
 * the module then runs with core's trace hook removed, so its inside is not traced.
 */
export type RecurrentExportHook = (run: RecurrentRun) => ((outputs: readonly Tensor[]) => void) | null;

let recurrentExportHook: RecurrentExportHook | null = null;

/**
 * @internal Installs the hook recurrent modules report their runs to (null removes it); returns
 * the previous one. For exporters (`@axon/onnx`), which install it around a trace and restore it.
 */
export function setRecurrentExportHook(hook: RecurrentExportHook | null): RecurrentExportHook | null {
  const prev = recurrentExportHook;
  recurrentExportHook = hook;
  return prev;
}

/** @internal Runs a recurrent module's computation; with an export hook installed, reports it (see {@link RecurrentExportHook}). */
export function reportRecurrent<R extends readonly Tensor[]>(describe: () => RecurrentRun, run: () => R): R {
  const hook = recurrentExportHook;
  if (hook === null) return run();
  const done = hook(describe());
  if (done === null) return run();
  const prev = setTraceHook(null);
  let r: R;
  try {
    r = run();
  } finally {
    setTraceHook(prev);
  }
  done(r);
  return r;
}

/** @internal Runs `fn`, registering every tensor it makes with `tmp`; frees what is neither kept, an input, a result nor needed by autograd. */
export function compositeAll<R extends readonly Tensor[]>(inputs: readonly (Tensor | null | undefined)[], fn: (tmp: <T extends Tensor>(t: T) => T) => R): R {
  const made: Tensor[] = [];
  const tmp = <T extends Tensor>(t: T): T => {
    made.push(t);
    return t;
  };
  const mine = (t: Tensor): boolean => !t.kept && !inputs.includes(t) && !t.isDisposed;
  let r: R;
  try {
    r = fn(tmp);
  } catch (e) {
    for (const t of made) if (mine(t)) t.dispose();
    throw e;
  }
  for (const t of made) if (!r.includes(t) && mine(t) && !t.requiresGrad && !t.savedForBackward) t.dispose();
  return r;
}

/**
 * @internal One direction over time-major `x` [T, B, I] from `h0` (and `c0`) [B, H]. `mask`, when
 * given, is a bool [T, B, 1]: steps where it is false keep the previous state and output.
 * Returns the outputs in time order (index t is the output at input step t) and the final states.
 */
export function runDirection(
  spec: LoopSpec,
  w: DirectionWeights,
  x: Tensor,
  h0: Tensor,
  c0: Tensor | null,
  reverse: boolean,
  mask: Tensor | null,
  tmp: <T extends Tensor>(t: T) => T,
): { outputs: Tensor[]; h: Tensor; c: Tensor | null } {
  const [T, B] = [x.shape[0]!, x.shape[1]!];
  const H = spec.hidden;
  // the input projection of every step in one matmul; for all but GRU both biases fold into it
  let xp = tmp(matmul(x, w.wx));
  if (w.bx) xp = tmp(xp.add(w.bx));
  const foldBh = spec.kind !== 'GRU' && w.bh !== null;
  if (foldBh) xp = tmp(xp.add(w.bh!));
  let h = h0;
  let c = c0;
  let prevOut: Tensor | null = null;
  const outputs: Tensor[] = new Array<Tensor>(T);
  // a step's gates as views: one split per tensor and step (one group op, whose gradient is one
  // concat) instead of one slice per gate (each slice's gradient a full-size pad)
  const gates = (t: Tensor, n: number): Tensor[] => split(t, n, 1).map((v) => tmp(v));
  // every step's input projection as a view [B, G·H]; unbind's gradient is one stack (O(T) backward)
  const steps = unbind(xp, 0).map((v) => tmp(v));
  const gruIdx = spec.gruOrder === 'rzn' ? { r: 0, z: 1, n: 2 } : { z: 0, r: 1, n: 2 };
  // GRU reset-before (Keras resetAfter: false): the recurrent weight's three [H, H] blocks, split once
  const whGates = spec.kind === 'GRU' && !spec.resetAfter ? split(w.wh, 3, 1).map((v) => tmp(v)) : null;
  // the mask of every step as a view [B, 1], unbound once
  const masks = mask ? unbind(mask, 0).map((v) => tmp(v)) : null;
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const xt = steps[t]!;
    let hNew: Tensor;
    let cNew: Tensor | null = null;
    if (spec.kind === 'LSTM') {
      const [gi, gf, gg, go] = gates(tmp(xt.add(tmp(matmul(h, w.wh)))), 4) as [Tensor, Tensor, Tensor, Tensor];
      const i = tmp(spec.recAct(gi));
      const f = tmp(spec.recAct(gf));
      const g = tmp(spec.act(gg));
      const o = tmp(spec.recAct(go));
      cNew = tmp(tmp(f.mul(c!)).add(tmp(i.mul(g))));
      hNew = tmp(o.mul(tmp(spec.act(cNew))));
    } else if (spec.kind === 'GRU') {
      const xg = gates(xt, 3);
      if (spec.resetAfter) {
        let gh = tmp(matmul(h, w.wh));
        if (w.bh) gh = tmp(gh.add(w.bh));
        const hg = gates(gh, 3);
        const r = tmp(spec.recAct(tmp(xg[gruIdx.r]!.add(hg[gruIdx.r]!))));
        const z = tmp(spec.recAct(tmp(xg[gruIdx.z]!.add(hg[gruIdx.z]!))));
        const n = tmp(spec.act(tmp(xg[gruIdx.n]!.add(tmp(r.mul(hg[gruIdx.n]!))))));
        hNew = tmp(n.add(tmp(z.mul(tmp(h.sub(n))))));
      } else {
        const r = tmp(spec.recAct(tmp(xg[gruIdx.r]!.add(tmp(matmul(h, whGates![gruIdx.r]!))))));
        const z = tmp(spec.recAct(tmp(xg[gruIdx.z]!.add(tmp(matmul(h, whGates![gruIdx.z]!))))));
        const n = tmp(spec.act(tmp(xg[gruIdx.n]!.add(tmp(matmul(tmp(r.mul(h)), whGates![gruIdx.n]!))))));
        hNew = tmp(n.add(tmp(z.mul(tmp(h.sub(n))))));
      }
    } else {
      hNew = tmp(spec.act(tmp(xt.add(tmp(matmul(h, w.wh))))));
    }
    let out = hNew;
    if (masks) {
      const m = masks[t]!;
      prevOut ??= tmp(zeros([B, H]));
      out = tmp(where(m, hNew, prevOut));
      hNew = tmp(where(m, hNew, h));
      if (cNew) cNew = tmp(where(m, cNew, c!));
      prevOut = out;
    }
    outputs[t] = out;
    h = hNew;
    c = cNew;
  }
  return { outputs, h, c };
}

// ------------------------------------------------------------------ PyTorch front

/**
 * Options of {@link RNN}, {@link LSTM} and {@link GRU} (PyTorch's arguments after the two sizes).
 * @example
 * const opts: RecurrentOptions = { numLayers: 2, batchFirst: true, bidirectional: true };
 * const lstm = new LSTM(8, 16, opts);
 * const [out] = lstm.forward(randn([4, 10, 8])); // [batch, time, features]
 * out.shape // [4, 10, 32]
 */
export interface RecurrentOptions {
  /** Stacked layers (default 1). */
  numLayers?: number;
  /** Whether to learn `bias_ih` and `bias_hh` (default true). */
  bias?: boolean;
  /** Input and output as [batch, time, features] instead of [time, batch, features] (default false). */
  batchFirst?: boolean;
  /** Dropout on the outputs of every layer but the last, in training mode only (default 0). */
  dropout?: number;
  /** Run a second direction over the reversed sequence and concatenate (default false). */
  bidirectional?: boolean;
  /** Layer name. */
  name?: string;
}

/**
 * Options of {@link RNN}: {@link RecurrentOptions} and the nonlinearity.
 * @example
 * const opts: RNNOptions = { nonlinearity: 'relu' };
 * new RNN(3, 4, opts).nonlinearity // 'relu'
 */
export interface RNNOptions extends RecurrentOptions {
  /** `'tanh'` (default) or `'relu'`. */
  nonlinearity?: 'tanh' | 'relu';
}

const TORCH_KEYS = ['numLayers', 'bias', 'batchFirst', 'dropout', 'bidirectional', 'name'] as const;

/**
 * @internal The shared implementation of PyTorch's `nn.RNN`, `nn.LSTM` and `nn.GRU`: parameters
 * `weight_ih_l{k}[_reverse]` [G·H, in], `weight_hh_l{k}[_reverse]` [G·H, H], `bias_ih_…`,
 * `bias_hh_…` [G·H] (G = 1, 4, 3), initialised U(±1/√hiddenSize) as PyTorch.
 */
abstract class RecurrentBase<Out> extends Module<Out> {
  /** Features of each input step. */
  readonly inputSize: number;
  /** Features of the hidden state. */
  readonly hiddenSize: number;
  /** Stacked layers. */
  readonly numLayers: number;
  /** Whether biases are learned. */
  readonly bias: boolean;
  /** Whether input/output are [batch, time, features]. */
  readonly batchFirst: boolean;
  /** Dropout between layers (training only). */
  readonly dropout: number;
  /** Whether there is a reverse direction. */
  readonly bidirectional: boolean;
  /** @internal The cell. */
  protected readonly kind: CellKind;

  protected constructor(cls: string, kind: CellKind, inputSize: number, hiddenSize: number, o: RecurrentOptions) {
    super(optName(cls, o.name));
    this.kind = kind;
    this.inputSize = checkInt(cls, 'inputSize', inputSize);
    this.hiddenSize = checkInt(cls, 'hiddenSize', hiddenSize);
    this.numLayers = checkInt(cls, 'numLayers', o.numLayers ?? 1, 1, 1024);
    this.bias = optBool(cls, 'bias', o.bias) ?? true;
    this.batchFirst = optBool(cls, 'batchFirst', o.batchFirst) ?? false;
    this.dropout = o.dropout === undefined ? 0 : checkFinite(cls, 'dropout', o.dropout, 0, 1);
    if (this.dropout >= 1) throw new AxonError(cls, `dropout must be in [0, 1), got ${fmtValue(o.dropout)}`);
    this.bidirectional = optBool(cls, 'bidirectional', o.bidirectional) ?? false;
    const G = gateCount(kind);
    const H = this.hiddenSize;
    const D = this.bidirectional ? 2 : 1;
    const shapes: number[][] = [];
    for (let l = 0; l < this.numLayers; l++) {
      const inp = l === 0 ? this.inputSize : H * D;
      for (let d = 0; d < D; d++) shapes.push([G * H, inp], [G * H, H], ...(this.bias ? [[G * H], [G * H]] : []));
    }
    reserveParameters(`${cls} '${this.name}'`, shapes);
    const bound = { fanIn: H }; // U(±1/√hiddenSize)
    allocating(this, () => {
      for (let l = 0; l < this.numLayers; l++) {
        const inp = l === 0 ? this.inputSize : H * D;
        for (let d = 0; d < D; d++) {
          const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
          this.addParameter(`weight_ih${sfx}`, () => torchDefault([G * H, inp], bound));
          this.addParameter(`weight_hh${sfx}`, () => torchDefault([G * H, H], bound));
          if (this.bias) {
            this.addParameter(`bias_ih${sfx}`, () => torchDefault([G * H], bound));
            this.addParameter(`bias_hh${sfx}`, () => torchDefault([G * H], bound));
          }
        }
      }
    });
  }

  private param(name: string): Tensor {
    return (this as unknown as Record<string, Tensor>)[name]!;
  }

  /** @internal Runs the stack: returns [output, hN, cN]. */
  protected run(x: Tensor, h0: Tensor | undefined, c0: Tensor | undefined): [Tensor, Tensor, Tensor | null] {
    const op = `${this.className} '${this.name}'`;
    const lstm = this.kind === 'LSTM';
    if (!isTensor(x)) throw new AxonError(op, `expects a Tensor input, got ${fmtValue(x)}`);
    if (x.dtype !== 'float32') throw new AxonError(op, `expects float32 input, got ${x.dtype} ${fmtShape(x.shape)}`);
    if (x.rank !== 2 && x.rank !== 3) throw new AxonError(op, `expects input [time, batch, ${this.inputSize}]${this.batchFirst ? ' (batchFirst: [batch, time, features])' : ''} or unbatched [time, ${this.inputSize}], got ${fmtShape(x.shape)}`);
    if (x.shape[x.rank - 1] !== this.inputSize) throw new AxonError(op, `expected input with ${this.inputSize} features (last axis), got ${fmtShape(x.shape)}`);
    const batched = x.rank === 3;
    const D = this.bidirectional ? 2 : 1;
    const L = this.numLayers;
    const H = this.hiddenSize;
    const B = batched ? x.shape[this.batchFirst ? 0 : 1]! : 1;
    const T = batched ? x.shape[this.batchFirst ? 1 : 0]! : x.shape[0]!;
    if (T === 0) throw new AxonError(op, `expects at least one time step, got ${fmtShape(x.shape)}`);
    const stateShape = batched ? [L * D, B, H] : [L * D, H];
    for (const [what, s] of [['h0', h0], ['c0', c0]] as const) {
      if (s === undefined) continue;
      if (!isTensor(s)) throw new AxonError(op, `${what} must be a Tensor, got ${fmtValue(s)}`);
      if (s.dtype !== 'float32' || s.rank !== stateShape.length || s.shape.some((d, i) => d !== stateShape[i])) {
        throw new AxonError(op, `${what} must be float32 ${fmtShape(stateShape)} ([numLayers·numDirections, ${batched ? 'batch, ' : ''}hiddenSize]) for input ${fmtShape(x.shape)}, got ${s.dtype} ${fmtShape(s.shape)}`);
      }
    }
    if (lstm && (h0 === undefined) !== (c0 === undefined)) throw new AxonError(op, 'expects both h0 and c0, or neither');
    const spec: LoopSpec = {
      kind: this.kind,
      hidden: H,
      gruOrder: 'rzn',
      resetAfter: true,
      act: this.kind === 'RNN_RELU' ? (t) => t.relu() : (t) => t.tanh(),
      recAct: (t) => t.sigmoid(),
    };
    const describe = (): RecurrentRun => ({
      front: 'torch',
      module: this,
      kind: this.kind,
      hidden: H,
      x,
      h0: h0 ?? null,
      c0: c0 ?? null,
      numLayers: L,
      bidirectional: this.bidirectional,
      batchFirst: this.batchFirst,
      batched,
      dropoutActive: this.dropout > 0 && this.training && L > 1,
      weights: Array.from({ length: L * D }, (_, k) => {
        const sfx = `_l${Math.floor(k / D)}${k % D === 1 ? '_reverse' : ''}`;
        return { ih: this.param(`weight_ih${sfx}`), hh: this.param(`weight_hh${sfx}`), bih: this.bias ? this.param(`bias_ih${sfx}`) : null, bhh: this.bias ? this.param(`bias_hh${sfx}`) : null };
      }),
    });
    const r = reportRecurrent(describe, () => compositeAll([x, h0, c0], (tmp) => {
      // time-major [T, B, I]
      let seq = batched ? (this.batchFirst ? tmp(x.permute([1, 0, 2])) : x) : tmp(x.reshape([T, 1, this.inputSize]));
      const state = (s: Tensor | undefined): Tensor | null => (s === undefined ? null : batched ? s : tmp(s.reshape([L * D, 1, H])));
      const hs = state(h0);
      const cs = state(c0);
      const zero = hs === null ? tmp(zeros([B, H])) : null;
      const hN: Tensor[] = [];
      const cN: Tensor[] = [];
      for (let l = 0; l < L; l++) {
        const outs: Tensor[] = [];
        for (let d = 0; d < D; d++) {
          const k = l * D + d;
          const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
          const w: DirectionWeights = {
            wx: tmp(this.param(`weight_ih${sfx}`).T),
            wh: tmp(this.param(`weight_hh${sfx}`).T),
            bx: this.bias ? this.param(`bias_ih${sfx}`) : null,
            bh: this.bias ? this.param(`bias_hh${sfx}`) : null,
          };
          const hk = hs ? tmp(tmp(hs.slice([k, 0, 0], [1, B, H])).reshape([B, H])) : zero!;
          const ck = lstm ? (cs ? tmp(tmp(cs.slice([k, 0, 0], [1, B, H])).reshape([B, H])) : zero!) : null;
          const res = runDirection(spec, w, seq, hk, ck, d === 1, null, tmp);
          outs.push(tmp(stack(res.outputs, 0)));
          hN.push(res.h);
          if (res.c) cN.push(res.c);
        }
        seq = D === 1 ? outs[0]! : tmp(concat(outs, 2));
        if (this.dropout > 0 && this.training && l < L - 1) {
          const keepP = 1 - this.dropout;
          const shape = seq.shape;
          const mask = tmp(noGrad(() => compositeAll([], (t2) => [t2(t2(bernoulli(keepP, shape)).mul(1 / keepP))] as const)[0]));
          seq = tmp(seq.mul(mask));
        }
      }
      let out = batched ? (this.batchFirst ? tmp(seq.permute([1, 0, 2])) : seq) : tmp(seq.reshape([T, D * H]));
      if (out === x) out = tmp(out.reshape(out.shape));
      let h = tmp(stack(hN, 0));
      let c = lstm ? tmp(stack(cN, 0)) : null;
      if (!batched) {
        h = tmp(h.reshape([L * D, H]));
        if (c) c = tmp(c.reshape([L * D, H]));
      }
      return (c ? [out, h, c] : [out, h]) as readonly Tensor[];
    }));
    return [r[0]!, r[1]!, r[2] ?? null];
  }

  override getConfig(): LayerConfig {
    return { inputSize: this.inputSize, hiddenSize: this.hiddenSize, numLayers: this.numLayers, bias: this.bias, batchFirst: this.batchFirst, dropout: this.dropout, bidirectional: this.bidirectional };
  }

  override extraRepr(): string {
    const extra = [this.numLayers !== 1 ? `numLayers=${this.numLayers}` : '', !this.bias ? 'bias=false' : '', this.batchFirst ? 'batchFirst=true' : '', this.dropout ? `dropout=${this.dropout}` : '', this.bidirectional ? 'bidirectional=true' : ''].filter(Boolean);
    return [`${this.inputSize}`, `${this.hiddenSize}`, ...extra].join(', ');
  }
}

function torchOptions<T extends RecurrentOptions>(cls: string, opts: unknown, more: readonly string[] = []): T {
  return optionsOf<T>(cls, opts, [...TORCH_KEYS, ...more]);
}

/** @internal Options from a saved config. */
function torchOptionsFrom(c: LayerConfig, name: string): RecurrentOptions {
  return { name, numLayers: c['numLayers'] as number, bias: c['bias'] as boolean, batchFirst: c['batchFirst'] as boolean, dropout: c['dropout'] as number, bidirectional: c['bidirectional'] as boolean };
}

/**
 * PyTorch's `nn.RNN` (Elman): `h_t = tanh(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh)` (or relu).
 * `forward(x, h0?)` returns `[output, hN]`: output [T, B, D·H] (batchFirst: [B, T, D·H]) holds the
 * last layer's hidden state at every step, hN [numLayers·D, B, H] each layer's and direction's
 * final state; an unbatched input [T, inputSize] gives [T, D·H] and [numLayers·D, H].
 * @example
 * const rnn = new RNN(3, 5, { numLayers: 2 });
 * const [out, hN] = rnn.forward(randn([7, 2, 3])); // [time, batch, features]
 * out.shape // [7, 2, 5]
 * hN.shape // [2, 2, 5]
 */
export class RNN extends RecurrentBase<[Tensor, Tensor]> {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'RNN';
  /** `'tanh'` or `'relu'`. */
  readonly nonlinearity: 'tanh' | 'relu';
  constructor(inputSize: number, hiddenSize: number, opts: RNNOptions = {}) {
    const o = torchOptions<RNNOptions>('RNN', opts, ['nonlinearity']);
    const nl = o.nonlinearity ?? 'tanh';
    if (nl !== 'tanh' && nl !== 'relu') throw new AxonError('RNN', `nonlinearity must be 'tanh' or 'relu', got ${fmtValue(o.nonlinearity)}`);
    super('RNN', nl === 'relu' ? 'RNN_RELU' : 'RNN_TANH', inputSize, hiddenSize, o);
    this.nonlinearity = nl;
  }
  /**
   * Runs the sequence from `h0` (default zeros): `[output, hN]`.
   * @example
   * const rnn = new RNN(2, 3);
   * const [out, hN] = rnn.forward(ones([4, 2]), zeros([1, 3])); // unbatched [time, features]
   * out.shape // [4, 3]
   * hN.shape // [1, 3]
   */
  forward(x: Tensor, h0?: Tensor): [Tensor, Tensor] {
    const [out, h] = this.run(x, h0, undefined);
    return [out, h];
  }
  override getConfig(): LayerConfig {
    return { ...super.getConfig(), nonlinearity: this.nonlinearity };
  }
  /**
   * Rebuilds an RNN from {@link RNN.getConfig}.
   * @example RNN.fromConfig(new RNN(3, 4, { nonlinearity: 'relu' }).getConfig(), 'r').nonlinearity // 'relu'
   */
  static fromConfig(c: LayerConfig, name: string): RNN {
    return new RNN(c['inputSize'] as number, c['hiddenSize'] as number, { ...torchOptionsFrom(c, name), nonlinearity: c['nonlinearity'] as 'tanh' | 'relu' });
  }
}

/**
 * PyTorch's `nn.LSTM`, gates in PyTorch's order i, f, g, o:
 * `c_t = σ(f)⊙c_{t−1} + σ(i)⊙tanh(g)`, `h_t = σ(o)⊙tanh(c_t)`. `forward(x, [h0, c0]?)` returns
 * `[output, [hN, cN]]` with PyTorch's shapes (see {@link RNN}); PyTorch state dicts load as they are.
 * @example
 * const lstm = new LSTM(3, 4, { batchFirst: true });
 * const [out, [hN, cN]] = lstm.forward(randn([2, 6, 3]));
 * out.shape // [2, 6, 4]
 * cN.shape // [1, 2, 4]
 * Object.keys(lstm.stateDict()) // ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0']
 */
export class LSTM extends RecurrentBase<[Tensor, [Tensor, Tensor]]> {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'LSTM';
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentOptions = {}) {
    super('LSTM', 'LSTM', inputSize, hiddenSize, torchOptions<RecurrentOptions>('LSTM', opts));
  }
  /**
   * Runs the sequence from `[h0, c0]` (default zeros): `[output, [hN, cN]]`.
   * @example
   * const lstm = new LSTM(2, 3);
   * const [out, [hN, cN]] = lstm.forward(ones([5, 1, 2]), [zeros([1, 1, 3]), zeros([1, 1, 3])]);
   * out.shape // [5, 1, 3]
   * hN.shape // [1, 1, 3]
   */
  forward(x: Tensor, hx?: readonly [Tensor, Tensor] | Tensor): [Tensor, [Tensor, Tensor]] {
    if (hx !== undefined && (!Array.isArray(hx) || hx.length !== 2)) {
      throw new AxonError(`LSTM '${this.name}'`, `the state must be a pair [h0, c0], got ${isTensor(hx) ? `a Tensor ${fmtShape(hx.shape)}` : fmtValue(hx)}`);
    }
    const pair = hx as readonly [Tensor, Tensor] | undefined;
    const [out, h, c] = this.run(x, pair?.[0], pair?.[1]);
    return [out, [h, c!]];
  }
  /**
   * Rebuilds an LSTM from {@link LSTM.getConfig}.
   * @example LSTM.fromConfig(new LSTM(3, 4, { numLayers: 2 }).getConfig(), 'l').numLayers // 2
   */
  static fromConfig(c: LayerConfig, name: string): LSTM {
    return new LSTM(c['inputSize'] as number, c['hiddenSize'] as number, torchOptionsFrom(c, name));
  }
}

/**
 * PyTorch's `nn.GRU`, gates in PyTorch's order r, z, n:
 * `n = tanh(W_in x + b_in + r⊙(W_hn h + b_hn))`, `h_t = (1 − z)⊙n + z⊙h_{t−1}`.
 * `forward(x, h0?)` returns `[output, hN]` with PyTorch's shapes (see {@link RNN}).
 * @example
 * const gru = new GRU(3, 4, { bidirectional: true });
 * const [out, hN] = gru.forward(randn([6, 2, 3]));
 * out.shape // [6, 2, 8]
 * hN.shape // [2, 2, 4]
 */
export class GRU extends RecurrentBase<[Tensor, Tensor]> {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'GRU';
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentOptions = {}) {
    super('GRU', 'GRU', inputSize, hiddenSize, torchOptions<RecurrentOptions>('GRU', opts));
  }
  /**
   * Runs the sequence from `h0` (default zeros): `[output, hN]`.
   * @example
   * const gru = new GRU(2, 3);
   * const [out, hN] = gru.forward(ones([4, 2]));
   * out.shape // [4, 3]
   * hN.shape // [1, 3]
   */
  forward(x: Tensor, h0?: Tensor): [Tensor, Tensor] {
    const [out, h] = this.run(x, h0, undefined);
    return [out, h];
  }
  /**
   * Rebuilds a GRU from {@link GRU.getConfig}.
   * @example GRU.fromConfig(new GRU(3, 4, { batchFirst: true }).getConfig(), 'g').batchFirst // true
   */
  static fromConfig(c: LayerConfig, name: string): GRU {
    return new GRU(c['inputSize'] as number, c['hiddenSize'] as number, torchOptionsFrom(c, name));
  }
}
