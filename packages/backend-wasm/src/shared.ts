/**
 * Turns the kernels module (built against an imported, unshared memory) into the module every
 * thread instantiates over one shared `WebAssembly.Memory`: the memory import becomes
 * `(memory 0 65536 shared)` and the data section is split out, to be written into the memory
 * once, by the creating thread, before any kernel runs. The code itself is unchanged (asc's
 * `--sharedMemory` output differs from the unshared build only in that import), so the package
 * ships one binary.
 *
 * Why strip the data: instantiating a module writes its active data segments into the memory,
 * so every worker's instantiation would rewrite the static tables while other threads read them.
 * @internal
 */

/** An active data segment: `bytes` written at byte address `offset`. */
export interface DataSegment {
  readonly offset: number;
  readonly bytes: Uint8Array;
}

/** A binary reader over `buf` from byte 8 (after the magic and version). */
class Reader {
  p = 8;
  constructor(readonly buf: Uint8Array) {}
  u32(): number {
    let r = 0;
    let s = 0;
    for (;;) {
      const b = this.buf[this.p++]!;
      r |= (b & 0x7f) << s;
      if ((b & 0x80) === 0) return r >>> 0;
      s += 7;
    }
  }
  i32(): number {
    let r = 0;
    let s = 0;
    let b: number;
    do {
      b = this.buf[this.p++]!;
      r |= (b & 0x7f) << s;
      s += 7;
    } while ((b & 0x80) !== 0);
    return s < 32 && (b & 0x40) !== 0 ? r | (-1 << s) : r;
  }
}

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function join(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, b) => n + b.length, 0));
  let o = 0;
  for (const b of parts) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}

/** The module without its data (and data-count) sections, and the active segments it had. */
export function splitData(buf: Uint8Array): { bytes: Uint8Array; segments: DataSegment[] } {
  const r = new Reader(buf);
  const keep: Uint8Array[] = [buf.subarray(0, 8)];
  const segments: DataSegment[] = [];
  while (r.p < buf.length) {
    const start = r.p;
    const id = buf[r.p++]!;
    const size = r.u32();
    const next = r.p + size;
    if (id === 11) {
      const count = r.u32();
      for (let s = 0; s < count; s++) {
        if (r.u32() !== 0) throw new Error('shared kernels: only active segments of memory 0 are supported');
        if (buf[r.p++] !== 0x41) throw new Error('shared kernels: unexpected data offset expression');
        const offset = r.i32();
        if (buf[r.p++] !== 0x0b) throw new Error('shared kernels: unexpected data offset expression end');
        const len = r.u32();
        segments.push({ offset, bytes: buf.slice(r.p, r.p + len) });
        r.p += len;
      }
    } else if (id !== 12) {
      keep.push(buf.subarray(start, next));
    }
    r.p = next;
  }
  return { bytes: join(keep), segments };
}

/** `buf` with its memory import made `shared`, `maxPages` at most, and its data split out. */
export function toShared(buf: Uint8Array, maxPages = 65536): { bytes: Uint8Array; segments: DataSegment[] } {
  const r = new Reader(buf);
  const parts: Uint8Array[] = [buf.subarray(0, 8)];
  while (r.p < buf.length) {
    const start = r.p;
    const id = buf[r.p++]!;
    const size = r.u32();
    const next = r.p + size;
    if (id !== 2) {
      parts.push(buf.subarray(start, next));
      r.p = next;
      continue;
    }
    const out: number[] = [];
    const count = r.u32();
    out.push(...leb(count));
    for (let i = 0; i < count; i++) {
      const e0 = r.p;
      const moduleName = r.u32();
      r.p += moduleName;
      const fieldName = r.u32();
      r.p += fieldName;
      const namesEnd = r.p;
      const kind = buf[r.p++]!;
      if (kind !== 2) {
        if (kind === 0) r.u32();
        else if (kind === 1) {
          r.p++;
          const f = r.u32();
          r.u32();
          if ((f & 1) !== 0) r.u32();
        } else if (kind === 3) r.p += 2;
        else throw new Error(`shared kernels: unexpected import kind ${kind}`);
        out.push(...buf.subarray(e0, r.p));
        continue;
      }
      out.push(...buf.subarray(e0, namesEnd));
      const flags = r.u32();
      r.u32();
      if ((flags & 1) !== 0) r.u32();
      out.push(2, 0x03, 0, ...leb(maxPages));
    }
    if (r.p !== next) throw new Error('shared kernels: import section parse error');
    parts.push(Uint8Array.of(2, ...leb(out.length), ...out));
    r.p = next;
  }
  return splitData(join(parts));
}
