/**
 * The attention suite's float64 reference: causal attention's output and its gradients for q, k, v
 * (with the output gradient dOut), with the magnitudes of the conformance suite's error bound
 * (tooling/conformance `TOLERANCES.attention` and `referenceGrad` in `src/groups/attention.ts`), so
 * that each contender's result is checked before it is timed: a wrong contender shows up as wrong,
 * not as fast.
 */

/** float32 unit roundoff, 2^-24. */
export const EPS32 = 2 ** -24;

/**
 * The conformance suite's attention tolerance (`TOLERANCES.attention`): an element passes when
 * `|got − expected| ≤ rtol·|expected| + accEps·n·mag` (linear accumulation; `mag` and `n` from the
 * reference). The same numbers; never widened here.
 */
export const ATTENTION_TOLERANCE = { atol: 0, rtol: 4 * EPS32, accEps: EPS32 } as const;

/** A float64 reference result with its error bound's magnitudes and term count. */
export interface Expected {
  readonly values: Float64Array;
  readonly mag: Float64Array;
  readonly n: number;
}

/** The output and the gradients of q, k, v. */
export interface AttentionReference {
  readonly out: Expected;
  readonly dq: Expected;
  readonly dk: Expected;
  readonly dv: Expected;
}

/**
 * Causal self-attention in float64 on contiguous `[heads, T, D]` q, k, v (batch folded into
 * heads), scale 1/√D, and the gradients of `Σ out·dOut` for q, k, v — the conformance suite's
 * formulas and error magnitudes, specialised to this suite's case (no mask, D = Dv).
 * @example
 * const r = attentionReference(q, k, v, dOut, 4, 128, 32); // r.dq.values: Float64Array(4·128·32)
 */
export function attentionReference(q: Float32Array, k: Float32Array, v: Float32Array, dOut: Float32Array, heads: number, T: number, D: number): AttentionReference {
  const size = heads * T * D;
  for (const [name, a] of [['q', q], ['k', k], ['v', v], ['dOut', dOut]] as const) {
    if (a.length !== size) throw new Error(`attentionReference: ${name} has ${a.length} elements, expected ${heads}·${T}·${D} = ${size}`);
  }
  const scale = D > 0 ? 1 / Math.sqrt(D) : 1;
  const mk = () => ({ values: new Float64Array(size), mag: new Float64Array(size) });
  const [out, dq, dk, dv] = [mk(), mk(), mk(), mk()];
  const s = new Float64Array(T);
  const a = new Float64Array(T);
  const p = new Float64Array(T);
  const o = new Float64Array(D);
  for (let h = 0; h < heads; h++) {
    const base = h * T * D;
    for (let i = 0; i < T; i++) {
      const qi = base + i * D;
      let mx = -Infinity;
      for (let j = 0; j <= i; j++) {
        const kj = base + j * D;
        let dot = 0;
        let abs = 0;
        for (let d = 0; d < D; d++) {
          const x = q[qi + d]! * k[kj + d]!;
          dot += x;
          abs += Math.abs(x);
        }
        s[j] = scale * dot;
        a[j] = scale * abs;
        if (s[j]! > mx) mx = s[j]!;
      }
      let den = 0;
      let amax = 0;
      for (let j = 0; j <= i; j++) {
        p[j] = Math.exp(s[j]! - mx);
        den += p[j]!;
        amax = Math.max(amax, a[j]!);
      }
      for (let j = 0; j <= i; j++) p[j]! /= den;
      const grow = 1 + 2 * amax;
      // the output and the forward bound's magnitude
      let Di = 0;
      let w = 0;
      for (let e = 0; e < D; e++) {
        let x = 0;
        let m = 0;
        for (let j = 0; j <= i; j++) {
          const vj = v[base + j * D + e]!;
          x += p[j]! * vj;
          m += p[j]! * Math.abs(vj);
        }
        o[e] = x;
        out.values[qi + e] = x;
        out.mag[qi + e] = m * grow;
        const g = dOut[qi + e]!;
        Di += g * x;
        w += Math.abs(g * x);
      }
      // dS = P ⊙ (dOut·vᵀ − Σ dOut ⊙ out), dq = dS·k·scale, dk = dSᵀ·q·scale, dv = Pᵀ·dOut
      for (let j = 0; j <= i; j++) {
        if (p[j] === 0) continue;
        const kj = base + j * D;
        let dp = 0;
        let m = 0;
        for (let e = 0; e < D; e++) {
          const x = dOut[qi + e]! * v[kj + e]!;
          dp += x;
          m += Math.abs(x);
        }
        const ds = p[j]! * (dp - Di);
        const err = p[j]! * (Math.abs(dp) + Math.abs(Di) + m + w) * grow;
        for (let d = 0; d < D; d++) {
          dq.values[qi + d] += scale * ds * k[kj + d]!;
          dq.mag[qi + d] += scale * err * Math.abs(k[kj + d]!);
          dk.values[kj + d] += scale * ds * q[qi + d]!;
          dk.mag[kj + d] += scale * err * Math.abs(q[qi + d]!);
          dv.values[kj + d] += p[j]! * dOut[qi + d]!;
          dv.mag[kj + d] += p[j]! * Math.abs(dOut[qi + d]!) * grow;
        }
      }
    }
  }
  const nBwd = 2 * D + 2 * T + 4;
  return {
    out: { ...out, n: D + T + 4 },
    dq: { ...dq, n: nBwd },
    dk: { ...dk, n: nBwd },
    dv: { ...dv, n: nBwd },
  };
}

/**
 * Checks `got` against a reference with {@link ATTENTION_TOLERANCE}: undefined when every element is
 * within the bound, else a sentence naming how many are out and the worst (NaN must match NaN).
 * @example
 * const why = checkAttention(await dq.data() as Float32Array, ref.dq); // undefined: within tolerance
 */
export function checkAttention(got: Float32Array, exp: Expected): string | undefined {
  if (got.length !== exp.values.length) return `${got.length} elements, expected ${exp.values.length}`;
  const { atol, rtol, accEps } = ATTENTION_TOLERANCE;
  let bad = 0;
  let worst = -1;
  let worstExcess = -Infinity;
  let worstBound = 0;
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const e = exp.values[i]!;
    let excess: number;
    let b = 0;
    if (Number.isNaN(g) || Number.isNaN(e)) excess = Number.isNaN(g) && Number.isNaN(e) ? -Infinity : Infinity;
    else {
      b = atol + rtol * Math.abs(e) + accEps * exp.n * exp.mag[i]!;
      excess = Math.abs(g - e) - b;
    }
    if (excess > 0) bad++;
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
      worstBound = b;
    }
  }
  if (bad === 0) return undefined;
  const g = got[worst]!;
  const e = exp.values[worst]!;
  return `${bad} of ${got.length} elements out of tolerance; worst at ${worst}: got ${g}, expected ${e.toPrecision(8)}, |diff| ${Math.abs(g - e).toExponential(2)} > allowed ${worstBound.toExponential(2)}`;
}
