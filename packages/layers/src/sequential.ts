/**
 * {@link Sequential}: a {@link Model} of layers applied in order (PyTorch's `nn.Sequential`,
 * Keras's `Sequential`), and {@link sequential}.
 */
import { AxonError, type Tensor, fmtShape, fmtValue } from '@axon/core';
import { finalActivation, preFinal } from './fusion.js';
import { Linear } from './layers.js';
import { Model, countStats } from './model.js';
import { KerasRecurrentBase } from './recurrent-keras.js';
import { type LayerConfig, Module } from './module.js';
import type { SymbolicShape } from './symbolic.js';
import { checkExampleShape, optName, optionsOf } from './validate.js';

/**
 * Options of {@link sequential} / {@link Sequential}.
 * @example
 * const options: SequentialOptions = { inputShape: [28, 28], name: 'mlp' };
 * const mlp = sequential([new Flatten(), new Dense(10)], options);
 * mlp.inputShape // [28, 28]
 * mlp.countParams() // 7850
 */
export interface SequentialOptions {
  /** One example's shape (no batch axis); otherwise taken from the first layer's `inputShape`. */
  inputShape?: readonly number[];
  /** Model name. */
  name?: string;
}

/**
 * A stack of modules applied in order: PyTorch's `nn.Sequential` (`new Sequential(a, b, c)`,
 * parameters named `0.weight`, `1.bias`, …) and Keras's `Sequential` (see {@link sequential}),
 * with the Keras training API of {@link Model}.
 * @example
 * const net = new Sequential(new Linear(784, 128), new ReLU(), new Linear(128, 10));
 * const logits = net.call(randn([2, 784]));
 * logits.shape // [2, 10]
 * Object.keys(net.stateDict()) // ['0.weight', '0.bias', '2.weight', '2.bias']
 */
export class Sequential extends Model {
  /** The class name used in `model.json` and default layer names. */
  static readonly className: string = 'Sequential';
  private declaredInputShape: readonly number[] | null;
  /** How many layers `add` registered (the next one's name). */
  private added = 0;
  /** The output shape of the layers so far, once the input shape is known. */
  private builtShape: SymbolicShape | null = null;

  constructor(...layers: Module[]) {
    super();
    this.declaredInputShape = null;
    for (const l of layers) this.add(l);
  }

  /**
   * Appends a layer (Keras's `model.add`). When the input shape is known, the new layer is built
   * from the previous layers' output shape (kept, so each `add` costs the same however many
   * layers there are); a layer that does not fit is not added.
   * @example
   * const net = sequential([new Dense(32, { inputShape: [4], activation: 'relu' })]);
   * net.add(new Dense(10, { activation: 'softmax' }));
   * net.layers.length // 2
   * net.add(new Linear(5, 2)) // throws: 'Linear'
   */
  add(layer: Module): this {
    if (!(layer instanceof Module)) throw new AxonError(`Sequential '${this.name}'`, `add expects a Module, got ${fmtValue(layer)}`);
    if (layer === this) throw new AxonError(`Sequential '${this.name}'`, 'cannot add a model to itself');
    if (layer instanceof KerasRecurrentBase && layer.returnState) {
      throw new AxonError(`Sequential '${this.name}'`, `layer '${layer.name}' (${layer.className}) has returnState: true, so it returns [output, ...states], and a layer of a Sequential model has one output; use a functional model (input, model) to use the states, or drop returnState`);
    }
    const i = this.added;
    let declared = this.declaredInputShape;
    if (i === 0 && !declared) {
      const s = (layer as { inputShape?: readonly number[] }).inputShape;
      if (s !== undefined && s !== null) declared = checkExampleShape(`Sequential '${this.name}'`, `the inputShape of layer '${layer.name}'`, s);
    }
    const shape = declared ? layer.computeOutputShape(this.builtShape ?? [null, ...declared]) : null;
    this.registerModule(String(i), layer);
    this.added = i + 1;
    this.declaredInputShape = declared;
    this.builtShape = shape;
    return this;
  }

  /**
   * Sets the input shape and builds every layer (creating lazily-sized weights).
   * @example
   * const net = new Sequential(new Dense(4), new Dense(1));
   * net.countParams() // 0
   * net.setInputShape([3]);
   * net.countParams() // 21
   */
  setInputShape(shape: readonly number[]): this {
    checkExampleShape(`Sequential '${this.name}'`, 'inputShape', shape);
    let s: SymbolicShape = [null, ...shape];
    for (const l of this.layers) s = l.computeOutputShape(s);
    this.declaredInputShape = [...shape];
    this.builtShape = s;
    return this;
  }

  override get inputShape(): readonly number[] | null {
    return this.declaredInputShape;
  }

  override get finalActivation(): 'softmax' | 'sigmoid' | null {
    const ls = this.layers;
    return finalActivation(ls[ls.length - 1]);
  }

  forward(x: Tensor): Tensor {
    return this.forwardParts(x, false);
  }

  override forwardParts(x: Tensor, strip: boolean): Tensor {
    const layers = this.layers;
    const inShape = this.declaredInputShape;
    if (inShape) {
      const got = x.shape.slice(1);
      if (got.length !== inShape.length || got.some((d, i) => d !== inShape[i])) {
        throw new AxonError(`Sequential '${this.name}'`, `expected input [batch, ${inShape.join(', ')}], got ${fmtShape(x.shape)}`);
      }
    }
    let h = x;
    const last = layers.length - 1;
    for (let i = 0; i < layers.length; i++) {
      const l = layers[i]!;
      if (i === last && strip && finalActivation(l)) h = preFinal(l, h);
      else h = l.call(h);
    }
    return h;
  }

  override computeOutputShape(s: SymbolicShape): SymbolicShape {
    let out = s;
    for (const l of this.layers) out = l.computeOutputShape(out);
    return out;
  }

  protected override layerShapes(): { name: string; type: string; shape: SymbolicShape | null; params: number }[] {
    const first = this.layers[0];
    const inFeatures = first instanceof Linear ? first.inFeatures : null;
    let s: SymbolicShape | null = this.declaredInputShape ? [null, ...this.declaredInputShape] : inFeatures !== null ? [null, inFeatures] : null;
    return this.layers.map((l) => {
      if (s) {
        try {
          s = l.computeOutputShape(s);
        } catch {
          s = null;
        }
      }
      return { name: l.name, type: l.className, shape: s, params: l.countParams() + countStats(l) };
    });
  }

  override getConfig(): LayerConfig {
    return this.declaredInputShape ? { inputShape: [...this.declaredInputShape] } : {};
  }
}

/**
 * Keras's `keras.Sequential([...])`: a {@link Sequential} model of `layers`, built immediately
 * when the input shape is known (from `opts.inputShape` or the first layer's `inputShape`).
 * @example
 * const model = sequential([
 *   new Flatten({ inputShape: [28, 28] }),
 *   new Dense(128, { activation: 'relu' }),
 *   new Dropout(0.2),
 *   new Dense(10, { activation: 'softmax' }),
 * ]);
 * model.countParams() // 101770
 * model.predict(zeros([2, 28, 28])).shape // [2, 10]
 */
export function sequential(layers: readonly Module[] = [], opts: SequentialOptions = {}): Sequential {
  const op = 'sequential';
  if (!Array.isArray(layers)) throw new AxonError(op, `expects an array of layers, got ${fmtValue(layers)}`);
  layers.forEach((l: unknown, i) => {
    if (!(l instanceof Module)) throw new AxonError(op, `layers[${i}] must be a layer (a Module), got ${fmtValue(l)}`);
  });
  const o = optionsOf<SequentialOptions>(op, opts, ['inputShape', 'name']);
  const name = optName(op, o.name);
  const inputShape = o.inputShape === undefined ? undefined : checkExampleShape(op, 'inputShape', o.inputShape);
  const m = new Sequential();
  if (name) m.name = name;
  if (inputShape) m.setInputShape(inputShape);
  for (const l of layers) m.add(l);
  return m;
}
