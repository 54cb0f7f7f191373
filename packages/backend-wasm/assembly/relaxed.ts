// Entry point of the optional relaxed-SIMD module: the same matmul and attention kernels, compiled
// with `--enable relaxed-simd` so their micro-kernels use fused multiply-add. It is instantiated over
// the baseline module's memory and must not carry static data of its own.
export { matmul_f32, matmul_ws_bytes } from './matmul';
export { attention_f32 } from './attention';
