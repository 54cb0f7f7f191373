/**
 * Mutated files for every loader a user can point at a file: saved models (`model.json` and its
 * safetensors weights), bare safetensors, IDX (raw and gzip), CSV, and images (PNG and PGM). Each
 * case writes one mutated file set to disk and loads it the way a user would; the mutations are
 * byte-level (bit flips, truncation, inserted bytes, extreme integers over length fields) and
 * structure-aware (JSON values replaced with extremes, safetensors headers edited and re-encoded,
 * IDX/PNG/PGM headers declaring huge sizes), plus files that are not regular files at all.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { AxonError, ones, tensor, tidy, zeros, type DType, type Tensor } from '@axon/core';
import { BatchNorm1d, Conv2d, Dense, Flatten, Linear, MaxPool2d, BatchNorm2d, Dropout, type Module, ReLU, Sequential, loadModel, loadSafetensors, openSafetensors, parseSafetensors, fromHostTensors, save, saveSafetensors, sequential } from '@axon/layers';
import { loadOnnx, parseOnnx, toOnnx, type OnnxModel } from '@axon/onnx';
import { encodeIdx, fromCsv, loadIdx, parseCsv } from '@axon/datasets';
import { readGrayImage } from '@axon/cli/image';
import { PNG } from 'pngjs';
import { mutateOnnx } from './onnx-mutate.js';
import type { FuzzCase } from './run.js';
import type { Rng } from './rng.js';

/** The allocation bound of a file case: 4 × the bytes given to the loader, plus 16 MiB. */
export function fileBound(bytes: number): number {
  return 4 * bytes + 16 * 2 ** 20;
}

// ------------------------------------------------------------------ byte mutations
const EXTREMES = [0, 1, 0x7f, 0xff, 0x7fff, 0xffff, 0x7fffffff, 0xffffffff, 0x80000000];

function mutateBytes(src: Uint8Array, r: Rng): [string, Uint8Array] {
  const b = new Uint8Array(src);
  switch (r.int(0, 6)) {
    case 0: {
      const k = r.int(1, 8);
      for (let i = 0; i < k; i++) b[r.int(0, b.length)] ^= 1 << r.int(0, 8);
      return [`${k} bit flips`, b];
    }
    case 1: {
      const at = r.int(0, b.length);
      return [`truncated at ${at} of ${b.length}`, b.subarray(0, at)];
    }
    case 2: {
      const at = r.int(0, b.length + 1);
      const ins = Uint8Array.from({ length: r.int(1, 16) }, () => r.int(0, 256));
      const out = new Uint8Array(b.length + ins.length);
      out.set(b.subarray(0, at));
      out.set(ins, at);
      out.set(b.subarray(at), at + ins.length);
      return [`${ins.length} bytes inserted at ${at}`, out];
    }
    case 3: {
      // an extreme 32-bit integer over a 4-byte span near the start (where length fields live)
      const at = r.int(0, Math.min(b.length - 4, 64));
      const v = r.pick(EXTREMES);
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      if (at >= 0) dv.setUint32(at, v >>> 0, r.next() < 0.5);
      return [`0x${v.toString(16)} written at byte ${at}`, b];
    }
    case 4: {
      const at = r.int(0, b.length);
      const len = r.int(1, Math.max(2, Math.min(64, b.length - at)));
      const out = new Uint8Array(b.length + len);
      out.set(b.subarray(0, at + len));
      out.set(b.subarray(at, at + len), at + len);
      out.set(b.subarray(at + len), at + 2 * len);
      return [`${len} bytes duplicated at ${at}`, out];
    }
    default: {
      const out = Uint8Array.from({ length: r.int(0, 64) }, () => r.int(0, 256));
      return [`${out.length} random bytes`, out];
    }
  }
}

/** JSON values that loaders must not trust. */
const JSON_EXTREMES: unknown[] = [1e9, -1, 0, 2 ** 31, 1.5, 'toString', '__proto__', 'constructor', null, [], {}, true, 'x'.repeat(1000), [[[[[[[[1]]]]]]]], Array(1000).fill(1e6)];

/** Replaces one value at a random path of a JSON document with an extreme. */
function mutateJson(doc: unknown, r: Rng): [string, unknown] {
  const copy = JSON.parse(JSON.stringify(doc)) as unknown;
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, p: (string | number)[]): void => {
    paths.push(p);
    if (p.length > 12 || v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...p, i]));
    else for (const [k, x] of Object.entries(v)) walk(x, [...p, k]);
  };
  walk(copy, []);
  const path = paths.length > 1 ? paths[r.int(1, paths.length)]! : [];
  const value = r.pick(JSON_EXTREMES);
  if (path.length === 0) return [`document ← ${JSON.stringify(value)?.slice(0, 30)}`, value];
  let parent = copy as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (r.next() < 0.15 && !Array.isArray(parent)) {
    delete parent[last];
    return [`${path.join('.')} deleted`, copy];
  }
  parent[last] = value;
  return [`${path.join('.')} ← ${JSON.stringify(value)?.slice(0, 30)}`, copy];
}

/** Rebuilds a safetensors file from an edited header (optionally with a wrong length field). */
function mutateSafetensors(bytes: Uint8Array, r: Rng): [string, Uint8Array] {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as unknown;
  const data = bytes.subarray(8 + n);
  const choice = r.int(0, 5);
  if (choice === 0) {
    // a little off, or far past the end of the file (a length a reader must not allocate)
    const len = r.next() < 0.6 ? BigInt(n + r.pick([-1, 1, -8, 8])) : r.pick([BigInt(bytes.length), BigInt(bytes.length) * 1000n, 99_999_999n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n]);
    const out = new Uint8Array(bytes);
    new DataView(out.buffer).setBigUint64(0, len, true);
    return [`header length ${n} → ${len}`, out];
  }
  if (choice === 1) {
    const extra = Uint8Array.from({ length: r.int(1, 9) }, () => r.int(0, 256));
    const out = new Uint8Array(bytes.length + extra.length);
    out.set(bytes);
    out.set(extra, bytes.length);
    return [`${extra.length} trailing bytes`, out];
  }
  if (choice === 3 && r.next() < 0.8) {
    const [what, h] = mutateSafetensorsHeader(header as Record<string, Record<string, unknown>>, data.length, r);
    if (what !== null) return [`header ${what}`, rebuild(h, data)];
  }
  const [what, h] = mutateJson(header, r);
  const text = typeof h === 'string' ? h : JSON.stringify(h);
  const hb = new TextEncoder().encode(text ?? 'null');
  const out = new Uint8Array(8 + hb.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  out.set(data, 8 + hb.length);
  return [`header ${what}`, out];
}

/** Every dtype the safetensors format defines (and a few it does not). */
const ST_DTYPES = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'U16', 'U32', 'U64', 'BOOL', 'F8_E4M3', 'C64', 'toString', 'f32', ''];

function rebuild(header: unknown, data: Uint8Array): Uint8Array {
  const hb = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + hb.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  out.set(data, 8 + hb.length);
  return out;
}

/**
 * The hostile headers the format's reference implementation refuses: offsets out of range,
 * overlapping or leaving gaps, shapes declaring huge sizes (with the offsets kept, or made to
 * agree), dtypes swapped (same or other element size). Returns null when there is no tensor.
 */
function mutateSafetensorsHeader(header: Record<string, Record<string, unknown>>, dataLength: number, r: Rng): [string | null, unknown] {
  const h = JSON.parse(JSON.stringify(header)) as Record<string, Record<string, unknown>>;
  const names = Object.keys(h).filter((k) => k !== '__metadata__');
  if (names.length === 0) return [null, h];
  const name = r.pick(names);
  const t = h[name]!;
  const off = t.data_offsets as [number, number];
  switch (r.int(0, 7)) {
    case 0: {
      t.data_offsets = r.pick([[off[0], dataLength + 1], [dataLength, dataLength + (off[1] - off[0])], [off[1], off[0]], [0, 2 ** 53], [-4, off[1]], [off[0], 2 ** 64], [off[0] + 0.5, off[1] + 0.5]]);
      return [`'${name}' data_offsets ${JSON.stringify(off)} → ${JSON.stringify(t.data_offsets)} (data is ${dataLength} bytes)`, h];
    }
    case 1: {
      // overlapping: another tensor's range, or a range that straddles two
      const other = h[r.pick(names)]!.data_offsets as [number, number];
      t.data_offsets = [other[0], other[0] + (off[1] - off[0])];
      return [`'${name}' data_offsets moved onto ${JSON.stringify(other)} (overlap)`, h];
    }
    case 2: {
      // a gap: every range shifted by k (the data section then has unread bytes)
      const k = r.pick([1, 4, 8]);
      for (const n of names) {
        const o = h[n]!.data_offsets as [number, number];
        h[n]!.data_offsets = [o[0] + k, o[1] + k];
      }
      return [`every data_offsets shifted by ${k} (a gap)`, h];
    }
    case 3: {
      const shape = r.pick([[2 ** 31], [65536, 65536], [1e9, 1e9, 1e9], [2 ** 53], [-1], [0], [1.5], [3, -3], Array(64).fill(2), ['2']]);
      t.shape = shape;
      if (r.next() < 0.5 && shape.every((d) => typeof d === 'number' && d >= 0)) {
        const size = (shape as number[]).reduce((a, b) => a * b, 1);
        t.data_offsets = [off[0], off[0] + size * 4];
        return [`'${name}' shape → [${shape.slice(0, 4).join(',')}${shape.length > 4 ? ',…' : ''}] with offsets to match (${size * 4} bytes)`, h];
      }
      return [`'${name}' shape → [${shape.slice(0, 4).join(',')}${shape.length > 4 ? ',…' : ''}]`, h];
    }
    case 4: {
      const was = t.dtype;
      t.dtype = r.pick(ST_DTYPES);
      return [`'${name}' dtype ${String(was)} → ${JSON.stringify(t.dtype)}`, h];
    }
    case 5: {
      // a dtype of another size with the shape adjusted so the sizes agree (the data reinterpreted)
      const sizes: Record<string, number> = { F64: 8, I64: 8, U64: 8, F32: 4, I32: 4, U32: 4, F16: 2, BF16: 2, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1 };
      const bytes = off[1] - off[0];
      const d = r.pick(Object.keys(sizes).filter((k) => bytes % sizes[k]! === 0));
      t.dtype = d;
      t.shape = [bytes / sizes[d]!];
      return [`'${name}' reinterpreted as ${d} [${bytes / sizes[d]!}]`, h];
    }
    default: {
      // many tensors: one name repeated as thousands of entries over the same range
      const k = r.pick([100, 10000]);
      for (let i = 0; i < k; i++) h[`${name}.${i}`] = { ...t };
      return [`${k} more tensors over '${name}''s range`, h];
    }
  }
}

/** A safetensors file holding one tensor of every dtype the format defines (values within int32), plus a scalar and an empty tensor. */
function allDtypesSafetensors(): Uint8Array {
  const u8 = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const entries: [string, string, number[], Uint8Array][] = [
    ['f64', 'F64', [3], u8(Float64Array.of(1.5, -2, 1e-40))],
    ['f32', 'F32', [2, 2], u8(Float32Array.of(1, -1, 0.5, 3e38))],
    ['f16', 'F16', [4], u8(Uint16Array.of(0x3c00, 0xc000, 0x7c00, 0x0001))],
    ['bf16', 'BF16', [3], u8(Uint16Array.of(0x3f80, 0xc000, 0x7fc0))],
    ['i64', 'I64', [3], u8(BigInt64Array.of(-5n, 2147483647n, -2147483648n))],
    ['i32', 'I32', [], u8(Int32Array.of(-7))],
    ['i16', 'I16', [2], u8(Int16Array.of(-32768, 32767))],
    ['i8', 'I8', [3], u8(Int8Array.of(-128, 127, 0))],
    ['u8', 'U8', [2], Uint8Array.of(0, 255)],
    ['u16', 'U16', [2], u8(Uint16Array.of(65535, 0))],
    ['u32', 'U32', [2], u8(Uint32Array.of(2147483647, 0))],
    ['u64', 'U64', [2], u8(BigUint64Array.of(2147483647n, 0n))],
    ['bool', 'BOOL', [3], Uint8Array.of(0, 1, 1)],
    ['empty', 'F16', [0, 3], new Uint8Array(0)],
  ];
  const header: Record<string, unknown> = { __metadata__: { format: 'pt', note: 'every dtype' } };
  let offset = 0;
  for (const [name, dtype, shape, b] of entries) {
    header[name] = { dtype, shape, data_offsets: [offset, offset + b.length] };
    offset += b.length;
  }
  const data = new Uint8Array(offset);
  offset = 0;
  for (const [, , , b] of entries) {
    data.set(b, offset);
    offset += b.length;
  }
  return rebuild(header, data);
}

/** The module the module seeds were saved from (and mutated files are loaded into): PyTorch's names, a buffer of each kind. */
function stateModule(): Module {
  return new Sequential(new Linear(4, 3), new BatchNorm1d(3));
}

/** The host values of a module's state (to check that a refused load changed nothing). */
async function snapshot(m: Module): Promise<string> {
  const parts: string[] = [];
  for (const [k, t] of Object.entries(m.stateDict())) parts.push(`${k}:${t.dtype}:${t.shape.join(',')}:${Array.from(await t.data()).join(',')}`);
  return parts.join('|');
}

/**
 * Everything a user does with a safetensors file: parse its bytes (then tensors), write it to disk
 * and open it lazily (every key's info, `read` and `readTensor`), and, given a module, load it with
 * `loadSafetensors` from the path and from the bytes — a refused load must leave the module as it
 * was. Returns the tensors made (the runner checks and disposes them).
 */
async function exerciseSafetensors(file: string, b: Uint8Array, strict: boolean, withModule: boolean): Promise<Tensor[]> {
  const out: Tensor[] = [];
  const keep = (ts: Tensor[]): void => void out.push(...ts);
  let firstError: unknown;
  const verdicts: string[] = [];
  const attempt = async (step: string, f: () => Promise<void> | void): Promise<void> => {
    try {
      await f();
      verdicts.push(`${step}: ok`);
    } catch (e) {
      if (!(e instanceof AxonError)) throw e;
      verdicts.push(`${step}: ${e.message.split('\n')[0]!.slice(0, 160)}`);
      firstError ??= e;
    }
  };
  try {
    await attempt('parse', () => {
      const c = parseSafetensors(b);
      keep(tidy(() => Object.values(fromHostTensors(c.tensors))));
    });
    writeFileSync(file, b);
    await attempt('open', async () => {
      const f = await openSafetensors(file);
      try {
        if (f.bytesRead > f.size) throw new Error(`openSafetensors read ${f.bytesRead} bytes of a ${f.size}-byte file`);
        for (const k of f.keys()) {
          const info = f.info(k);
          const before = f.bytesRead;
          const h = await f.read(k);
          if (h.data.length !== info.shape.reduce((a, d) => a * d, 1) || h.dtype !== info.dtype) throw new Error(`read('${k}') gave ${h.data.length} ${h.dtype} values for ${info.dtype} [${info.shape.join(',')}]`);
          if (f.bytesRead - before > f.size) throw new Error(`read('${k}') read ${f.bytesRead - before} bytes of a ${f.size}-byte file`);
          keep([await f.readTensor(k)]);
        }
      } finally {
        await f.close();
      }
    });
    if (withModule) {
      for (const source of [file, b]) {
        const m = stateModule();
        try {
          const before = await snapshot(m);
          await attempt(typeof source === 'string' ? 'load path' : 'load bytes', async () => {
            try {
              await loadSafetensors(m, source, { strict });
            } catch (e) {
              if (e instanceof AxonError && (await snapshot(m)) !== before) throw new Error(`a refused loadSafetensors (${typeof source === 'string' ? 'path' : 'bytes'}) changed the module: ${e.message.slice(0, 120)}`);
              throw e;
            }
          });
        } finally {
          m.dispose();
        }
      }
    }
  } catch (e) {
    for (const t of out) t.dispose();
    throw e;
  }
  // The whole-file parser and the lazy reader must agree on whether the file is valid (and so
  // must loadSafetensors from the path and from the bytes).
  const ok = (step: string): boolean | undefined => {
    const v = verdicts.find((x) => x.startsWith(`${step}:`));
    return v === undefined ? undefined : v.endsWith(': ok');
  };
  const disagree = (a: string, b: string): boolean => ok(a) !== undefined && ok(b) !== undefined && ok(a) !== ok(b);
  if (disagree('parse', 'open') || disagree('load path', 'load bytes')) {
    for (const t of out) t.dispose();
    throw new Error(`the readers disagree: ${verdicts.join(' / ')}`);
  }
  // every step refused: the case is a rejection (its first AxonError); else the tensors made
  if (out.length === 0 && firstError !== undefined) throw firstError;
  return out;
}

/** Zeros (or ones) of each input of an ONNX seed, as its forward wants them. */
interface OnnxSeed {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly inputs: readonly { shape: number[]; dtype: DType }[];
}

/** The exported model (Conv2d, ReLU, Flatten, Linear) and three PyTorch 1.13 fixtures of @axon/onnx's tests. */
async function onnxSeeds(): Promise<OnnxSeed[]> {
  const net = new Sequential(new Conv2d(1, 2, 3), new ReLU(), new Flatten(), new Linear(32, 3));
  const x = zeros([1, 1, 6, 6]);
  const seeds: OnnxSeed[] = [];
  try {
    seeds.push({ name: 'exported conv+linear', bytes: await toOnnx(net, x, { opset: 18 }), inputs: [{ shape: [1, 1, 6, 6], dtype: 'float32' }] });
  } finally {
    x.dispose();
    net.dispose();
  }
  const fixtures = fileURLToPath(new URL('../../../packages/onnx/test/fixtures/', import.meta.url));
  for (const name of ['bncnn', 'misc', 'gru']) {
    const meta = JSON.parse(readFileSync(join(fixtures, `${name}.json`), 'utf8')) as { inputs: { shape: number[]; dtype: string }[] };
    seeds.push({ name: `${name}.onnx`, bytes: new Uint8Array(readFileSync(join(fixtures, `${name}.onnx`))), inputs: meta.inputs.map((i) => ({ shape: i.shape, dtype: i.dtype === 'float32' ? 'float32' : 'int32' })) });
  }
  return seeds;
}
/** Loads mutated ONNX bytes (from the bytes, or written to disk and loaded by path) and runs them on a valid input. */
async function exerciseOnnx(file: string | null, b: Uint8Array, seed: OnnxSeed): Promise<Tensor[]> {
  let model: OnnxModel;
  if (file === null) model = parseOnnx(b);
  else {
    writeFileSync(file, b);
    model = await loadOnnx(file);
  }
  const xs = seed.inputs.map((i) => (i.dtype === 'float32' ? ones(i.shape) : zeros(i.shape, 'int32')));
  try {
    // inside tidy, as fit does: with gradients on, run keeps the intermediates for backward
    return tidy(() => model.run(...xs));
  } finally {
    for (const x of xs) x.dispose();
    model.dispose();
  }
}

// ------------------------------------------------------------------ seeds (valid files)
interface Seeds {
  readonly modelDirs: string[];
  readonly safetensors: Uint8Array;
  /** One tensor of every safetensors dtype. */
  readonly allDtypes: Uint8Array;
  /** {@link stateModule} saved as F32, F16 and BF16. */
  readonly moduleFiles: Uint8Array[];
  readonly onnx: OnnxSeed[];
  readonly idx: Uint8Array;
  readonly csv: string;
  readonly png: Uint8Array;
  readonly pgm: Uint8Array;
}

async function makeSeeds(dir: string): Promise<Seeds> {
  const mlp = sequential([new Flatten({ inputShape: [4, 4] }), new Dense(8, { activation: 'relu' }), new Dropout(0.2), new Dense(3, { activation: 'softmax' })]);
  const cnn = sequential([new Conv2d(1, 2, 3, { inputShape: [1, 6, 6], padding: 1 }), new BatchNorm2d(2), new MaxPool2d(2), new Flatten(), new Dense(2)]);
  // A compiled, trained model: model.json carries the compile settings and the folder an optimizer-state file.
  const trained = sequential([new Dense(4, { inputShape: [3], activation: 'relu' }), new Dense(2, { activation: 'softmax' })]);
  trained.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  await trained.fit(tensor([[0, 1, 2], [1, 0, 1], [2, 2, 0], [0, 0, 1]]), tensor([0, 1, 1, 0], [4], 'int32'), { epochs: 1, batchSize: 2, verbose: 0 });
  const dirs = [join(dir, 'seed-mlp'), join(dir, 'seed-cnn'), join(dir, 'seed-compiled')];
  await save(mlp, dirs[0]!);
  await save(cnn, dirs[1]!);
  await save(trained, dirs[2]!);
  mlp.dispose();
  cnn.dispose();
  trained.dispose();
  const weightsFile = readdirSync(dirs[0]!).find((f) => f.endsWith('.safetensors'))!;
  const png = new PNG({ width: 12, height: 10 });
  for (let i = 0; i < png.data.length; i++) png.data[i] = (i * 37) & 0xff;
  const pgmBody = Uint8Array.from({ length: 8 * 6 }, (_, i) => (i * 11) & 0xff);
  const moduleFiles: Uint8Array[] = [];
  for (const dtype of ['float32', 'float16', 'bfloat16'] as const) {
    const m = stateModule();
    try {
      const p = join(dir, `module-${dtype}.safetensors`);
      await saveSafetensors(m, p, { dtype, metadata: { format: 'pt' } });
      moduleFiles.push(new Uint8Array(readFileSync(p)));
    } finally {
      m.dispose();
    }
  }
  return {
    modelDirs: dirs,
    safetensors: new Uint8Array(readFileSync(join(dirs[0]!, weightsFile))),
    allDtypes: allDtypesSafetensors(),
    moduleFiles,
    onnx: await onnxSeeds(),
    idx: encodeIdx({ type: 'uint8', shape: [5, 4, 4], data: Uint8Array.from({ length: 80 }, (_, i) => i) }),
    csv: 'a,b,label\n1,2.5,0\n3,"4",1\n5,6e-1,0\n',
    png: new Uint8Array(PNG.sync.write(png)),
    pgm: new Uint8Array([...new TextEncoder().encode('P5\n8 6\n255\n'), ...pgmBody]),
  };
}

function bytesOf(files: Record<string, Uint8Array | string>): number {
  return Object.values(files).reduce((n, v) => n + (typeof v === 'string' ? Buffer.byteLength(v) : v.length), 0);
}

/** `count` mutated-file cases, round-robin over the file kinds, writing under `root`. */
export async function generateFileCases(root: string, count: number, r: Rng): Promise<FuzzCase[]> {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const seeds = await makeSeeds(root);
  const cases: FuzzCase[] = [];
  const allKinds = ['model.json', 'model weights', 'safetensors', 'idx', 'idx.gz', 'csv', 'png', 'pgm', 'special file', 'safetensors dtypes', 'safetensors module', 'onnx'] as const;
  // AXON_FUZZ_ONLY (a regular expression) keeps the kinds whose 'files/<kind>' matches; when it
  // matches none (a pattern meant for the API specs), every kind runs.
  const only = process.env.AXON_FUZZ_ONLY;
  const picked = only ? allKinds.filter((k) => new RegExp(only, 'i').test(`files/${k}`)) : [];
  const kinds = picked.length ? picked : allKinds;
  for (let i = 0; i < count; i++) {
    const kind = kinds[i % kinds.length]!;
    const dir = join(root, `case-${i}`);
    let mutation = '';
    let size = 0;
    let call: () => unknown;
    switch (kind) {
      case 'model.json':
      case 'model weights': {
        const seed = r.pick(seeds.modelDirs);
        const files: Record<string, Uint8Array | string> = {};
        for (const f of readdirSync(seed)) files[f] = new Uint8Array(readFileSync(join(seed, f)));
        // the weights, or (in the compiled seed) sometimes the optimizer-state file
        const data = Object.keys(files).filter((f) => f.endsWith('.safetensors'));
        const wname = r.pick(data);
        if (kind === 'model.json') {
          const text = new TextDecoder().decode(files['model.json'] as Uint8Array);
          if (r.next() < 0.7) {
            const [what, doc] = mutateJson(JSON.parse(text), r);
            files['model.json'] = JSON.stringify(doc) ?? 'null';
            mutation = `model.json: ${what}`;
          } else {
            const [what, b] = mutateBytes(new TextEncoder().encode(text), r);
            files['model.json'] = b;
            mutation = `model.json: ${what}`;
          }
        } else {
          const [what, b] = r.next() < 0.6 ? mutateSafetensors(files[wname] as Uint8Array, r) : mutateBytes(files[wname] as Uint8Array, r);
          files[wname] = b;
          mutation = `${wname}: ${what}`;
        }
        size = bytesOf(files);
        call = () => {
          mkdirSync(dir, { recursive: true });
          for (const [f, v] of Object.entries(files)) writeFileSync(join(dir, f), v);
          return loadModel(dir);
        };
        cases.push({ family: 'files', name: kind, mutation, call, valid: (m) => typeof m === 'object' && m !== null && 'forward' in m, allocBytes: fileBound(size) });
        continue;
      }
      case 'safetensors':
      case 'safetensors dtypes':
      case 'safetensors module': {
        const src = kind === 'safetensors' ? seeds.safetensors : kind === 'safetensors dtypes' ? seeds.allDtypes : r.pick(seeds.moduleFiles);
        const [what, b] = r.next() < 0.6 ? mutateSafetensors(src, r) : mutateBytes(src, r);
        const strict = r.next() < 0.7;
        mutation = kind === 'safetensors module' ? `${what} (strict: ${strict})` : what;
        size = b.length;
        const file = join(dir, 'weights.safetensors');
        call = async () => {
          mkdirSync(dir, { recursive: true });
          return exerciseSafetensors(file, b, strict, kind === 'safetensors module');
        };
        // Each of the up to five loads (parse, open+read, readTensor, loadSafetensors from the path and
        // from the bytes) may decode the file — U8/I8 become int32 (4× their bytes), 2-byte dtypes 2× —
        // and a failed one's buffers count until the next garbage collection: 4 × the bytes per load.
        cases.push({ family: 'files', name: kind, mutation, call, valid: (v) => Array.isArray(v), allocBytes: fileBound(size * (kind === 'safetensors module' ? 5 : 3)) });
        continue;
      }
      case 'onnx': {
        const seed = r.pick(seeds.onnx);
        let what: string;
        let b: Uint8Array;
        const structured = r.next() < 0.65 ? mutateOnnx(seed.bytes, r) : null;
        if (structured) [what, b] = structured;
        else [what, b] = mutateBytes(seed.bytes, r);
        const byPath = r.next() < 0.3;
        mutation = `${seed.name}: ${what}${byPath ? ' (loadOnnx from a file)' : ''}`;
        size = b.length;
        const file = join(dir, 'model.onnx');
        call = async () => {
          mkdirSync(dir, { recursive: true });
          return exerciseOnnx(byPath ? file : null, b, seed);
        };
        cases.push({ family: 'files', name: kind, mutation, call, valid: (v) => Array.isArray(v), allocBytes: fileBound(size) });
        continue;
      }
      case 'idx':
      case 'idx.gz': {
        const [what, raw] = mutateBytes(seeds.idx, r);
        const b = kind === 'idx.gz' && r.next() < 0.5 ? new Uint8Array(gzipSync(raw)) : kind === 'idx.gz' ? mutateBytes(new Uint8Array(gzipSync(seeds.idx)), r)[1] : raw;
        mutation = kind === 'idx.gz' ? `gzip of a file with ${what}, or a mutated gzip` : what;
        size = b.length;
        const file = join(dir, `data.${kind}`);
        call = async () => {
          mkdirSync(dir, { recursive: true });
          writeFileSync(file, b);
          const a = await loadIdx(file);
          return a.data.length;
        };
        cases.push({ family: 'files', name: kind, mutation, call, valid: (n) => typeof n === 'number', allocBytes: fileBound(size) });
        continue;
      }
      case 'csv': {
        const [what, b] = mutateBytes(new TextEncoder().encode(seeds.csv), r);
        mutation = what;
        size = b.length;
        const file = join(dir, 'data.csv');
        call = async () => {
          mkdirSync(dir, { recursive: true });
          writeFileSync(file, b);
          parseCsv(new TextDecoder().decode(b));
          const ds = await fromCsv(file, { label: 'label' } as Parameters<typeof fromCsv>[1]);
          let rows = 0;
          for await (const el of ds) rows += el ? 1 : 0;
          return rows;
        };
        cases.push({ family: 'files', name: kind, mutation, call, valid: (n) => typeof n === 'number', allocBytes: fileBound(size) });
        continue;
      }
      case 'png':
      case 'pgm': {
        const src = kind === 'png' ? seeds.png : seeds.pgm;
        let b: Uint8Array;
        if (kind === 'png' && r.next() < 0.3) {
          // a header declaring a huge image
          b = new Uint8Array(src);
          const dv = new DataView(b.buffer);
          dv.setUint32(16, r.pick([0, 1, 65535, 100000, 0x7fffffff]));
          dv.setUint32(20, r.pick([0, 1, 65535, 100000, 0x7fffffff]));
          mutation = `IHDR ${dv.getUint32(16)}×${dv.getUint32(20)}`;
        } else if (kind === 'pgm' && r.next() < 0.3) {
          const w = r.pick(['0', '99999', '4294967296', '-1', 'x']);
          b = new Uint8Array([...new TextEncoder().encode(`P5\n${w} ${r.pick(['6', '99999'])}\n${r.pick(['255', '0', '70000'])}\n`), ...src.subarray(11)]);
          mutation = `header declares ${w} wide`;
        } else {
          const [what, m] = mutateBytes(src, r);
          b = m;
          mutation = what;
        }
        size = b.length;
        const file = join(dir, `image.${kind}`);
        call = async () => {
          mkdirSync(dir, { recursive: true });
          writeFileSync(file, b);
          const img = await readGrayImage(file);
          return img.gray.length;
        };
        cases.push({ family: 'files', name: kind, mutation, call, valid: (n) => typeof n === 'number', allocBytes: fileBound(size) });
        continue;
      }
      default: {
        // not a regular file where a loader expects one
        const which = r.int(0, 4);
        const target = r.pick(['model', 'idx', 'csv', 'image'] as const);
        mutation = `${['/dev/zero', 'a FIFO', 'a directory', 'a missing file'][which]} as the ${target}`;
        call = async () => {
          mkdirSync(dir, { recursive: true });
          const leaf = target === 'model' ? 'weights.safetensors' : `f.${target}`;
          const p = join(dir, leaf);
          if (which === 0) symlinkSync('/dev/zero', p);
          else if (which === 1) execFileSync('mkfifo', [p]);
          else if (which === 2) mkdirSync(p);
          if (target === 'model') {
            writeFileSync(join(dir, 'model.json'), readFileSync(join(seeds.modelDirs[0]!, 'model.json'), 'utf8').replace(/"weights":\s*"[^"]*"/, '"weights": "weights.safetensors"'));
            return loadModel(dir);
          }
          if (target === 'idx') return (await loadIdx(p)).data.length;
          if (target === 'csv') return fromCsv(p);
          return (await readGrayImage(p)).gray.length;
        };
        cases.push({ family: 'files', name: 'special file', mutation, call, valid: () => false, allocBytes: fileBound(0) });
        continue;
      }
    }
    cases.push({ family: 'files', name: kind, mutation, call, valid: (v) => Array.isArray(v), allocBytes: fileBound(size) });
  }
  return cases;
}

/**
 * The interop seeds unmutated (the safetensors files of every dtype and of a module in F32, F16
 * and BF16, and each ONNX seed by bytes and by path): each must be accepted, or the mutated cases
 * built on it test nothing (every one would be refused for the seed's own fault).
 */
export async function generateSeedCases(root: string): Promise<FuzzCase[]> {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const seeds = await makeSeeds(root);
  const cases: FuzzCase[] = [];
  const st: [string, Uint8Array, boolean][] = [
    ['safetensors (model weights)', seeds.safetensors, false],
    ['safetensors dtypes', seeds.allDtypes, false],
    ...seeds.moduleFiles.map((b, i): [string, Uint8Array, boolean] => [`safetensors module (${['F32', 'F16', 'BF16'][i]})`, b, true]),
  ];
  st.forEach(([name, b, withModule], i) => {
    const dir = join(root, `seed-st-${i}`);
    cases.push({ family: 'files', name, mutation: 'none (the seed)', call: async () => {
      mkdirSync(dir, { recursive: true });
      return exerciseSafetensors(join(dir, 'w.safetensors'), b, true, withModule);
    }, valid: (v) => Array.isArray(v) && v.length > 0, allocBytes: fileBound(b.length * 5) });
  });
  // a 3 GiB sparse file (a big tensor, then a small one): opening it and reading the small tensor
  // reads the header and 8 bytes, never the file whole (the bound is the 16 MiB of an empty file)
  const sparse = join(root, 'sparse.safetensors');
  cases.push({ family: 'files', name: 'safetensors 3 GiB sparse', mutation: 'none (open, read the small tensor)', call: async () => {
    const big = 3 * 2 ** 30;
    const header = { __metadata__: { format: 'pt' }, big: { dtype: 'F32', shape: [big / 4], data_offsets: [0, big] }, small: { dtype: 'F32', shape: [2], data_offsets: [big, big + 8] } };
    const head = rebuild(header, new Uint8Array(0));
    writeFileSync(sparse, head);
    truncateSync(sparse, head.length + big + 8);
    const f = await openSafetensors(sparse);
    try {
      const t = await f.readTensor('small');
      if (f.bytesRead > head.length + 8) {
        t.dispose();
        throw new Error(`reading one 8-byte tensor of a ${f.size}-byte file read ${f.bytesRead} bytes`);
      }
      return [t];
    } finally {
      await f.close();
      rmSync(sparse, { force: true });
    }
  }, valid: (v) => Array.isArray(v) && v.length === 1, allocBytes: fileBound(0) });
  seeds.onnx.forEach((seed, i) => {
    for (const byPath of [false, true]) {
      const dir = join(root, `seed-onnx-${i}`);
      cases.push({ family: 'files', name: `onnx ${seed.name}${byPath ? ' (by path)' : ''}`, mutation: 'none (the seed)', call: async () => {
        mkdirSync(dir, { recursive: true });
        return exerciseOnnx(byPath ? join(dir, 'm.onnx') : null, seed.bytes, seed);
      }, valid: (v) => Array.isArray(v) && v.length > 0, allocBytes: fileBound(seed.bytes.length) });
    }
  });
  return cases;
}
