/**
 * Mutated files for every loader a user can point at a file: saved models (`model.json` and its
 * safetensors weights), bare safetensors, IDX (raw and gzip), CSV, and images (PNG and PGM). Each
 * case writes one mutated file set to disk and loads it the way a user would; the mutations are
 * byte-level (bit flips, truncation, inserted bytes, extreme integers over length fields) and
 * structure-aware (JSON values replaced with extremes, safetensors headers edited and re-encoded,
 * IDX/PNG/PGM headers declaring huge sizes), plus files that are not regular files at all.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tensor, tidy } from '@axon/core';
import { Conv2d, Dense, Flatten, MaxPool2d, BatchNorm2d, Dropout, loadModel, parseSafetensors, fromHostTensors, save, sequential } from '@axon/layers';
import { encodeIdx, fromCsv, loadIdx, parseCsv } from '@axon/datasets';
import { readGrayImage } from '@axon/cli/image';
import { PNG } from 'pngjs';
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
  const choice = r.int(0, 4);
  if (choice === 0) {
    const delta = r.pick([-1, 1, -8, 8]);
    const out = new Uint8Array(bytes);
    new DataView(out.buffer).setBigUint64(0, BigInt(n + delta), true);
    return [`header length ${n} → ${n + delta}`, out];
  }
  if (choice === 1) {
    const extra = Uint8Array.from({ length: r.int(1, 9) }, () => r.int(0, 256));
    const out = new Uint8Array(bytes.length + extra.length);
    out.set(bytes);
    out.set(extra, bytes.length);
    return [`${extra.length} trailing bytes`, out];
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

// ------------------------------------------------------------------ seeds (valid files)
interface Seeds {
  readonly modelDirs: string[];
  readonly safetensors: Uint8Array;
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
  return {
    modelDirs: dirs,
    safetensors: new Uint8Array(readFileSync(join(dirs[0]!, weightsFile))),
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
  const kinds = ['model.json', 'model weights', 'safetensors', 'idx', 'idx.gz', 'csv', 'png', 'pgm', 'special file'] as const;
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
      case 'safetensors': {
        const [what, b] = r.next() < 0.6 ? mutateSafetensors(seeds.safetensors, r) : mutateBytes(seeds.safetensors, r);
        mutation = what;
        size = b.length;
        call = () => {
          const c = parseSafetensors(b);
          return tidy(() => Object.values(fromHostTensors(c.tensors)));
        };
        break;
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
