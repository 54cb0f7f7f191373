/**
 * A size-class allocator over one growable `WebAssembly.Memory`.
 *
 * Blocks are 16-byte aligned. Sizes up to 256 bytes round up to a multiple of 16; larger sizes
 * round up to one of four classes per power of two (at most 25% slack). A freed block goes onto
 * its class's free list and is reused by the next allocation of that class; new blocks come from
 * a bump pointer, growing the memory when it runs out (wasm memory never shrinks).
 * @internal
 */
export class Allocator {
  /** Free blocks per class size. */
  private readonly pools = new Map<number, number[]>();
  private top: number;
  /** Bytes sitting in free lists. */
  pooledBytes = 0;

  constructor(
    private readonly memory: WebAssembly.Memory,
    base: number,
  ) {
    this.top = base;
  }

  /** The class size (bytes actually reserved) for a request of `bytes`. */
  static classOf(bytes: number): number {
    if (bytes <= 256) return Math.max(16, (bytes + 15) & ~15);
    const p = 2 ** Math.floor(Math.log2(bytes));
    const step = p / 4;
    return Math.ceil(bytes / step) * step;
  }

  /** Reserves a block of at least `bytes` bytes; returns its byte address and class size. */
  alloc(bytes: number): { ptr: number; cls: number } {
    const cls = Allocator.classOf(bytes);
    const pool = this.pools.get(cls);
    if (pool !== undefined && pool.length > 0) {
      this.pooledBytes -= cls;
      return { ptr: pool.pop()!, cls };
    }
    const ptr = this.top;
    const end = ptr + cls;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const need = Math.ceil((end - have) / 65536);
      // Grow by at least 1/8 of the current size so that repeated growth stays amortised.
      const pages = Math.max(need, Math.ceil(have / 65536 / 8));
      const maxPages = 65536;
      const cur = have / 65536;
      const grow = Math.min(pages, maxPages - cur);
      if (grow < need) throw new RangeError(`wasm memory exhausted: cannot grow to ${end} bytes`);
      this.memory.grow(grow);
    }
    this.top = end;
    return { ptr, cls };
  }

  /** Returns a block to its class's free list. */
  free(ptr: number, cls: number): void {
    let pool = this.pools.get(cls);
    if (pool === undefined) {
      pool = [];
      this.pools.set(cls, pool);
    }
    pool.push(ptr);
    this.pooledBytes += cls;
  }

  /** Bytes between the heap base and the bump pointer. */
  get used(): number {
    return this.top;
  }
}
