/**
 * safetensors in full (issue 14): every dtype the format defines that maps to Axon, F16/BF16
 * writing, `__metadata__`, lazy reads from a file (a sparse > 2 GiB file), hostile files through
 * the lazy reader, and `loadSafetensors` / `loadStateDict` with PyTorch's errors.
 */
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AxonError, memory, ones, tensor, zeros, type Tensor } from '@axon/core';
import {
  BatchNorm1d, Linear, Module, Sequential, parameter, encodeWeights, loadModel, loadSafetensors, loadWeights, openSafetensors, parseSafetensors, save, saveSafetensors, saveWeights,
  sequential, Dense, serializeSafetensors, type SafetensorsDtype,
} from '../src/index.js';
import { useTestBackend } from './helpers.js';

let dir = '';
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(join(tmpdir(), 'axon-st-dtypes-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface RawEntry {
  name: string;
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

/** A safetensors file written plainly, entry by entry (any dtype code). */
function rawFile(entries: RawEntry[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header['__metadata__'] = metadata;
  let off = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [off, off + e.bytes.length] };
    off += e.bytes.length;
  }
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  let pos = 8 + h.length;
  for (const e of entries) {
    out.set(e.bytes, pos);
    pos += e.bytes.length;
  }
  return out;
}

/** Little-endian bytes of values written with a DataView setter. */
function le(size: number, values: (number | bigint)[], set: (dv: DataView, off: number, v: never) => void): Uint8Array {
  const out = new Uint8Array(size * values.length);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => set(dv, i * size, v as never));
  return out;
}
const f64 = (v: number[]) => le(8, v, (dv, o, x: number) => dv.setFloat64(o, x, true));
const u16 = (v: number[]) => le(2, v, (dv, o, x: number) => dv.setUint16(o, x, true));
const i64 = (v: bigint[]) => le(8, v, (dv, o, x: bigint) => dv.setBigInt64(o, x, true));
const u64 = (v: bigint[]) => le(8, v, (dv, o, x: bigint) => dv.setBigUint64(o, x, true));
const i32 = (v: number[]) => le(4, v, (dv, o, x: number) => dv.setInt32(o, x, true));
const u32 = (v: number[]) => le(4, v, (dv, o, x: number) => dv.setUint32(o, x, true));
const i16 = (v: number[]) => le(2, v, (dv, o, x: number) => dv.setInt16(o, x, true));

const one = (dtype: string, shape: number[], bytes: Uint8Array) => parseSafetensors(rawFile([{ name: 't', dtype, shape, bytes }])).tensors['t']!;

describe('safetensors dtypes: reading', () => {
  it('reads F64 (rounded to nearest float32; beyond its range ±Inf, as PyTorch .float()), F16 and BF16 (exactly widened) as float32', () => {
    const d = one('F64', [5], f64([1.5, 0.1, 1e300, -1e300, 1 + 2 ** -24]));
    expect(d.dtype).toBe('float32');
    expect(d.sourceDtype).toBe('F64');
    expect(Array.from(d.data)).toEqual([1.5, Math.fround(0.1), Infinity, -Infinity, 1]);
    // 1, -2, 65504 (max), 2^-24 (smallest subnormal), 2^-14 (smallest normal), -Inf, NaN, -0
    const h = one('F16', [8], u16([0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0xfc00, 0x7e00, 0x8000]));
    expect(h.sourceDtype).toBe('F16');
    expect(Array.from(h.data)).toEqual([1, -2, 65504, 2 ** -24, 2 ** -14, -Infinity, NaN, -0]);
    const b = one('BF16', [5], u16([0x3f80, 0xc040, 0x7f80, 0x0001, 0x7fc0]));
    expect(b.sourceDtype).toBe('BF16');
    expect(Array.from(b.data)).toEqual([1, -3, Infinity, 2 ** -133, NaN]);
  });

  it('reads every integer dtype as int32 with a range check, and BOOL as bool', () => {
    const cases: [SafetensorsDtype, Uint8Array, number[]][] = [
      ['I64', i64([-(2n ** 31n), 2n ** 31n - 1n, 0n]), [-(2 ** 31), 2 ** 31 - 1, 0]],
      ['U64', u64([0n, 2n ** 31n - 1n, 7n]), [0, 2 ** 31 - 1, 7]],
      ['I32', i32([-7, 2 ** 31 - 1, 3]), [-7, 2 ** 31 - 1, 3]],
      ['U32', u32([0, 2 ** 31 - 1, 9]), [0, 2 ** 31 - 1, 9]],
      ['I16', i16([-32768, 32767, -1]), [-32768, 32767, -1]],
      ['U16', u16([0, 65535, 1]), [0, 65535, 1]],
      ['I8', new Uint8Array([0x80, 0x7f, 0xff]), [-128, 127, -1]],
      ['U8', new Uint8Array([0, 255, 1]), [0, 255, 1]],
    ];
    for (const [code, bytes, want] of cases) {
      const e = one(code, [3], bytes);
      expect(e.dtype, code).toBe('int32');
      expect(e.sourceDtype, code).toBe(code);
      expect(Array.from(e.data), code).toEqual(want);
    }
    const b = one('BOOL', [3], new Uint8Array([1, 0, 1]));
    expect(b.dtype).toBe('bool');
    expect(Array.from(b.data)).toEqual([1, 0, 1]);
  });

  it('refuses integers outside int32 (naming tensor, dtype, value and index) rather than wrapping them, and BOOL bytes other than 0/1', () => {
    expect(() => one('I64', [3], i64([1n, 2n, 2n ** 31n]))).toThrow("tensor 't' (I64): value 2147483648 at index 2 is outside int32's range [-2147483648, 2147483647]");
    expect(() => one('I64', [2], i64([-(2n ** 31n) - 1n, 0n]))).toThrow(/value -2147483649 at index 0/);
    expect(() => one('U64', [1], u64([2n ** 64n - 1n]))).toThrow(/\(U64\): value 18446744073709551615 at index 0/);
    expect(() => one('U32', [2], u32([5, 0xffffffff]))).toThrow(/\(U32\): value 4294967295 at index 1/);
    expect(() => one('BOOL', [2], new Uint8Array([1, 2]))).toThrow("tensor 't' (BOOL): byte 2 at index 1 is not 0 or 1");
    for (const code of ['F8_E4M3', 'C64', 'float32', 'constructor']) expect(() => one(code, [1], new Uint8Array(4))).toThrow(`unsupported dtype '${code}'`);
  });
});

describe('safetensors dtypes: writing', () => {
  const f32 = (v: number[]) => ({ w: { dtype: 'float32' as const, shape: [v.length], data: new Float32Array(v) } });
  const bitsOf = (bytes: Uint8Array): number[] => {
    const { dataStart, n } = { n: Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true)), dataStart: 0 };
    const data = bytes.subarray(8 + n + dataStart);
    return Array.from({ length: data.length / 2 }, (_, i) => data[2 * i]! | (data[2 * i + 1]! << 8));
  };

  it('writes float32 as F16 rounded to nearest even, overflow to ±Inf, NaN kept NaN (PyTorch .half())', () => {
    const v = [1, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 65504, 65519.99, 65520, -1e9, 2 ** -25, 2 ** -25 * 1.5, NaN, -0, 2 ** -24];
    const bytes = serializeSafetensors(f32(v), {}, { dtype: 'float16' });
    // ties go to even (1 + 2^-11 → 1; 1 + 3·2^-11 → 1 + 2^-9); 65520 is the tie to Inf; 2^-25 the tie to 0
    expect(bitsOf(bytes)).toEqual([0x3c00, 0x3c00, 0x3c02, 0x7bff, 0x7bff, 0x7c00, 0xfc00, 0x0000, 0x0001, 0x7e00, 0x8000, 0x0001]);
    const back = parseSafetensors(bytes).tensors['w']!;
    expect(back.sourceDtype).toBe('F16');
    expect(Array.from(back.data)).toEqual([1, 1, 1 + 2 ** -9, 65504, 65504, Infinity, -Infinity, 0, 2 ** -24, NaN, -0, 2 ** -24]);
  });

  it('writes float32 as BF16 rounded to nearest even, overflow to ±Inf, NaN → 0x7FC0 (PyTorch .bfloat16())', () => {
    const maxF32 = new Float32Array(new Uint32Array([0x7f7fffff]).buffer)[0]!;
    const v = [1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, -3, maxF32, NaN, -0];
    const bytes = serializeSafetensors(f32(v), {}, { dtype: 'bfloat16' });
    expect(bitsOf(bytes)).toEqual([0x3f80, 0x3f80, 0x3f82, 0xc040, 0x7f80, 0x7fc0, 0x8000]);
    expect(Array.from(parseSafetensors(bytes).tensors['w']!.data)).toEqual([1, 1, 1 + 2 ** -6, -3, Infinity, NaN, -0]);
  });

  it('leaves int32 and bool tensors as they are, and checks the option', () => {
    const bytes = serializeSafetensors({ i: { dtype: 'int32', shape: [1], data: new Int32Array([-3]) }, b: { dtype: 'bool', shape: [1], data: new Uint8Array([1]) } }, {}, { dtype: 'float16' });
    const t = parseSafetensors(bytes).tensors;
    expect([t['i']!.sourceDtype, t['b']!.sourceDtype]).toEqual(['I32', 'BOOL']);
    expect(() => serializeSafetensors(f32([1]), {}, { dtype: 'float64' as 'float16' })).toThrow("dtype must be 'float32', 'float16' or 'bfloat16', got 'float64'");
    expect(() => serializeSafetensors(f32([1]), {}, { dtpye: 'float16' } as object)).toThrow("unknown option 'dtpye'");
  });

  it('keeps __metadata__ through saveSafetensors/saveWeights/save and the readers; save writes F16/BF16 weights that loadModel widens', async () => {
    const fc = new Linear(3, 2);
    const file = join(dir, 'meta.safetensors');
    await saveSafetensors(fc, file, { dtype: 'bfloat16', metadata: { format: 'pt', author: 'me' } });
    await using f = await openSafetensors(file);
    expect(f.metadata).toEqual({ format: 'pt', author: 'me' });
    expect(f.info('weight').sourceDtype).toBe('BF16');
    await saveWeights(fc, file, { metadata: { note: 'x' } });
    const parsed = parseSafetensors(new Uint8Array(await (await import('node:fs/promises')).readFile(file)));
    expect(parsed.metadata).toEqual({ format: 'axon', note: 'x' });
    expect(parsed.tensors['weight']!.sourceDtype).toBe('F32');
    await expect(saveWeights(fc, file, { metadata: { n: 3 as unknown as string } })).rejects.toThrow("metadata values must be strings; 'n' is 3");
    const net = sequential([new Dense(2, { inputShape: [3] })]);
    await save(net, join(dir, 'half-model'), { dtype: 'float16', metadata: { run: '7' } });
    const again = await loadModel(join(dir, 'half-model'));
    const x = tensor([[0.5, -1, 2]]);
    const w = (net.layers[0] as Dense).kernel!;
    // the saved kernel is the float16 rounding of the original's
    const w16 = parseSafetensors(serializeSafetensors({ w: { dtype: 'float32', shape: [...w.shape], data: w.dataSync() as Float32Array } }, {}, { dtype: 'float16' })).tensors['w']!.data;
    expect(Array.from((again.layers[0] as Dense).kernel!.dataSync())).toEqual(Array.from(w16));
    expect(again.predict(x).shape).toEqual([1, 2]);
    x.dispose();
    net.dispose();
    again.dispose();
    fc.dispose();
  });
});

describe('openSafetensors: lazy reads', () => {
  it('reads one tensor of a sparse > 2 GiB file: only the header and that tensor', async () => {
    const file = join(dir, 'huge.safetensors');
    const bigElems = 600_000_000; // 2.4 GB of F32, never written (a hole)
    const header = new TextEncoder().encode(JSON.stringify({ __metadata__: { kind: 'sparse' }, big: { dtype: 'F32', shape: [bigElems], data_offsets: [0, bigElems * 4] }, small: { dtype: 'F32', shape: [2, 2], data_offsets: [bigElems * 4, bigElems * 4 + 16] } }));
    const fh = await open(file, 'w');
    const prefix = new Uint8Array(8);
    new DataView(prefix.buffer).setBigUint64(0, BigInt(header.length), true);
    await fh.write(prefix, 0, 8, 0);
    await fh.write(header, 0, header.length, 8);
    await fh.write(new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer), 0, 16, 8 + header.length + bigElems * 4);
    await fh.close();
    const rss = process.memoryUsage().rss;
    await using f = await openSafetensors(file);
    expect(f.size).toBe(8 + header.length + bigElems * 4 + 16);
    expect(f.size).toBeGreaterThan(2 ** 31);
    expect(f.keys()).toEqual(['big', 'small']);
    expect(f.metadata).toEqual({ kind: 'sparse' });
    expect(f.info('big')).toEqual({ dtype: 'float32', sourceDtype: 'F32', shape: [bigElems], byteOffset: 8 + header.length, byteLength: bigElems * 4 });
    expect(f.bytesRead).toBe(8 + header.length);
    const small = await f.read('small');
    expect(Array.from(small.data)).toEqual([1, 2, 3, 4]);
    expect(f.bytesRead).toBe(8 + header.length + 16);
    // a module holding only `small`: loading reads it, never `big` (unexpected with strict: false)
    class Small extends Module {
      small = parameter(zeros([2, 2]));
      forward(x: Tensor): Tensor {
        return x.add(this.small);
      }
    }
    const m = new Small();
    expect(await loadSafetensors(m, file, { strict: false })).toEqual({ missingKeys: [], unexpectedKeys: ['big'] });
    expect(Array.from(m.small.dataSync())).toEqual([1, 2, 3, 4]);
    await expect(loadSafetensors(new Small(), file)).rejects.toThrow('Unexpected key(s) in state_dict: "big".');
    expect(process.memoryUsage().rss - rss).toBeLessThan(256 * 2 ** 20);
    m.dispose();
  });

  it('refuses hostile files with AxonErrors before allocating what they declare', async () => {
    const put = async (name: string, bytes: Uint8Array): Promise<string> => {
      const p = join(dir, name);
      await writeFile(p, bytes);
      return p;
    };
    const hdr = (header: unknown, data = new Uint8Array(0), lengthOverride?: bigint): Uint8Array => {
      const h = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
      const out = new Uint8Array(8 + h.length + data.length);
      new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(h.length), true);
      out.set(h, 8);
      out.set(data, 8 + h.length);
      return out;
    };
    const data = new Uint8Array(8);
    const cases: [string, Uint8Array, RegExp | string][] = [
      ['header length past EOF', hdr({}, data, 1_000_000n), /header length 1000000 is larger than the file allows/],
      ['header length above the cap', hdr({}, data, 2n ** 62n), /exceeds the 100000000-byte limit/],
      ['truncated prefix', new Uint8Array(5), /truncated file: 5 bytes/],
      ['offsets out of range', hdr({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 1 << 30] } }, data), /data_offsets \[0, 1073741824\] are out of range \(data section has 8 bytes\)/],
      ['huge shape', hdr({ a: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 8] } }, data), /needs 4835703278458516698824704 \(more than the file's 8\)/],
      ['shape product that doubles round', hdr({ a: { dtype: 'U8', shape: [2 ** 53 - 1, 3], data_offsets: [0, 8] } }, data), /needs 27021597764222973 /],
      ['overlapping offsets', hdr({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [2, 6] } }, data), /overlap/],
      ['gapped offsets', hdr({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'U8', shape: [2], data_offsets: [6, 8] } }, data), /a gap of 2 bytes/],
      ['trailing bytes', hdr({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, data), /cover 4 bytes but the data section has 8/],
      ['non-JSON header', hdr('{not json', data), /not valid UTF-8 JSON/],
      ['duplicate keys', hdr('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', data), /names "a" twice/],
      ['unknown dtype', hdr({ a: { dtype: 'Q4', shape: [2], data_offsets: [0, 8] } }, data), /unsupported dtype 'Q4'/],
    ];
    for (const [what, bytes, msg] of cases) {
      const p = await put(`hostile-${what.replace(/\W+/g, '-')}.safetensors`, bytes);
      const before = memory().numBytes;
      const err = await openSafetensors(p).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, what).toBeInstanceOf(AxonError);
      expect((err as Error).message, what).toMatch(msg);
      expect((err as Error).message, what).toContain(p);
      // the same validation for bytes in memory
      expect(() => parseSafetensors(bytes), what).toThrow(msg);
      expect(memory().numBytes).toBe(before);
    }
    await expect(openSafetensors(dir)).rejects.toThrow('is a directory, not a regular file; refusing to read it');
    await expect(openSafetensors(join(dir, 'nope.safetensors'))).rejects.toThrow('file not found');
  });

  it('read() after close() and unknown names are errors', async () => {
    const file = join(dir, 'closed.safetensors');
    await saveSafetensors(new Linear(2, 2), file);
    const f = await openSafetensors(file);
    expect(() => f.info('nope')).toThrow("no tensor 'nope'");
    await expect(f.read('nope')).rejects.toThrow("SafetensorsFile.read: no tensor 'nope'");
    await f.close();
    expect(f.closed).toBe(true);
    await expect(f.read('bias')).rejects.toThrow('is closed');
    await f.close();
  });
});

describe('loadSafetensors / loadStateDict like PyTorch', () => {
  class Net extends Module {
    fc = new Linear(3, 2);
    bn = new BatchNorm1d(2);
    forward(x: Tensor): Tensor {
      return this.bn.call(this.fc.call(x));
    }
  }

  it('lists every problem at once in PyTorch words; strict: false returns missing/unexpected; shape mismatches always refused; nothing half-applied', async () => {
    const a = new Net();
    const b = new Net();
    const before = Array.from(b.fc.bias!.dataSync());
    const w = zeros([3, 2]);
    const extra = ones([1]);
    const bad: Record<string, Tensor> = { ...a.stateDict(), 'fc.weight': w, extra };
    delete bad['bn.running_var'];
    delete bad['fc.bias'];
    expect(() => b.loadStateDict(bad)).toThrow(
      'Net.loadStateDict: Error(s) in loading state_dict for Net:\n\tMissing key(s) in state_dict: "fc.bias", "bn.running_var".\n\tUnexpected key(s) in state_dict: "extra".\n\tsize mismatch for fc.weight: copying a param with shape [3, 2] from checkpoint, the shape in current model is [2, 3].',
    );
    expect(() => b.loadStateDict(bad, { strict: false })).toThrow(/^Net.loadStateDict: Error\(s\) in loading state_dict for Net:\n\tsize mismatch for fc.weight/);
    expect(Array.from(b.fc.bias!.dataSync())).toEqual(before);
    const ok = { ...bad, 'fc.weight': a.fc.weight };
    expect(b.loadStateDict(ok, { strict: false })).toEqual({ missingKeys: ['fc.bias', 'bn.running_var'], unexpectedKeys: ['extra'] });
    expect(Array.from(b.fc.weight.dataSync())).toEqual(Array.from(a.fc.weight.dataSync()));
    // a float entry for the int32 buffer converts (PyTorch's copy_), a bool one does not
    const asFloat = { ...a.stateDict(), 'bn.num_batches_tracked': tensor(5) };
    b.loadStateDict(asFloat);
    expect(b.bn.numBatchesTracked!.dtype).toBe('int32');
    expect(b.bn.numBatchesTracked!.item()).toBe(5);
    const asBool = { ...a.stateDict(), 'fc.bias': tensor([true, false]) };
    expect(() => b.loadStateDict(asBool)).toThrow('dtype mismatch for fc.bias: copying a bool tensor from checkpoint, the tensor in current model is float32.');
    for (const t of [w, extra, asFloat['bn.num_batches_tracked']!, asBool['fc.bias']!]) t.dispose();
    a.dispose();
    b.dispose();
  });

  it('loadSafetensors checks the header before reading, and a tensor that fails to decode changes nothing', async () => {
    const file = join(dir, 'net.safetensors');
    const a = new Net();
    await saveSafetensors(a, file);
    const b = new Net();
    expect(await loadSafetensors(b, file)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(Array.from(b.fc.weight.dataSync())).toEqual(Array.from(a.fc.weight.dataSync()));
    expect(await loadWeights(new Net(), file)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    const bytes = await encodeWeights(a);
    expect(await loadSafetensors(new Net(), bytes)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    await expect(loadSafetensors(new Sequential(new Linear(3, 3)), file)).rejects.toThrow(/Missing key\(s\) in state_dict: "0.weight", "0.bias"/);
    // num_batches_tracked as an I64 beyond int32: refused while decoding, after fc.* were read; nothing applied
    const sd = a.stateDict();
    const entries: RawEntry[] = [];
    for (const [k, t] of Object.entries(sd)) {
      if (k === 'bn.num_batches_tracked') entries.push({ name: k, dtype: 'I64', shape: [], bytes: i64([2n ** 40n]) });
      else entries.push({ name: k, dtype: 'F32', shape: [...t.shape], bytes: new Uint8Array((t.dataSync() as Float32Array).slice().buffer) });
    }
    const hostile = join(dir, 'overflow.safetensors');
    await writeFile(hostile, rawFile(entries));
    const c = new Net();
    const cw = Array.from(c.fc.weight.dataSync());
    const live = memory().numTensors;
    await expect(loadSafetensors(c, hostile)).rejects.toThrow("tensor 'bn.num_batches_tracked' (I64): value 1099511627776 at index 0 is outside int32's range");
    expect(Array.from(c.fc.weight.dataSync())).toEqual(cw);
    expect(memory().numTensors).toBe(live);
    a.dispose();
    b.dispose();
    c.dispose();
  });
});
