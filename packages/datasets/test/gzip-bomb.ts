/**
 * Test helper: valid gzip files that expand enormously, built in milliseconds without ever
 * holding the expanded data. A raw-deflate encoding of 1 MiB of zeros (ending on a sync flush,
 * ~1 KB) only refers back within itself, so N copies of it after a prefix are N MiB of zeros;
 * the CRC-32 of the zeros is computed with the GF(2) "append zeros" operator (as zlib's
 * crc32_combine does), so the trailer is correct and an unlimited decompressor succeeds.
 */
import { constants, deflateRawSync } from 'node:zlib';

const MiB = 1 << 20;

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 register update over `bytes` (pre/post inversion left to the caller). */
function crcUpdate(reg: number, bytes: Uint8Array): number {
  let c = reg >>> 0;
  for (const b of bytes) c = TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return c >>> 0;
}

type Mat = Uint32Array; // 32 columns: the image of each register bit

function apply(m: Mat, v: number): number {
  let out = 0;
  for (let i = 0; v !== 0; i++, v >>>= 1) if (v & 1) out ^= m[i];
  return out >>> 0;
}
function compose(a: Mat, b: Mat): Mat {
  // (a ∘ b)(v) = a(b(v))
  const out = new Uint32Array(32);
  for (let i = 0; i < 32; i++) out[i] = apply(a, b[i]);
  return out;
}

/** The register after appending `n` zero bytes. */
function crcZeros(reg: number, n: number): number {
  // one zero byte: reg → TABLE[reg & 0xff] ^ (reg >>> 8), linear in reg
  let op: Mat = new Uint32Array(32);
  for (let i = 0; i < 32; i++) {
    const v = (1 << i) >>> 0;
    op[i] = (TABLE[v & 0xff] ^ (v >>> 8)) >>> 0;
  }
  let r = reg >>> 0;
  while (n > 0) {
    if (n & 1) r = apply(op, r);
    n = Math.floor(n / 2);
    if (n > 0) op = compose(op, op);
  }
  return r;
}

/** CRC-32 of `prefix` followed by `zeros` zero bytes. */
export function crc32PrefixZeros(prefix: Uint8Array, zeros: number): number {
  return (crcZeros(crcUpdate(0xffffffff, prefix), zeros) ^ 0xffffffff) >>> 0;
}

/**
 * A valid gzip file of `prefix` followed by `mib` MiB of zeros (about 1 KB per MiB). With
 * `lieAboutSize`, the trailer's ISIZE says the data is only `prefix.length` bytes long (a crafted
 * file: decompressors that trust it are fooled; the CRC check at the very end would fail).
 */
export function gzipBomb(prefix: Uint8Array, mib: number, lieAboutSize = false): Uint8Array {
  const head = deflateRawSync(prefix, { finishFlush: constants.Z_SYNC_FLUSH });
  const zeros = deflateRawSync(new Uint8Array(MiB), { level: 9, finishFlush: constants.Z_SYNC_FLUSH });
  const final = deflateRawSync(new Uint8Array(0)); // an empty final block
  const total = prefix.length + mib * MiB;
  const out = new Uint8Array(10 + head.length + zeros.length * mib + final.length + 8);
  out.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff], 0);
  let o = 10;
  out.set(head, o);
  o += head.length;
  for (let i = 0; i < mib; i++, o += zeros.length) out.set(zeros, o);
  out.set(final, o);
  o += final.length;
  const view = new DataView(out.buffer);
  view.setUint32(o, crc32PrefixZeros(prefix, mib * MiB), true);
  view.setUint32(o + 4, (lieAboutSize ? prefix.length : total) >>> 0, true);
  return out;
}
