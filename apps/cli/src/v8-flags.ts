/**
 * Relaxed SIMD for the CLI on Node 20. The WASM backend's matmul has a relaxed-SIMD build (fused
 * multiply-add, ~1.25× faster) that it uses wherever the engine compiles it: Chrome ≥ 114,
 * Firefox ≥ 120 and Node ≥ 22 do by default, Node 20 only behind a V8 flag. `axon` turns that flag
 * on for itself (`enableRelaxedSimd`, called first thing), before any WebAssembly module compiles (the backend compiles its modules when
 * it starts, not when it is imported). The flag only lets V8 accept the relaxed-SIMD instructions;
 * nothing else changes. On Node 20, `AXON_RELAXED_SIMD=0` leaves the flag off: the backend then
 * runs its baseline SIMD128 matmul (`features.relaxedSimd` says which one runs).
 */
import v8 from 'node:v8';

/**
 * Turns V8's relaxed-SIMD flag on for this process, on Node 20, unless `AXON_RELAXED_SIMD=0`
 * (Node ≥ 22 has relaxed SIMD on already). Call it before any backend starts. Returns whether the
 * user left relaxed SIMD on.
 */
export function enableRelaxedSimd(env: NodeJS.ProcessEnv = process.env): boolean {
  const wanted = env.AXON_RELAXED_SIMD !== '0';
  const major = Number(process.versions.node.split('.')[0]);
  if (wanted && major < 22) {
    try {
      v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
      flagOn = true;
    } catch {
      /* an engine without the flag: the backend then reports relaxedSimd: false */
    }
  }
  return wanted;
}

let flagOn = false;

/** Whether {@link enableRelaxedSimd} set V8's flag in this process (child processes need it too). */
export function relaxedSimdFlagOn(): boolean {
  return flagOn;
}
