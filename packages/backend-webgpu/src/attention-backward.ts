/**
 * WGSL of the flash-attention backward pass (FlashAttention-2's, see `Backend.attentionBackward` in
 * `@axon/core`): three kernels, no [Tq, Tk] buffer and no atomics.
 *
 * 1. {@link attentionDeltaSource}: per query row, `R[b, i] = (lse_i, D_i)` with
 *    `D_i = Σ_c dOut[i,c]·out[i,c]` (0 for a row whose keys are all masked, lse = −Infinity).
 * 2. {@link attentionKVGradSource}: a workgroup per (batch, block of `wg` keys), one invocation per key
 *    `j`, sweeps the queries in blocks of `bq` rows; each block's q and dOut rows are staged in
 *    workgroup memory (in chunks of `ch` columns; resident when D, Dv ≤ ch), the invocation computes its
 *    `bq` scores and `dP` in registers, then adds `Σ_i P_ij·dOut_i` to its dV row and
 *    `scale·Σ_i dS_ij·q_i` to its dK row (rows it alone writes: no atomics).
 * 3. {@link attentionQGradSource}: the same with the roles swapped — a workgroup per block of `wg`
 *    queries sweeps the keys in blocks of `bq`, staging k and v, and adds `scale·Σ_j dS_ij·k_j` to
 *    its dQ row.
 *
 * When causal, query blocks before a key block (and key blocks after a query block) are skipped
 * entirely. Every operand is read through its strides (0 included); the parameters are a uniform
 * block ({@link ATB}), so a kernel binds at most 8 storage buffers.
 */
import { header, paramAt } from './wgsl.js';

/**
 * Params of the backward kernels: sizes, the scale's float32 bits, the causal flag, per view (q, k,
 * v, bias, out, dOut) its offset and 3 strides, lse's offset and 2 strides, then the first block and
 * the first batch of this dispatch (a grid beyond maxComputeWorkgroupsPerDimension takes several).
 */
export const ATB = { B: 0, Tq: 1, Tk: 2, D: 3, Dv: 4, scale: 5, causal: 6, q: 7, k: 11, v: 15, bias: 19, o: 23, g: 27, lse: 31, rowBase: 34, batchBase: 35, len: 36 } as const;

/**
 * The shape of the backward kernels: `wg` invocations (rows owned: keys for dK/dV, queries for dQ),
 * blocks of `bq` rows of the other side per step, staged in chunks of `ch` columns.
 */
export interface AttentionBackwardPlan {
  readonly wg: number;
  readonly bq: number;
  readonly ch: number;
}

/** Bytes of workgroup memory a backward kernel of `p` uses (two staged `bq × ch` tiles). */
export function attentionBackwardStorage(p: AttentionBackwardPlan): number {
  return 4 * 2 * p.bq * p.ch;
}

const P = (i: number): string => paramAt(i, true);

/** Strided element `(row, col)` of view `name` in batch `b` (its base and strides are hoisted by {@link bases}). */
function el(name: string, row: string, col: string): string {
  return `${name}[${name}b + (${row}) * ${name}r + (${col}) * ${name}c]`;
}

/** WGSL lets of each view's base in batch `b` and its row and column strides (read once, not in the loops). */
function bases(views: readonly (readonly [string, number])[]): string {
  return views.map(([n, at]) => `  let ${n}b = ${P(at)} + b * ${P(at + 1)}; let ${n}r = ${P(at + 2)}; let ${n}c = ${P(at + 3)};`).join('\n');
}

/** `f(r)` for r = 0 … n − 1, joined by `sep`: the kernels unroll their per-row work over a block, so the rows' values stay in registers. */
function rows(n: number, f: (r: number) => string, sep = ' '): string {
  return Array.from({ length: n }, (_, r) => f(r)).join(sep);
}

const lseAt = (row: string): string => `${P(ATB.lse)} + b * ${P(ATB.lse + 1)} + (${row}) * ${P(ATB.lse + 2)}`;

/**
 * Kernel 1: `R[(b·Tq + i)·2] = lse_i`, `R[(b·Tq + i)·2 + 1] = D_i` (0 where lse_i = −Infinity: a
 * fully masked row, whose NaN output must not reach any gradient). Bindings: O, G, L, R.
 */
export function attentionDeltaSource(wg: number): string {
  const bindings = [
    { name: 'O', dtype: 'float32' as const },
    { name: 'G', dtype: 'float32' as const },
    { name: 'L', dtype: 'float32' as const },
    { name: 'R', dtype: 'float32' as const, write: true },
  ];
  return `${header(bindings, { uniformParams: true })}
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let Tq = ${P(ATB.Tq)}; let Dv = ${P(ATB.Dv)};
  let b = wid.y + ${P(ATB.batchBase)};
${bases([['G', ATB.g], ['O', ATB.o]])}
  let i = (wid.x + ${P(ATB.rowBase)}) * ${wg}u + li;
  if (i >= Tq) { return; }
  let l = L[${lseAt('i')}];
  var d: f32 = 0.0;
  if (l != -f_inf()) {
    for (var c: u32 = 0u; c < Dv; c = c + 1u) { d = d + ${el('G', 'i', 'c')} * ${el('O', 'i', 'c')}; }
  }
  R[(b * Tq + i) * 2u] = l;
  R[(b * Tq + i) * 2u + 1u] = d;
}
`;
}

/**
 * Kernel 2: dK and dV, one invocation per key (see the file's summary). Bindings: Q, K, V, (Bi), G,
 * R (kernel 1's), then dK [B, Tk, D] and dV [B, Tk, Dv] (contiguous).
 */
export function attentionKVGradSource(p: AttentionBackwardPlan, bias: boolean): string {
  const { wg, bq, ch } = p;
  const bindings = [
    { name: 'Q', dtype: 'float32' as const },
    { name: 'K', dtype: 'float32' as const },
    { name: 'V', dtype: 'float32' as const },
    ...(bias ? [{ name: 'Bi', dtype: 'float32' as const }] : []),
    { name: 'G', dtype: 'float32' as const },
    { name: 'R', dtype: 'float32' as const },
    { name: 'dK', dtype: 'float32' as const, write: true },
    { name: 'dV', dtype: 'float32' as const, write: true },
  ];
  const biasAdd = bias ? `if (i < Tq && colOk) { x = x + ${el('Bi', 'i', 'j')}; }` : '';
  return `${header(bindings, { uniformParams: true })}
var<workgroup> At: array<f32, ${bq * ch}>;
var<workgroup> Bt: array<f32, ${bq * ch}>;
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let Tq = ${P(ATB.Tq)}; let Tk = ${P(ATB.Tk)}; let D = ${P(ATB.D)}; let Dv = ${P(ATB.Dv)};
  let scale = p_f32(${ATB.scale}u);
  let causal = ${P(ATB.causal)} != 0u;
  let b = wid.y + ${P(ATB.batchBase)};
${bases([['Q', ATB.q], ['K', ATB.k], ['V', ATB.v], ['G', ATB.g], ...(bias ? [['Bi', ATB.bias] as const] : [])])}
  let j0 = (wid.x + ${P(ATB.rowBase)}) * ${wg}u;
  let j = j0 + li;
  let colOk = j < Tk;
  let kRow = (b * Tk + j) * D;
  let vRow = (b * Tk + j) * Dv;
  if (colOk) {
    for (var d: u32 = 0u; d < D; d = d + 1u) { dK[kRow + d] = 0.0; }
    for (var c: u32 = 0u; c < Dv; c = c + 1u) { dV[vRow + c] = 0.0; }
  }
  // queries i < j0 are masked for every key of the block when causal
  var iStart: u32 = 0u;
  if (causal) { iStart = min(j0, Tq); }
  let resQ = D <= ${ch}u;
  let resG = Dv <= ${ch}u;
  for (var i0: u32 = iStart; i0 < Tq; i0 = i0 + ${bq}u) {
    ${rows(bq, (r) => `var s${r}: f32 = 0.0; var dp${r}: f32 = 0.0;`)}
    // scores: q rows i0.. staged in At, chunks of ${ch} of D
    for (var d0: u32 = 0u; d0 < D; d0 = d0 + ${ch}u) {
      workgroupBarrier();
      for (var e: u32 = li; e < ${bq * ch}u; e = e + ${wg}u) {
        let rr = e / ${ch}u; let d = d0 + e % ${ch}u;
        var x: f32 = 0.0;
        if (i0 + rr < Tq && d < D) { x = ${el('Q', 'i0 + rr', 'd')}; }
        At[e] = x;
      }
      workgroupBarrier();
      if (colOk) {
        let dn = min(${ch}u, D - d0);
        for (var dd: u32 = 0u; dd < dn; dd = dd + 1u) {
          let kv = ${el('K', 'j', 'd0 + dd')};
          ${rows(bq, (r) => `s${r} = s${r} + At[${r * ch}u + dd] * kv;`)}
        }
      }
    }
    // dP = dOut·vᵀ: dOut rows staged in Bt
    for (var c0: u32 = 0u; c0 < Dv; c0 = c0 + ${ch}u) {
      workgroupBarrier();
      for (var e: u32 = li; e < ${bq * ch}u; e = e + ${wg}u) {
        let rr = e / ${ch}u; let c = c0 + e % ${ch}u;
        var x: f32 = 0.0;
        if (i0 + rr < Tq && c < Dv) { x = ${el('G', 'i0 + rr', 'c')}; }
        Bt[e] = x;
      }
      workgroupBarrier();
      if (colOk) {
        let cn = min(${ch}u, Dv - c0);
        for (var cc: u32 = 0u; cc < cn; cc = cc + 1u) {
          let vv = ${el('V', 'j', 'c0 + cc')};
          ${rows(bq, (r) => `dp${r} = dp${r} + Bt[${r * ch}u + cc] * vv;`)}
        }
      }
    }
    // P_ij = exp(s_ij − lse_i), dS_ij = P_ij (dP_ij − D_i) (s is overwritten by P, dp by dS)
${rows(bq, (r) => `    {
      let i = i0 + ${r}u;
      var pr: f32 = 0.0;
      var dl: f32 = 0.0;
      if (i < Tq && colOk && !(causal && j > i)) {
        let l = R[(b * Tq + i) * 2u];
        dl = R[(b * Tq + i) * 2u + 1u];
        var x = scale * s${r};
        ${biasAdd}
        if (l != -f_inf()) { pr = exp_(x - l); }
      }
      s${r} = pr;
      dp${r} = pr * (dp${r} - dl);
    }`, '\n')}
    // dK_j += scale Σ_i dS_ij q_i (q chunks again unless resident)
    for (var d0: u32 = 0u; d0 < D; d0 = d0 + ${ch}u) {
      if (!resQ) {
        workgroupBarrier();
        for (var e: u32 = li; e < ${bq * ch}u; e = e + ${wg}u) {
          let rr = e / ${ch}u; let d = d0 + e % ${ch}u;
          var x: f32 = 0.0;
          if (i0 + rr < Tq && d < D) { x = ${el('Q', 'i0 + rr', 'd')}; }
          At[e] = x;
        }
        workgroupBarrier();
      }
      if (colOk) {
        let dn = min(${ch}u, D - d0);
        for (var dd: u32 = 0u; dd < dn; dd = dd + 1u) {
          let acc = ${rows(bq, (r) => `dp${r} * At[${r * ch}u + dd]`, ' + ')};
          dK[kRow + d0 + dd] = dK[kRow + d0 + dd] + scale * acc;
        }
      }
    }
    // dV_j += Σ_i P_ij dOut_i
    for (var c0: u32 = 0u; c0 < Dv; c0 = c0 + ${ch}u) {
      if (!resG) {
        workgroupBarrier();
        for (var e: u32 = li; e < ${bq * ch}u; e = e + ${wg}u) {
          let rr = e / ${ch}u; let c = c0 + e % ${ch}u;
          var x: f32 = 0.0;
          if (i0 + rr < Tq && c < Dv) { x = ${el('G', 'i0 + rr', 'c')}; }
          Bt[e] = x;
        }
        workgroupBarrier();
      }
      if (colOk) {
        let cn = min(${ch}u, Dv - c0);
        for (var cc: u32 = 0u; cc < cn; cc = cc + 1u) {
          let acc = ${rows(bq, (r) => `s${r} * Bt[${r * ch}u + cc]`, ' + ')};
          dV[vRow + c0 + cc] = dV[vRow + c0 + cc] + acc;
        }
      }
    }
  }
}
`;
}

/**
 * Kernel 3: dQ, one invocation per query (see the file's summary). Bindings: Q, K, V, (Bi), G, R,
 * then dQ [B, Tq, D] (contiguous).
 */
export function attentionQGradSource(p: AttentionBackwardPlan, bias: boolean): string {
  const { wg, bq, ch } = p;
  const bindings = [
    { name: 'Q', dtype: 'float32' as const },
    { name: 'K', dtype: 'float32' as const },
    { name: 'V', dtype: 'float32' as const },
    ...(bias ? [{ name: 'Bi', dtype: 'float32' as const }] : []),
    { name: 'G', dtype: 'float32' as const },
    { name: 'R', dtype: 'float32' as const },
    { name: 'dQ', dtype: 'float32' as const, write: true },
  ];
  const biasAdd = bias ? `x = x + ${el('Bi', 'i', 'j')};` : '';
  return `${header(bindings, { uniformParams: true })}
var<workgroup> At: array<f32, ${bq * ch}>;
var<workgroup> Bt: array<f32, ${bq * ch}>;
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let Tq = ${P(ATB.Tq)}; let Tk = ${P(ATB.Tk)}; let D = ${P(ATB.D)}; let Dv = ${P(ATB.Dv)};
  let scale = p_f32(${ATB.scale}u);
  let causal = ${P(ATB.causal)} != 0u;
  let b = wid.y + ${P(ATB.batchBase)};
${bases([['Q', ATB.q], ['K', ATB.k], ['V', ATB.v], ['G', ATB.g], ...(bias ? [['Bi', ATB.bias] as const] : [])])}
  let i0 = (wid.x + ${P(ATB.rowBase)}) * ${wg}u;
  let i = i0 + li;
  let rowOk = i < Tq;
  let qRow = (b * Tq + i) * D;
  var l: f32 = -f_inf();
  var dl: f32 = 0.0;
  if (rowOk) {
    for (var d: u32 = 0u; d < D; d = d + 1u) { dQ[qRow + d] = 0.0; }
    l = R[(b * Tq + i) * 2u];
    dl = R[(b * Tq + i) * 2u + 1u];
  }
  // keys past the block's last query are masked for all of its rows when causal
  var jEnd = Tk;
  if (causal) { jEnd = min(Tk, i0 + ${wg}u); }
  let resK = D <= ${ch}u;
  for (var j0: u32 = 0u; j0 < jEnd; j0 = j0 + ${bq}u) {
    ${rows(bq, (r) => `var s${r}: f32 = 0.0; var dp${r}: f32 = 0.0;`)}
    for (var d0: u32 = 0u; d0 < D; d0 = d0 + ${ch}u) {
      workgroupBarrier();
      for (var e: u32 = li; e < ${bq * ch}u; e = e + ${wg}u) {
        let rr = e / ${ch}u; let d = d0 + e % ${ch}u;
        var x: f32 = 0.0;
        if (j0 + rr < jEnd && d < D) { x = ${el('K', 'j0 + rr', 'd')}; }
        At[e] = x;
      }
      workgroupBarrier();
      if (rowOk) {
        let dn = min(${ch}u, D - d0);
        for (var dd: u32 = 0u; dd < dn; dd = dd + 1u) {
          let qv = ${el('Q', 'i', 'd0 + dd')};
          ${rows(bq, (r) => `s${r} = s${r} + At[${r * ch}u + dd] * qv;`)}
        }
      }
    }
    for (var c0: u32 = 0u; c0 < Dv; c0 = c0 + ${ch}u) {
      workgroupBarrier();
      for (var e: u32 = li; e < ${bq * ch}u; e = e + ${wg}u) {
        let rr = e / ${ch}u; let c = c0 + e % ${ch}u;
        var x: f32 = 0.0;
        if (j0 + rr < jEnd && c < Dv) { x = ${el('V', 'j0 + rr', 'c')}; }
        Bt[e] = x;
      }
      workgroupBarrier();
      if (rowOk) {
        let cn = min(${ch}u, Dv - c0);
        for (var cc: u32 = 0u; cc < cn; cc = cc + 1u) {
          let gv = ${el('G', 'i', 'c0 + cc')};
          ${rows(bq, (r) => `dp${r} = dp${r} + Bt[${r * ch}u + cc] * gv;`)}
        }
      }
    }
${rows(bq, (r) => `    {
      let j = j0 + ${r}u;
      var pr: f32 = 0.0;
      if (rowOk && j < jEnd && !(causal && j > i)) {
        var x = scale * s${r};
        ${biasAdd}
        if (l != -f_inf()) { pr = exp_(x - l); }
      }
      dp${r} = pr * (dp${r} - dl);
    }`, '\n')}
    // dQ_i += scale Σ_j dS_ij k_j (k chunks again unless resident)
    for (var d0: u32 = 0u; d0 < D; d0 = d0 + ${ch}u) {
      if (!resK) {
        workgroupBarrier();
        for (var e: u32 = li; e < ${bq * ch}u; e = e + ${wg}u) {
          let rr = e / ${ch}u; let d = d0 + e % ${ch}u;
          var x: f32 = 0.0;
          if (j0 + rr < jEnd && d < D) { x = ${el('K', 'j0 + rr', 'd')}; }
          At[e] = x;
        }
        workgroupBarrier();
      }
      if (rowOk) {
        let dn = min(${ch}u, D - d0);
        for (var dd: u32 = 0u; dd < dn; dd = dd + 1u) {
          let acc = ${rows(bq, (r) => `dp${r} * At[${r * ch}u + dd]`, ' + ')};
          dQ[qRow + d0 + dd] = dQ[qRow + d0 + dd] + scale * acc;
        }
      }
    }
  }
}
`;
}
