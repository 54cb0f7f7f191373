// Entry point of the optional relaxed-SIMD module: the same matmul, compiled with
// `--enable relaxed-simd` so the micro-kernel uses fused multiply-add. It is instantiated over
// the baseline module's memory and must not carry static data of its own.
export { matmul_f32, matmul_ws_bytes } from './matmul';
