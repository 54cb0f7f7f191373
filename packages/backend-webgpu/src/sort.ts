/**
 * WGSL of the `sort` primitive (see `Backend.sort` in `@axon/core`): the stable sorting permutation
 * of every row of a [rows, n] view, as a bitonic network over (key, index) pairs.
 *
 * Each element becomes an order-preserving u32 key ({@link SORT_KEYS}): float32 bits mapped so that
 * unsigned order is numeric order, −0 and +0 one key, every NaN the largest key (above +Infinity);
 * int32 with its sign bit flipped; descending flips every key's bits (NaN first, as PyTorch). Pairs
 * compare by key, then by index: every pair is distinct, so the network's result is the unique
 * stable order. A row is padded to a power of two N with (0xffffffff, index ≥ n), which sorts after
 * every real element.
 *
 * - A row that fits one tile (N ≤ `tile`, the workgroup memory's capacity) is one workgroup:
 *   load, the whole network in workgroup memory, store the indices ({@link sortLocalSource}
 *   `'full'`): one dispatch for every row.
 * - A longer row: each tile of `tile` elements sorts itself in workgroup memory into a
 *   `[rows, N, 2]` temporary (`'first'`: every stage of size ≤ tile); then for each size
 *   2·tile … N, one dispatch per compare distance j ≥ tile over the whole temporary
 *   ({@link sortStepSource}) and one that runs the distances < tile in workgroup memory (`'merge'`,
 *   or `'last'` for size N, which writes the indices). log2(N/tile)·(log2(N/tile) + 3)/2 + 1
 *   dispatches: 6 for n = 5000 with a 2048 tile.
 */
import type { DType } from '@axon/core';
import { header, paramAt } from './wgsl.js';

/**
 * Params of the sort kernels: n, the padded row N, the first row of this pass (r0, in x and out) and
 * of this dispatch within the pass (y0, also in the temporary), x's offset and 2 strides, the
 * descending flag, the pairs of a step dispatch, and the stage's size and distance j.
 */
export const SRT = { n: 0, N: 1, r0: 2, y0: 3, xOff: 4, xs0: 5, xs1: 6, desc: 7, total: 8, size: 9, j: 10, len: 11 } as const;

/** What a {@link sortLocalSource} kernel reads and writes. */
export type SortLocalMode = 'full' | 'first' | 'merge' | 'last';

const P = (i: number): string => paramAt(i, true);

/** WGSL: the order-preserving u32 key of an element's raw bits (float32 or int32), flipped when descending. */
export const SORT_KEYS = `
fn key_f(b: u32) -> u32 {
  let m = b & 0x7fffffffu;
  if (m > 0x7f800000u) { return 0xffffffffu; }
  if (m == 0u) { return 0x80000000u; }
  if ((b & 0x80000000u) != 0u) { return ~b; }
  return b | 0x80000000u;
}
fn key_i(b: u32) -> u32 { return b ^ 0x80000000u; }
`;

/**
 * The in-workgroup kernel: a workgroup of `wg` invocations per (tile of `tile` elements, row). Modes:
 * `'full'` (x → indices: N = tile, every stage), `'first'` (x → temporary: the stages of size ≤ tile),
 * `'merge'` (temporary → temporary) and `'last'` (temporary → indices): the distances tile/2 … 1 of
 * the stage of size `P[size]`. Bindings: X (raw u32 bits) and/or T (the [rows, N, 2] temporary),
 * and/or O (int32 indices).
 */
export function sortLocalSource(tile: number, wg: number, dtype: DType, mode: SortLocalMode): string {
  const fromX = mode === 'full' || mode === 'first';
  const toOut = mode === 'full' || mode === 'last';
  const bindings: { name: string; dtype: DType; write?: boolean }[] = [];
  // x is read as its raw bits (u32 arrays are bool's storage type): no float conversion on the way
  if (fromX) bindings.push({ name: 'X', dtype: 'bool' });
  if (mode === 'merge') bindings.push({ name: 'T', dtype: 'int32', write: true });
  else if (mode === 'last') bindings.push({ name: 'T', dtype: 'int32' });
  else if (mode === 'first') bindings.push({ name: 'T', dtype: 'int32', write: true });
  if (toOut) bindings.push({ name: 'O', dtype: 'int32', write: true });
  const key = dtype === 'float32' ? 'key_f' : 'key_i';
  const load = fromX
    ? `    if (p < n) {
      var k = ${key}(X[${P(SRT.xOff)} + row * ${P(SRT.xs0)} + p * ${P(SRT.xs1)}]);
      if (${P(SRT.desc)} != 0u) { k = ~k; }
      sk[t] = k;
    } else { sk[t] = 0xffffffffu; }
    si[t] = p;`
    : `    let at = 2u * (rp * N + p);
    sk[t] = bitcast<u32>(T[at]); si[t] = bitcast<u32>(T[at + 1u]);`;
  const store = toOut
    ? `    if (p < n) { O[row * n + p] = bitcast<i32>(si[t]); }`
    : `    let at = 2u * (rp * N + p);
    T[at] = bitcast<i32>(sk[t]); T[at + 1u] = bitcast<i32>(si[t]);`;
  const [lo, hi] = fromX ? ['2u', `${tile}u`] : [P(SRT.size), P(SRT.size)];
  return `${header(bindings, { uniformParams: true })}${SORT_KEYS}
var<workgroup> sk: array<u32, ${tile}>;
var<workgroup> si: array<u32, ${tile}>;
fn cx(i: u32, l: u32, up: bool) {
  let a = sk[i]; let b = sk[l]; let ia = si[i]; let ib = si[l];
  if ((a > b || (a == b && ia > ib)) == up) { sk[i] = b; sk[l] = a; si[i] = ib; si[l] = ia; }
}
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let n = ${P(SRT.n)}; let N = ${P(SRT.N)};
  let rp = wid.y + ${P(SRT.y0)};
  let row = ${P(SRT.r0)} + rp;
  let base = wid.x * ${tile}u;
  for (var t = li; t < ${tile}u; t += ${wg}u) {
    let p = base + t;
${load}
  }
  workgroupBarrier();
  var size = ${lo};
  loop {
    if (size > ${hi}) { break; }
    var j = min(size >> 1u, ${tile / 2}u);
    loop {
      if (j == 0u) { break; }
      for (var t = li; t < ${tile / 2}u; t += ${wg}u) {
        let i = ((t & ~(j - 1u)) << 1u) | (t & (j - 1u));
        cx(i, i + j, ((base + i) & size) == 0u);
      }
      workgroupBarrier();
      j = j >> 1u;
    }
    size = size << 1u;
  }
  for (var t = li; t < ${tile}u; t += ${wg}u) {
    let p = base + t;
${store}
  }
}
`;
}

/**
 * One compare-exchange step of distance `P[j]` (≥ the tile) in the stage of size `P[size]`, over
 * the whole [rows, N, 2] temporary: an invocation per pair (`P[total]` = rows·N/2), dispatched in
 * 2-D. Binding: T.
 */
export function sortStepSource(wg: number): string {
  return `${header([{ name: 'T', dtype: 'int32', write: true }], { uniformParams: true })}
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let gid = (wid.y * nwg.x + wid.x) * ${wg}u + li;
  if (gid >= ${P(SRT.total)}) { return; }
  let N = ${P(SRT.N)}; let j = ${P(SRT.j)}; let size = ${P(SRT.size)};
  let half = N >> 1u;
  let q = gid % half;
  let i = ((q & ~(j - 1u)) << 1u) | (q & (j - 1u));
  let a = 2u * ((gid / half) * N + i);
  let b = a + 2u * j;
  let ka = bitcast<u32>(T[a]); let kb = bitcast<u32>(T[b]);
  let ia = bitcast<u32>(T[a + 1u]); let ib = bitcast<u32>(T[b + 1u]);
  if ((ka > kb || (ka == kb && ia > ib)) == ((i & size) == 0u)) {
    T[a] = bitcast<i32>(kb); T[a + 1u] = bitcast<i32>(ib);
    T[b] = bitcast<i32>(ka); T[b + 1u] = bitcast<i32>(ia);
  }
}
`;
}
