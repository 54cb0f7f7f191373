/**
 * A coalescing allocator over one growable `WebAssembly.Memory`.
 *
 * Blocks are 16-byte aligned and sized in multiples of 16 bytes. The heap is `[base, top)`;
 * everything above `top` up to the end of the memory is untouched. A freed block first goes to a
 * quick list of its exact size (a training step frees and requests the same sizes over and over,
 * and these come back in O(1), faster than the size-class pools this allocator replaced). Merged
 * free blocks are kept
 *
 * - by address, in two maps (start → block, end → block): a released block merges with a free
 *   neighbour on either side in O(1) (boundary tags kept on the JavaScript side, so kernels can
 *   never corrupt them), and a free region that reaches `top` is trimmed off the heap, so the
 *   heap ends at the last live block;
 * - by size, in segregated lists (TLSF-style "good fit"): one list per exact size below 1 KiB,
 *   eight per power of two above, with a bitmap of non-empty lists. An allocation takes a block
 *   of at least its size from its own list (scanning a few entries) or the head of the next
 *   non-empty list, and splits off the rest as a free block.
 *
 * An allocation tries, in order: the quick list of its size; the size lists (after releasing
 * the quick lists into the merged structure if they hold more than 1/8 of the heap, so that
 * placement sees the free space nearly as it is); the size lists again after releasing the quick
 * lists (merging neighbours, trimming the top); only then does it take new space at `top`,
 * growing the memory if needed (by at least 1/8 of its size, so growth is amortised, never past
 * the maximum). So the heap never rises while freed memory sits un-merged, and every operation
 * is O(1) in the number of free blocks (a bounded scan and a bitmap search over 240 lists), or
 * O(quick blocks) for a release, paid for by the frees that filled the quick lists.
 * WebAssembly memory cannot shrink: what the heap gives back stays in the memory, free for reuse.
 * @internal
 */
export class Allocator {
  /** Free blocks by start address. */
  private readonly byStart = new Map<number, FreeBlock>();
  /** Free blocks by end address (start + size). */
  private readonly byEnd = new Map<number, FreeBlock>();
  /** Head of each size list. */
  private readonly heads: (FreeBlock | null)[] = new Array<FreeBlock | null>(BINS).fill(null);
  /** Bit `b` set when list `b` is non-empty. */
  private readonly nonEmpty = new Uint32Array(BINS / 32);
  /** Block records not in use (recycled to spare the garbage collector). */
  private readonly spare: FreeBlock[] = [];
  /** End of the heap: no free block ends here (free space at the top is trimmed). */
  private top: number;
  /** Bytes in free blocks below `top` (the coalesced structure). */
  private freeBytes = 0;
  /** Freed blocks not merged yet, by exact size. */
  private readonly quick = new Map<number, QuickList>();
  /** The quick lists that may be non-empty (each listed once). */
  private readonly quickListed: QuickList[] = [];
  /** The memory's size in bytes as last seen (only this allocator grows it). */
  private capacity: number;
  /** Bytes in {@link Allocator.quick}. */
  private quickBytes = 0;
  /** Why the last {@link Allocator.alloc} failed (for the caller's error message). */
  lastFailure = '';

  /**
   * @param memory the memory to allocate in (grown on demand).
   * @param base first byte the allocator may hand out (a multiple of 16).
   * @param maxBytes the memory's maximum size in bytes (a multiple of 64 KiB, at most 4 GiB).
   */
  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly base: number,
    readonly maxBytes: number,
  ) {
    this.top = base;
    this.capacity = memory.buffer.byteLength;
  }

  /** The block size reserved for a request of `bytes` bytes: a multiple of 16, at least 16. */
  static blockSize(bytes: number): number {
    return bytes <= 16 ? 16 : Math.ceil(bytes / 16) * 16;
  }

  /**
   * Reserves a block of at least `bytes` bytes. Returns its byte address, or -1 when the memory
   * cannot hold it (then nothing changed but the merging of quick lists, and
   * {@link Allocator.lastFailure} says why). The block's size is
   * {@link Allocator.blockSize}`(bytes)`; pass it back to {@link Allocator.free}.
   */
  alloc(bytes: number): number {
    if (bytes > this.maxBytes) {
      this.lastFailure = `the memory holds at most ${this.maxBytes} bytes`;
      return -1;
    }
    const size = Allocator.blockSize(bytes);
    if (this.quickBytes > 0) {
      const q = this.quick.get(size);
      if (q !== undefined && q.ptrs.length > 0) {
        this.quickBytes -= size;
        return q.ptrs.pop()!;
      }
    }
    // No freed block of this exact size. When the quick lists hold much of the heap, merge them
    // first, so that the placement below sees the free space nearly as it is; otherwise leave
    // them for the sizes that recur, and merge them only if nothing fits.
    if (this.quickBytes * QUICK_SHARE > this.top - this.base) this.releaseQuick();
    let ptr = this.takeFit(size);
    if (ptr < 0 && this.quickBytes > 0) {
      this.releaseQuick();
      ptr = this.takeFit(size);
    }
    if (ptr >= 0) {
      return ptr;
    }
    ptr = this.top;
    const end = ptr + size;
    if (end > this.maxBytes) {
      this.lastFailure = `the heap would end at byte ${end}, past the memory's maximum of ${this.maxBytes} bytes`;
      return -1;
    }
    if (end > this.capacity) {
      const have = this.memory.buffer.byteLength;
      if (end > have && !this.grow(end, have)) return -1;
      this.capacity = this.memory.buffer.byteLength;
    }
    this.top = end;
    return ptr;
  }

  /** Returns the block at `ptr` of `size` bytes (as reserved by {@link Allocator.alloc}). */
  free(ptr: number, size: number): void {
    this.quickBytes += size;
    let q = this.quick.get(size);
    if (q === undefined) {
      q = { size, ptrs: [], listed: false };
      this.quick.set(size, q);
    }
    q.ptrs.push(ptr);
    if (!q.listed) {
      q.listed = true;
      this.quickListed.push(q);
    }
  }

  /** Bytes of the memory free for reuse: free blocks, quick lists and the space above the heap. */
  get pooledBytes(): number {
    return this.freeBytes + this.quickBytes + (this.memory.buffer.byteLength - this.top);
  }

  /** The largest request that would succeed without growing the memory (merges quick lists first). */
  largestFree(): number {
    this.releaseQuick();
    let best = this.memory.buffer.byteLength - this.top;
    // the largest block lies in the highest non-empty list
    for (let bin = BINS - 1; bin >= 0; bin--) {
      if ((this.nonEmpty[bin >>> 5]! & (1 << (bin & 31))) === 0) continue;
      for (let b = this.heads[bin] ?? null; b !== null; b = b.next) if (b.size > best) best = b.size;
      break;
    }
    return best;
  }

  // ---------------------------------------------------------------- internals

  /** Merges every block of the quick lists into the coalesced structure. */
  private releaseQuick(): void {
    if (this.quickBytes === 0) return;
    // (pop rather than truncate: setting an array's length is a slow path in V8)
    for (let q = this.quickListed.pop(); q !== undefined; q = this.quickListed.pop()) {
      for (let ptr = q.ptrs.pop(); ptr !== undefined; ptr = q.ptrs.pop()) this.release(ptr, q.size);
      q.listed = false;
    }
    // keep the (empty) stacks of recurring sizes, but not of every size ever freed
    if (this.quick.size > MAX_QUICK_SIZES) this.quick.clear();
    this.quickBytes = 0;
  }

  /** Puts a free block into the coalesced structure, merging it with free neighbours. */
  private release(ptr: number, size: number): void {
    let end = ptr + size;
    const left = this.byEnd.get(ptr);
    const right = this.byStart.get(end);
    if (right !== undefined) {
      // (no free block ends at `top`, so the merged region cannot reach it)
      end += right.size;
      this.freeBytes += size;
      if (left !== undefined) {
        // left + block + right: keep the left record
        this.unlink(right);
        this.byStart.delete(right.ptr);
        this.byEnd.delete(ptr);
        this.spare.push(right);
        this.byEnd.set(end, left);
        this.resize(left, end - left.ptr);
      } else {
        this.byStart.delete(right.ptr);
        right.ptr = ptr;
        this.byStart.set(ptr, right);
        this.resize(right, end - ptr);
      }
      return;
    }
    if (end === this.top) {
      // the free region reaches the top: trim it off the heap
      if (left !== undefined) {
        this.unlink(left);
        this.byStart.delete(left.ptr);
        this.byEnd.delete(ptr);
        this.freeBytes -= left.size;
        this.spare.push(left);
        this.top = left.ptr;
      } else {
        this.top = ptr;
      }
      return;
    }
    this.freeBytes += size;
    if (left !== undefined) {
      this.byEnd.delete(ptr);
      this.byEnd.set(end, left);
      this.resize(left, end - left.ptr);
      return;
    }
    const b = this.spare.pop() ?? { ptr: 0, size: 0, bin: 0, prev: null, next: null };
    b.ptr = ptr;
    b.size = size;
    this.byStart.set(ptr, b);
    this.byEnd.set(end, b);
    this.link(b);
  }

  /**
   * Takes `size` bytes from the start of a free block of at least that size: from the request's
   * own list (exact below 1 KiB; above, the first of a few entries large enough), else from the
   * head of the next non-empty list (every block there is large enough). Returns the address, or
   * -1 when no free block is large enough.
   */
  private takeFit(size: number): number {
    if (this.freeBytes < size) return -1;
    const bin = binOf(size);
    let b = this.heads[bin] ?? null;
    for (let i = 0; b !== null && i < SCAN && b.size < size; i++) b = b.next;
    if (b === null || b.size < size) {
      const higher = this.firstNonEmpty(bin + 1);
      if (higher < 0) return -1;
      b = this.heads[higher]!;
    }
    const ptr = b.ptr;
    this.freeBytes -= size;
    this.byStart.delete(ptr);
    if (b.size === size) {
      this.unlink(b);
      this.byEnd.delete(ptr + size);
      this.spare.push(b);
    } else {
      // the rest stays free (same end, same record)
      b.ptr = ptr + size;
      this.byStart.set(b.ptr, b);
      this.resize(b, b.size - size);
    }
    return ptr;
  }

  /** Grows the memory so that it holds `end` bytes; false (nothing changed) when it cannot. */
  private grow(end: number, have: number): boolean {
    const cur = have / PAGE;
    const maxPages = this.maxBytes / PAGE;
    const need = Math.ceil((end - have) / PAGE);
    // at least 1/8 of the current size, so that repeated growth stays amortised
    const want = Math.min(Math.max(need, Math.ceil(cur / 8)), maxPages - cur);
    let reason = '';
    for (const pages of want > need ? [want, need] : [need]) {
      try {
        this.memory.grow(pages);
        return true;
      } catch (e) {
        reason = e instanceof Error ? e.message : String(e);
      }
    }
    this.lastFailure = `growing the memory from ${have} to ${(cur + need) * PAGE} bytes failed (${reason})`;
    return false;
  }

  /** Index of the first non-empty list at or after `from`, or -1. */
  private firstNonEmpty(from: number): number {
    let w = from >>> 5;
    if (w >= this.nonEmpty.length) return -1;
    let bits = this.nonEmpty[w]! & (-1 << (from & 31));
    while (bits === 0) {
      if (++w >= this.nonEmpty.length) return -1;
      bits = this.nonEmpty[w]!;
    }
    return (w << 5) + 31 - Math.clz32(bits & -bits);
  }

  /** Sets a linked block's size, moving it to its new size list if that changes. */
  private resize(b: FreeBlock, size: number): void {
    b.size = size;
    if (binOf(size) !== b.bin) {
      this.unlink(b);
      this.link(b);
    }
  }

  /** Adds a block to the head of its size list. */
  private link(b: FreeBlock): void {
    const bin = binOf(b.size);
    b.bin = bin;
    b.prev = null;
    const head = this.heads[bin] ?? null;
    b.next = head;
    if (head !== null) head.prev = b;
    else this.nonEmpty[bin >>> 5]! |= 1 << (bin & 31);
    this.heads[bin] = b;
  }

  /** Removes a block from its size list. */
  private unlink(b: FreeBlock): void {
    if (b.prev !== null) b.prev.next = b.next;
    else {
      this.heads[b.bin] = b.next;
      if (b.next === null) this.nonEmpty[b.bin >>> 5]! &= ~(1 << (b.bin & 31));
    }
    if (b.next !== null) b.next.prev = b.prev;
    b.prev = null;
    b.next = null;
  }
}

/** Freed blocks of one size not merged yet. */
interface QuickList {
  readonly size: number;
  /** Their addresses (a stack: the last freed is reused first). */
  readonly ptrs: number[];
  /** Whether it is in `quickListed`. */
  listed: boolean;
}

/** A free block of the heap (kept on the JavaScript side). */
interface FreeBlock {
  ptr: number;
  size: number;
  /** Its size list. */
  bin: number;
  prev: FreeBlock | null;
  next: FreeBlock | null;
}

const PAGE = 65536;
/** Size lists: 64 exact ones (16-byte steps below 1 KiB), then 8 per power of two up to 2^32. */
const BINS = 256;
/** Entries of a request's own list examined before taking a block from a larger list. */
const SCAN = 8;
/** An allocation that misses the quick lists merges them first when they hold > 1/8 of the heap. */
const QUICK_SHARE = 8;
/** Distinct sizes whose (empty) quick stacks are kept after the quick lists are merged. */
const MAX_QUICK_SIZES = 256;

/** The size list of a block of `size` bytes (a multiple of 16). */
function binOf(size: number): number {
  if (size < 1024) return size >>> 4;
  const fl = 31 - Math.clz32(size);
  return 64 + (fl - 10) * 8 + ((size >>> (fl - 3)) & 7);
}
