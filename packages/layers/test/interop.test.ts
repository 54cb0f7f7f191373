/**
 * PyTorch ⇄ Axon through safetensors (issue 14), against files PyTorch 1.13 wrote
 * (fixtures/interop/gen_interop.py; torch_models.py defines the models, interop-models.ts their
 * Axon twins with the same state-dict keys):
 * - PyTorch → Axon: each model's F32, F16 and BF16 state dict loads with `loadSafetensors` (strict)
 *   into its twin, on WASM and WebGPU, and gives PyTorch's outputs (for F16/BF16 the weights are
 *   exactly representable once widened, so the same tolerance holds).
 * - Axon's F16/BF16 writer gives byte for byte PyTorch's `.half()`/`.bfloat16()` of the same weights.
 * - Axon → PyTorch: Axon writes its own twins' weights (F32/F16/BF16), inputs and outputs to
 *   fixtures/interop/axon/, which `gen_interop.py --check` loads into PyTorch with strict=True.
 */
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { memory, randint, randn, setBackend, setSeed, tidy, zeros, type Tensor } from '@axon/core';
import {
  BatchNorm1d, BatchNorm2d, Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, Embedding, GRU, LayerNorm, Linear, LSTM, MultiheadAttention, RNN, TransformerDecoderLayer, TransformerEncoder,
  TransformerEncoderLayer, BatchNormalization, Dense, KerasGRU, KerasLSTM, loadTorchStateDict, mnistCnn, mnistMlp, sequential, toTorchStateDict, type Sequential, loadSafetensors, openSafetensors, parseSafetensors, saveSafetensors, serializeSafetensors, toHostTensors, type Module, type WeightsDtype,
} from '../src/index.js';
import { describeOnWebGPU, useTestBackend } from './helpers.js';
import { MODEL_NAMES, twin, type InteropModelName } from './interop-models.js';

const FIX = join(__dirname, 'fixtures', 'interop');
const TAGS = { f32: 'float32', f16: 'float16', bf16: 'bfloat16' } as const satisfies Record<string, WeightsDtype>;
type Tag = keyof typeof TAGS;

beforeAll(async () => {
  await useTestBackend();
});

/** |got − want| ≤ atol + rtol·|want| elementwise (torch.allclose). */
function expectAllClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string, rtol = 1e-4, atol = 1e-5): void {
  expect(got.length, `${what} length`).toBe(want.length);
  for (let i = 0; i < got.length; i++) {
    const err = Math.abs(got[i]! - want[i]!);
    if (!(err <= atol + rtol * Math.abs(want[i]!))) expect.fail(`${what}[${i}]: got ${got[i]}, want ${want[i]} (|err| ${err})`);
  }
}

/** Loads PyTorch's `<name>.<tag>.safetensors` into the twin and compares its output with PyTorch's. */
async function torchToAxon(name: InteropModelName, tag: Tag): Promise<void> {
  const before = memory().numTensors;
  const m = twin(name).eval();
  try {
    expect(await loadSafetensors(m, join(FIX, `${name}.${tag}.safetensors`))).toEqual({ missingKeys: [], unexpectedKeys: [] });
    await using io = await openSafetensors(join(FIX, `${name}.io.safetensors`));
    const x = await io.readTensor('input');
    const want = (await io.read(`output.${tag}`)).data;
    const y = tidy(() => m.call(x));
    expect(y.shape).toEqual(io.info(`output.${tag}`).shape);
    expectAllClose((await y.data()) as Float32Array, want, `${name}.${tag}`);
    x.dispose();
    y.dispose();
  } finally {
    m.dispose();
  }
  expect(memory().numTensors).toBe(before);
}

/** Each tensor's raw bytes and dtype code in a safetensors file (read plainly). */
function rawTensors(bytes: Uint8Array): Map<string, { dtype: string; bytes: Uint8Array }> {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { dtype: string; data_offsets: [number, number] }>;
  const out = new Map<string, { dtype: string; bytes: Uint8Array }>();
  for (const [k, e] of Object.entries(header)) if (k !== '__metadata__') out.set(k, { dtype: e.dtype, bytes: bytes.subarray(8 + n + e.data_offsets[0], 8 + n + e.data_offsets[1]) });
  return out;
}

describe("every PyTorch-front module's state dict has PyTorch's names, order, shapes and dtypes (torch-names.json)", () => {
  const torch = JSON.parse(readFileSync(join(FIX, 'torch-names.json'), 'utf8')) as Record<string, [string, number[], string][]>;
  const modules: Record<string, () => Module<unknown>> = {
    Linear: () => new Linear(3, 2),
    LinearNoBias: () => new Linear(3, 2, { bias: false }),
    Conv1d: () => new Conv1d(2, 3, 3),
    Conv2d: () => new Conv2d(2, 3, 3),
    ConvTranspose1d: () => new ConvTranspose1d(2, 3, 3),
    ConvTranspose2d: () => new ConvTranspose2d(2, 3, 3),
    BatchNorm1d: () => new BatchNorm1d(3),
    BatchNorm2d: () => new BatchNorm2d(3),
    LayerNorm: () => new LayerNorm(4),
    Embedding: () => new Embedding(5, 4),
    LSTM: () => new LSTM(3, 4, { numLayers: 2, bidirectional: true }),
    GRU: () => new GRU(3, 4, { bidirectional: true }),
    RNN: () => new RNN(3, 4, { numLayers: 2 }),
    MultiheadAttention: () => new MultiheadAttention(8, 2),
    MultiheadAttentionKdim: () => new MultiheadAttention(8, 2, { kdim: 6, vdim: 5 }),
    TransformerEncoderLayer: () => new TransformerEncoderLayer(8, 2, { dimFeedforward: 16 }),
    TransformerDecoderLayer: () => new TransformerDecoderLayer(8, 2, { dimFeedforward: 16 }),
    TransformerEncoder: () => new TransformerEncoder(new TransformerEncoderLayer(8, 2, { dimFeedforward: 16 }), 2, { norm: new LayerNorm(8) }),
  };
  it('covers every module of the fixture', () => expect(Object.keys(modules).sort()).toEqual(Object.keys(torch).sort()));
  for (const [name, make] of Object.entries(modules)) {
    it(name, () => {
      const m = make();
      // PyTorch's int64 buffers (num_batches_tracked) are int32 in Axon
      const want = torch[name]!.map(([n, shape, dtype]) => [n, shape, dtype === 'int64' ? 'int32' : dtype]);
      expect(Object.entries(m.stateDict()).map(([n, t]) => [n, [...t.shape], t.dtype])).toEqual(want);
      m.dispose();
    });
  }
});

describe('PyTorch → Axon: PyTorch 1.13 state dicts (F32/F16/BF16) load into the twins and give PyTorch outputs (WASM)', () => {
  for (const name of MODEL_NAMES) for (const tag of Object.keys(TAGS) as Tag[]) it(`${name} ${tag}`, () => torchToAxon(name, tag));

  it('the files declare what PyTorch wrote: F16/BF16 floats, I64 num_batches_tracked, format pt', async () => {
    await using f = await openSafetensors(join(FIX, 'bncnn.bf16.safetensors'));
    expect(f.metadata).toEqual({ format: 'pt', model: 'bncnn' });
    expect(f.info('conv.weight').sourceDtype).toBe('BF16');
    expect(f.info('bn.num_batches_tracked')).toMatchObject({ dtype: 'int32', sourceDtype: 'I64', shape: [] });
    expect((await f.read('bn.num_batches_tracked')).data).toEqual(new Int32Array([3]));
  });

  it("Axon's F16/BF16 writer gives byte for byte PyTorch's .half()/.bfloat16() of the F32 weights", async () => {
    for (const name of MODEL_NAMES) {
      const f32 = parseSafetensors(new Uint8Array(await readFile(join(FIX, `${name}.f32.safetensors`)))).tensors;
      for (const tag of ['f16', 'bf16'] as const) {
        const torch = rawTensors(new Uint8Array(await readFile(join(FIX, `${name}.${tag}.safetensors`))));
        const axon = rawTensors(serializeSafetensors(f32, {}, { dtype: TAGS[tag] }));
        let floats = 0;
        for (const [k, t] of torch) {
          if (t.dtype === 'I64') continue; // num_batches_tracked: Axon holds int32
          expect(t.dtype, `${name}.${tag} ${k}`).toBe(tag === 'f16' ? 'F16' : 'BF16');
          expect(axon.get(k)!.dtype).toBe(t.dtype);
          expect(Buffer.from(axon.get(k)!.bytes).equals(Buffer.from(t.bytes)), `${name}.${tag} ${k} bytes`).toBe(true);
          floats++;
        }
        expect(floats).toBeGreaterThan(0);
      }
    }
  });
});

describeOnWebGPU('PyTorch → Axon on WebGPU', () => {
  for (const name of MODEL_NAMES) {
    for (const tag of Object.keys(TAGS) as Tag[]) {
      it(`${name} ${tag}`, async () => {
        await setBackend('webgpu');
        await torchToAxon(name, tag);
      });
    }
  }
});

describe('Axon → PyTorch: Axon writes its twins (F32/F16/BF16) with inputs and outputs for gen_interop.py --check', () => {
  for (const [i, name] of MODEL_NAMES.entries()) {
    it(name, async () => {
      const out = join(FIX, 'axon');
      await mkdir(out, { recursive: true });
      setSeed(100 + i);
      const m = twin(name);
      if (name === 'bncnn') for (let s = 0; s < 3; s++) tidy(() => void m.call(randn([4, 1, 28, 28], { mean: 0.5, std: 2 })));
      m.eval();
      const x = name === 'mlp' ? randn([2, 784]) : name === 'cnn' || name === 'bncnn' ? randn([2, 1, 28, 28]) : randint(0, 50, [2, 6]);
      const io: Record<string, Tensor> = { input: x };
      for (const [tag, dtype] of Object.entries(TAGS) as [Tag, WeightsDtype][]) {
        const file = join(out, `${name}.${tag}.safetensors`);
        await saveSafetensors(m, file, { dtype, metadata: { format: 'pt', model: name } });
        // the outputs of the weights as written (rounded for F16/BF16), as PyTorch will load them
        const again = twin(name).eval();
        expect(await loadSafetensors(again, file)).toEqual({ missingKeys: [], unexpectedKeys: [] });
        io[`output.${tag}`] = tidy(() => again.call(x));
        if (tag === 'f32') for (const [k, t] of Object.entries(m.stateDict())) expect(Array.from(again.stateDict()[k]!.dataSync()), k).toEqual(Array.from(t.dataSync()));
        again.dispose();
      }
      await writeFile(join(out, `${name}.io.safetensors`), serializeSafetensors(await toHostTensors(io), { format: 'pt', model: name }));
      for (const t of Object.values(io)) t.dispose();
      m.dispose();
    });
  }
});

/** The Axon Keras-front models whose nn.Sequential equivalents torch_models.py's keras_* are. */
const KERAS: Record<string, () => Sequential> = {
  keras_mlp: () => mnistMlp(),
  keras_cnn: () => mnistCnn(),
  keras_gru: () => sequential([new KerasGRU(8, { inputShape: [5, 3] }), new Dense(2)]),
  keras_lstm: () => sequential([new KerasLSTM(6, { inputShape: [5, 3] }), new Dense(2)]),
  keras_bn: () => sequential([new Dense(6, { inputShape: [4], activation: 'relu' }), new BatchNormalization(), new Dense(3)]),
};

async function readAll(file: string): Promise<Record<string, Tensor>> {
  await using f = await openSafetensors(file);
  const out: Record<string, Tensor> = {};
  for (const k of f.keys()) out[k] = await f.readTensor(k);
  return out;
}

describe('toTorchStateDict of an unbuilt model', () => {
  it('is an AxonError naming the layer (not an empty state dict that PyTorch would refuse)', async () => {
    await useTestBackend();
    const m = sequential([new Dense(4), new Dense(2)]); // no inputShape: built on first use
    expect(() => toTorchStateDict(m)).toThrow(/toTorchStateDict: layer 0 \(Dense '.*'\) is not built yet, so it has no weights to map/);
    m.dispose();
  });
});

/** PyTorch's nn.Sequential state dict → the Keras model (loadTorchStateDict): PyTorch's outputs; toTorchStateDict gives the tensors back. */
/**
 * keras_mlp and keras_cnn are the mlp and cnn fixtures with nn.Sequential's names (so no copy is
 * committed): `fc1` is index 1, `fc2` 4 (Flatten, Linear, ReLU, Dropout, Linear); `conv1` 1,
 * `conv2` 4, `fc` 9 (Unflatten, Conv2d, ReLU, MaxPool2d, Conv2d, ReLU, MaxPool2d, Flatten, Dropout, Linear).
 */
const RENAMED: Record<string, { from: string; keys: Record<string, string> }> = {
  keras_mlp: { from: 'mlp', keys: { fc1: '1', fc2: '4' } },
  keras_cnn: { from: 'cnn', keys: { conv1: '1', conv2: '4', fc: '9' } },
};

/** Softmax over the last axis of [N, C] values (Axon's mnistMlp/mnistCnn end in a softmax; PyTorch's twins do not). */
function softmaxRows(v: ArrayLike<number>, c: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < v.length; i += c) {
    const row = Array.from({ length: c }, (_, j) => v[i + j]!);
    const mx = Math.max(...row);
    const e = row.map((x) => Math.exp(x - mx));
    const s = e.reduce((a, b) => a + b, 0);
    out.push(...e.map((x) => x / s));
  }
  return out;
}

/** The PyTorch nn.Sequential state dict of fixture `name` (renamed from mlp/cnn for keras_mlp/keras_cnn). */
async function torchStateDict(name: string): Promise<Record<string, Tensor>> {
  const ren = RENAMED[name];
  const sd: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(await readAll(join(FIX, `${ren?.from ?? name}.f32.safetensors`)))) {
    const [mod, ...rest] = k.split('.');
    sd[ren ? `${ren.keys[mod!]}.${rest.join('.')}` : k] = t;
  }
  return sd;
}

async function kerasFromTorch(name: string): Promise<void> {
  const before = memory().numTensors;
  const m = KERAS[name]!();
  const ren = RENAMED[name];
  const sd = await torchStateDict(name);
  try {
    expect(loadTorchStateDict(m, sd)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    await using io = await openSafetensors(join(FIX, `${ren?.from ?? name}.io.safetensors`));
    const input = await io.readTensor('input');
    const x = input.reshape([input.shape[0]!, ...(ren ? [28, 28] : input.shape.slice(1))]);
    const y = m.predict(x);
    const raw = (await io.read('output.f32')).data;
    expectAllClose((await y.data()) as Float32Array, ren ? softmaxRows(raw, 10) : raw, name);
    input.dispose();
    x.dispose();
    y.dispose();
    const back = toTorchStateDict(m);
    expect(Object.keys(back)).toEqual(Object.keys(sd));
    for (const [k, t] of Object.entries(sd)) {
      expect(back[k]!.shape, k).toEqual(t.shape);
      if (k.endsWith('num_batches_tracked')) expect(back[k]!.item(), k).toBe(0); // Keras keeps no batch counter
      else if (name === 'keras_lstm' && /bias_(ih|hh)_l0$/.test(k)) continue; // summed into Keras' one bias: checked below
      else expect(Array.from(back[k]!.dataSync()), k).toEqual(Array.from(t.dataSync()));
    }
    if (name === 'keras_lstm') {
      const sum = (d: Record<string, Tensor>) => tidy(() => Array.from(d['0.bias_ih_l0']!.add(d['0.bias_hh_l0']!).dataSync()));
      expect(sum(back)).toEqual(sum(sd));
    }
    for (const t of Object.values(back)) t.dispose();
  } finally {
    for (const t of Object.values(sd)) t.dispose();
    m.dispose();
  }
  expect(memory().numTensors).toBe(before);
}

describe('Keras ⇄ PyTorch by layer: toTorchStateDict / loadTorchStateDict against PyTorch 1.13 nn.Sequential equivalents', () => {
  for (const name of Object.keys(KERAS)) it(`${name}: PyTorch → Axon Keras model gives PyTorch's outputs, and back`, () => kerasFromTorch(name));

  it('mnistMlp maps to nn.Sequential(Flatten, Linear(784,128), ReLU, Dropout, Linear(128,10)): 1.* and 4.*', () => {
    const sd = toTorchStateDict(mnistMlp());
    expect(Object.entries(sd).map(([k, t]) => [k, t.shape])).toEqual([['1.weight', [128, 784]], ['1.bias', [128]], ['4.weight', [10, 128]], ['4.bias', [10]]]);
    for (const t of Object.values(sd)) t.dispose();
  });

  it("errors list every problem at once in PyTorch's words; strict: false loads what matches; nothing is half-applied", async () => {
    const m = mnistMlp();
    const k1 = Array.from((m.layers[1] as Dense).kernel!.dataSync());
    const sd = await torchStateDict('keras_mlp');
    const wrong = zeros([128, 10]);
    const extra = zeros([1]);
    const bad: Record<string, Tensor> = { ...sd, '4.weight': wrong, '9.weight': extra };
    delete bad['4.bias'];
    expect(() => loadTorchStateDict(m, bad)).toThrow(
      'Sequential.loadStateDict: Error(s) in loading state_dict for Sequential:\n\tMissing key(s) in state_dict: "4.bias".\n\tUnexpected key(s) in state_dict: "9.weight".\n\tsize mismatch for 4.weight: copying a param with shape [128, 10] from checkpoint, the shape in current model is [10, 128].',
    );
    expect(Array.from((m.layers[1] as Dense).kernel!.dataSync())).toEqual(k1);
    const partial: Record<string, Tensor> = { ...sd, '9.weight': extra };
    delete partial['4.bias'];
    const b4 = Array.from((m.layers[3] as Dense).bias!.dataSync());
    expect(loadTorchStateDict(m, partial, { strict: false })).toEqual({ missingKeys: ['4.bias'], unexpectedKeys: ['9.weight'] });
    expect(Array.from((m.layers[3] as Dense).bias!.dataSync())).toEqual(b4);
    expect(Array.from((m.layers[1] as Dense).kernel!.dataSync())).toEqual(tidy(() => Array.from(sd['1.weight']!.T.contiguous().dataSync())));
    expect(() => toTorchStateDict(new Linear(2, 2))).toThrow('expects a Keras model');
    expect(() => toTorchStateDict(sequential([new KerasGRU(2, { inputShape: [3, 2], resetAfter: false })]))).toThrow('resetAfter: false has no PyTorch GRU counterpart');
    for (const t of [...Object.values(sd), wrong, extra]) t.dispose();
    m.dispose();
  });

  for (const [i, name] of Object.keys(KERAS).entries()) {
    it(`${name}: Axon → PyTorch file for gen_interop.py --check`, async () => {
      setSeed(200 + i);
      const m = KERAS[name]!();
      if (name === 'keras_bn') for (let s = 0; s < 3; s++) tidy(() => void m.call(randn([8, 4], { mean: 0.5, std: 2 })));
      m.eval();
      const x = name === 'keras_mlp' || name === 'keras_cnn' ? randn([2, 28, 28]) : name === 'keras_bn' ? randn([2, 4]) : randn([2, 5, 3]);
      const sd = toTorchStateDict(m);
      const out = join(FIX, 'axon');
      await mkdir(out, { recursive: true });
      await writeFile(join(out, `${name}.f32.safetensors`), serializeSafetensors(await toHostTensors(sd), { format: 'pt', model: name }));
      const y = m.predict(x);
      await writeFile(join(out, `${name}.io.safetensors`), serializeSafetensors(await toHostTensors({ input: x, 'output.f32': y }), { format: 'pt', model: name }));
      for (const t of [...Object.values(sd), x, y]) t.dispose();
      m.dispose();
    });
  }
});
