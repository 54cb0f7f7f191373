// Batched matmul: out[b] = a[b] · b[b]; a [B, M, K], b [B, K, N] with arbitrary byte strides,
// out [B, M, N] contiguous. `ws` is a workspace pointer for packing.

export function matmul_f32(pa: usize, sab: usize, sam: usize, sak: usize, pb: usize, sbb: usize, sbk: usize, sbn: usize, po: usize, B: i32, M: i32, N: i32, K: i32, _ws: usize): void {
  for (let bb = 0; bb < B; bb++) {
    const A = pa + <usize>bb * sab;
    const Bm = pb + <usize>bb * sbb;
    const O = po + ((<usize>bb * <usize>M * <usize>N) << 2);
    for (let i = 0; i < M; i++) {
      const orow = O + ((<usize>i * <usize>N) << 2);
      memory.fill(orow, 0, <usize>N << 2);
      for (let k = 0; k < K; k++) {
        const aik = load<f32>(A + <usize>i * sam + <usize>k * sak);
        const brow = Bm + <usize>k * sbk;
        let j = 0;
        if (sbn == 4) {
          const av = f32x4.splat(aik);
          for (; j + 4 <= N; j += 4) {
            const d = orow + (<usize>j << 2);
            v128.store(d, f32x4.add(v128.load(d), f32x4.mul(av, v128.load(brow + (<usize>j << 2)))));
          }
        }
        for (; j < N; j++) {
          const d = orow + (<usize>j << 2);
          store<f32>(d, load<f32>(d) + aik * load<f32>(brow + <usize>j * sbn));
        }
      }
    }
  }
}
