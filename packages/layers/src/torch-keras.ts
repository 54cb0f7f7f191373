/**
 * Keras-front models ⇄ PyTorch state dicts, layer by layer: a Keras model's weighted layers, in
 * order, map to the tensors of the equivalent PyTorch `nn.Sequential` (Dense ↔ Linear with the
 * kernel transposed, BatchNormalization ↔ BatchNorm, KerasLSTM/GRU/SimpleRNN ↔ LSTM/GRU/RNN, …).
 */
import { AxonError, type Tensor, concat, fmtValue, isTensor, noGrad, tidy, zeros } from '@axon/core';
import { Model } from './model.js';
import { type LoadStateDictResult, Module, type StateDict, type StateEntryDescription, planStateDictLoad } from './module.js';
import { optBool, optionsOf } from './validate.js';

/** One group of a layer's tensors and the PyTorch tensors they correspond to. */
interface Rule {
  /** The layer's own state names (e.g. `kernel`). */
  readonly axon: readonly string[];
  /** PyTorch's names under the layer's index (e.g. `weight`), with their shapes. */
  readonly torch: readonly { name: string; shape: readonly number[]; dtype: 'float32' | 'int32' }[];
  toTorch(a: Tensor[]): Tensor[];
  fromTorch(t: Tensor[]): Tensor[];
}

/** Swaps the first two of three gate blocks along axis 0 (Keras GRU z, r, h ⇄ PyTorch r, z, n). */
function swapGates(t: Tensor, u: number): Tensor {
  const rest = t.shape.slice(1);
  return concat([t.slice([u, ...rest.map(() => 0)], [u, ...rest]), t.slice([0, ...rest.map(() => 0)], [u, ...rest]), t.slice([2 * u, ...rest.map(() => 0)], [u, ...rest])], 0);
}

const same = (name: string, shape: readonly number[], torchName = name): Rule => ({ axon: [name], torch: [{ name: torchName, shape, dtype: 'float32' }], toTorch: ([a]) => [a!.clone()], fromTorch: ([t]) => [t!.clone()] });

/** The rules of one layer, or null when it has no PyTorch counterpart. */
function rulesOf(layer: Module, op: string, where: string): Rule[] {
  const sd = layer.stateDict();
  const shape = (k: string): readonly number[] => sd[k]!.shape;
  const has = (k: string): boolean => Object.hasOwn(sd, k);
  const rules: Rule[] = [];
  switch (layer.className) {
    case 'Dense': {
      if (has('kernel')) {
        const [i, o] = shape('kernel') as [number, number];
        rules.push({ axon: ['kernel'], torch: [{ name: 'weight', shape: [o, i], dtype: 'float32' }], toTorch: ([k]) => [k!.T.contiguous()], fromTorch: ([w]) => [w!.T.contiguous()] });
      }
      if (has('bias')) rules.push(same('bias', shape('bias')));
      return rules;
    }
    case 'KerasConv1D': {
      if (has('kernel')) {
        const [k, i, o] = shape('kernel') as [number, number, number];
        rules.push({ axon: ['kernel'], torch: [{ name: 'weight', shape: [o, i, k], dtype: 'float32' }], toTorch: ([a]) => [a!.permute([2, 1, 0]).contiguous()], fromTorch: ([w]) => [w!.permute([2, 1, 0]).contiguous()] });
      }
      if (has('bias')) rules.push(same('bias', shape('bias')));
      return rules;
    }
    case 'Conv2DTranspose': {
      if (has('kernel')) {
        const [kh, kw, o, i] = shape('kernel') as [number, number, number, number];
        rules.push({ axon: ['kernel'], torch: [{ name: 'weight', shape: [i, o, kh, kw], dtype: 'float32' }], toTorch: ([a]) => [a!.permute([3, 2, 0, 1]).contiguous()], fromTorch: ([w]) => [w!.permute([2, 3, 1, 0]).contiguous()] });
      }
      if (has('bias')) rules.push(same('bias', shape('bias')));
      return rules;
    }
    case 'BatchNormalization': {
      if (has('gamma') !== has('beta')) throw new AxonError(op, `${where}: a BatchNormalization with only one of scale/center has no PyTorch BatchNorm counterpart (PyTorch's affine gives both)`);
      if (has('gamma')) rules.push(same('gamma', shape('gamma'), 'weight'), same('beta', shape('beta'), 'bias'));
      rules.push(same('movingMean', shape('movingMean'), 'running_mean'), same('movingVariance', shape('movingVariance'), 'running_var'));
      // PyTorch's batch counter: written as 0, ignored on load (Keras keeps none)
      rules.push({ axon: [], torch: [{ name: 'num_batches_tracked', shape: [], dtype: 'int32' }], toTorch: () => [zeros([], 'int32')], fromTorch: () => [] });
      return rules;
    }
    case 'SimpleRNN':
    case 'KerasLSTM':
    case 'KerasGRU': {
      if (!has('kernel')) return rules;
      const gru = layer.className === 'KerasGRU';
      const [i, gu] = shape('kernel') as [number, number];
      const u = shape('recurrentKernel')[0]!;
      const fix = (t: Tensor): Tensor => (gru ? swapGates(t, u) : t);
      rules.push({ axon: ['kernel'], torch: [{ name: 'weight_ih_l0', shape: [gu, i], dtype: 'float32' }], toTorch: ([k]) => [fix(k!.T.contiguous())], fromTorch: ([w]) => [fix(w!).T.contiguous()] });
      rules.push({ axon: ['recurrentKernel'], torch: [{ name: 'weight_hh_l0', shape: [gu, u], dtype: 'float32' }], toTorch: ([k]) => [fix(k!.T.contiguous())], fromTorch: ([w]) => [fix(w!).T.contiguous()] });
      if (has('bias')) {
        const b = shape('bias');
        const two = [
          { name: 'bias_ih_l0', shape: [gu], dtype: 'float32' as const },
          { name: 'bias_hh_l0', shape: [gu], dtype: 'float32' as const },
        ];
        if (b.length === 2) {
          // GRU with resetAfter: the input and recurrent biases, as PyTorch's
          rules.push({ axon: ['bias'], torch: two, toTorch: ([a]) => [fix(a!.slice([0, 0], [1, gu]).reshape([gu])), fix(a!.slice([1, 0], [1, gu]).reshape([gu]))], fromTorch: ([bi, bh]) => [concat([fix(bi!).reshape([1, gu]), fix(bh!).reshape([1, gu])], 0)] });
        } else if (gru) {
          throw new AxonError(op, `${where}: a KerasGRU with resetAfter: false has no PyTorch GRU counterpart (PyTorch resets after the recurrent matmul; use resetAfter: true)`);
        } else {
          // one bias in Keras, two in PyTorch that only act as their sum
          rules.push({ axon: ['bias'], torch: two, toTorch: ([a]) => [a!.clone(), zeros([gu])], fromTorch: ([bi, bh]) => [bi!.add(bh!)] });
        }
      }
      return rules;
    }
    default: {
      // PyTorch-front modules (Linear, Conv2d, BatchNorm2d, LayerNorm, Embedding, LSTM, …) already carry PyTorch's names
      for (const [k, t] of Object.entries(sd)) {
        if (t.dtype === 'bool') throw new AxonError(op, `${where}: state '${k}' is bool; PyTorch state dicts here hold float and integer tensors`);
        rules.push({ axon: [k], torch: [{ name: k, shape: t.shape, dtype: t.dtype as 'float32' | 'int32' }], toTorch: ([a]) => [a!.clone()], fromTorch: ([x]) => [x!.clone()] });
      }
      if (rules.length && /^(Keras|Conv1D$|Conv2D$|Conv2DTranspose$|LayerNormalization$|MultiHeadAttention$)/.test(layer.className)) {
        throw new AxonError(op, `${where}: no PyTorch mapping for the Keras layer ${layer.className}`);
      }
      return rules;
    }
  }
}

/** The layers with PyTorch's `nn.Sequential` index of each (a Dense with an activation counts as Linear + activation). */
function layersOf(op: string, m: unknown): { key: string; index: number; layer: Module; rules: Rule[] }[] {
  if (!(m instanceof Model)) throw new AxonError(op, `expects a Keras model (sequential([...]) or model({ inputs, outputs })), got ${m instanceof Module ? `a ${m.className} (a PyTorch-front module: its stateDict() already has PyTorch's names)` : fmtValue(m)}`);
  const out: { key: string; index: number; layer: Module; rules: Rule[] }[] = [];
  let index = 0;
  for (const [key, layer] of m.namedChildren()) {
    if (layer.className === 'InputLayer') continue;
    // a layer that builds its weights on first use (Dense without an inputShape, …) has none yet
    if ((layer as { built?: unknown }).built === false) throw new AxonError(op, `layer ${key} (${layer.className} '${layer.name}') is not built yet, so it has no weights to map: give the model an inputShape, or run it once`);
    out.push({ key, index, layer, rules: rulesOf(layer, op, `layer ${key} (${layer.className} '${layer.name}')`) });
    const act = layer.getConfig()['activation'];
    const separate = ['Dense', 'KerasConv1D', 'Conv2DTranspose'].includes(layer.className) && typeof act === 'string' && act !== 'linear';
    index += separate ? 2 : 1;
  }
  return out;
}

/**
 * A Keras-front model's weights as the state dict of the equivalent PyTorch `nn.Sequential`: its
 * layers in order, each at its PyTorch index (a Dense with an activation is a Linear and the
 * activation, two modules; every other layer one), under PyTorch's names — Dense's `kernel` [in,
 * out] becomes Linear's `weight` [out, in]; KerasConv1D and Conv2DTranspose kernels are permuted
 * to PyTorch's layouts; BatchNormalization's `gamma`/`beta`/`movingMean`/`movingVariance` become
 * `weight`/`bias`/`running_mean`/`running_var` (with `num_batches_tracked` 0); KerasLSTM/KerasGRU/
 * SimpleRNN become `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0` (GRU gates
 * reordered from Keras' z, r, h to PyTorch's r, z, n; a single Keras bias goes to `bias_ih_l0`);
 * PyTorch-front layers (Conv2d, LayerNorm, Embedding, …) keep their names. The tensors are new:
 * the caller owns them.
 * @example
 * const m = mnistMlp(); // Flatten, Dense(128, relu), Dropout, Dense(10, softmax)
 * const sd = toTorchStateDict(m);
 * // nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
 * Object.entries(sd).map(([k, t]) => `${k} ${t.shape}`) // ['1.weight 128,784', '1.bias 128', '4.weight 10,128', '4.bias 10']
 * for (const t of Object.values(sd)) t.dispose();
 */
export function toTorchStateDict(model: Module): Record<string, Tensor> {
  const op = 'toTorchStateDict';
  const layers = layersOf(op, model);
  const out: Record<string, Tensor> = {};
  try {
    noGrad(() => {
      for (const { index, layer, rules } of layers) {
        const sd = layer.stateDict();
        for (const r of rules) {
          const made = tidy(() => r.toTorch(r.axon.map((k) => sd[k]!)));
          r.torch.forEach((t, i) => (out[`${index}.${t.name}`] = made[i]!));
        }
      }
    });
  } catch (e) {
    for (const t of Object.values(out)) t.dispose();
    throw e;
  }
  return out;
}

/**
 * Loads the state dict of the equivalent PyTorch `nn.Sequential` into a Keras-front model — the
 * inverse of {@link toTorchStateDict}, as PyTorch's `load_state_dict`: names and shapes are all
 * checked first (PyTorch's wording; `strict: false` allows missing and unexpected names and
 * returns them) and nothing changes unless everything loads. `num_batches_tracked` is accepted
 * and ignored (Keras keeps no batch counter); PyTorch's two recurrent biases are summed into the
 * Keras layer's one (LSTM, SimpleRNN).
 * @example
 * // the state dict of PyTorch's nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
 * const sd = { '1.weight': randn([128, 784]), '1.bias': zeros([128]), '4.weight': randn([10, 128]), '4.bias': zeros([10]) };
 * const m = mnistMlp();
 * loadTorchStateDict(m, sd) // { missingKeys: [], unexpectedKeys: [] }
 * const kernel = (m.layers[1] as Dense).kernel!;
 * kernel.shape // [784, 128]
 * kernel.sub(sd['1.weight'].T).abs().max() // 0
 * loadTorchStateDict(m, { ...sd, '1.weight': randn([784, 128]) }) // throws: 'size mismatch for 1.weight: copying a param with shape [784, 128] from checkpoint, the shape in current model is [128, 784]'
 */
export function loadTorchStateDict(model: Module, dict: StateDict, opts: { strict?: boolean } = {}): LoadStateDictResult {
  const op = 'loadTorchStateDict';
  const o = optionsOf<{ strict?: boolean }>(op, opts, ['strict']);
  const strict = optBool(op, 'strict', o.strict) ?? true;
  if (dict === null || typeof dict !== 'object' || Array.isArray(dict)) throw new AxonError(op, `expects a record of tensors (a PyTorch state dict), got ${fmtValue(dict)}`);
  const layers = layersOf(op, model);
  // the PyTorch names and shapes this model expects, checked as load_state_dict does
  const expected: Record<string, { shape: readonly number[]; dtype: 'float32' | 'int32' }> = {};
  for (const { index, rules } of layers) for (const r of rules) for (const t of r.torch) expected[`${index}.${t.name}`] = { shape: t.shape, dtype: t.dtype };
  const described: Record<string, StateEntryDescription> = {};
  for (const k of Object.keys(dict)) {
    const t: unknown = dict[k];
    if (!isTensor(t)) described[k] = `'${k}' is not a Tensor (got ${fmtValue(t)}).`;
    else if (t.isDisposed) described[k] = `'${k}' (tensor #${t.id}) was disposed.`;
    else described[k] = { shape: t.shape, dtype: t.dtype };
  }
  const plan = planStateDictLoad({ className: model.className, own: expected }, described, strict);
  const given = new Set(plan.pairs.map(([k]) => k));
  // the model's own state, from every rule whose PyTorch tensors are all given
  const own: Record<string, Tensor> = {};
  try {
    noGrad(() => {
      for (const { key, index, rules } of layers) {
        for (const r of rules) {
          const names = r.torch.map((t) => `${index}.${t.name}`);
          if (!r.axon.length || !names.every((n) => given.has(n))) continue;
          const made = tidy(() => r.fromTorch(names.map((n) => (dict[n]!.dtype === 'float32' ? dict[n]! : dict[n]!.astype('float32')))));
          r.axon.forEach((a, i) => (own[`${key}.${a}`] = made[i]!));
        }
      }
    });
    model.loadStateDict(own, { strict: false });
  } finally {
    for (const t of Object.values(own)) t.dispose();
  }
  return { missingKeys: plan.missingKeys, unexpectedKeys: plan.unexpectedKeys };
}
