// pnpm --filter @axon/bench exec node scripts/engine-layers.mjs   (N=6400 ROUNDS=3 by default)
// What each layer of the engine buys: the MNIST MLP (batch 32) trained with fit() on WASM, with
// fusion on/off and compile on/off (core's setFlags: fit's step and Adam's updates), and the default
// without the backend's optional fused primitives (matmul epilogues, reduction prologues), in rounds.
import * as ax from '@axon/core';
import '@axon/backend-wasm';
import * as L from '@axon/layers';
const be = await ax.setBackend('wasm');
const prims = { matmulFused: be.matmulFused, reduceFused: be.reduceFused };
const N = Number(process.env.N ?? 6400);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
ax.setSeed(0);
const x = ax.rand([N, 28, 28], { seed: 1 });
const y = ax.randint(0, 10, [N], { seed: 2 });
const configs = [
  { name: 'eager (no fusion, no compile)', fusion: false, compile: false },
  { name: 'fusion, without epilogues/prologues', fusion: true, compile: false, plain: true },
  { name: 'fusion', fusion: true, compile: false },
  { name: 'compile', fusion: false, compile: true },
  { name: 'fusion + compile, without epilogues/prologues', fusion: true, compile: true, plain: true },
  { name: 'fusion + compile (default)', fusion: true, compile: true },
];
// a backend without matmulFused/reduceFused: core runs the plain matmul/reduce and a fused kernel
const use = (c) => {
  ax.setFlags({ fusion: c.fusion, compile: c.compile });
  be.matmulFused = c.plain ? undefined : prims.matmulFused;
  be.reduceFused = c.plain ? undefined : prims.reduceFused;
};
const models = configs.map(() => { const m = L.mnistModel('mlp'); m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] }); return m; });
const times = configs.map(() => []);
const kernels = [];
for (const [i, c] of configs.entries()) {
  use(c);
  await models[i].fit(x.slice([0, 0, 0], [320, 28, 28]), y.slice([0], [320]), { epochs: 1, batchSize: 32, verbose: 0, compile: c.compile });
  let p = null; let rep = null;
  const cb = { onBatchBegin: (b) => { if (b === 5) p = ax.startProfile(); }, onBatchEnd: (b) => { if (b === 5) rep = p.stop(); } };
  await models[i].fit(x.slice([0, 0, 0], [320, 28, 28]), y.slice([0], [320]), { epochs: 1, batchSize: 32, verbose: 0, compile: c.compile, callbacks: [cb] });
  kernels.push(rep.kernels);
}
for (let r = 0; r < ROUNDS; r++) {
  for (const [i, c] of configs.entries()) {
    use(c);
    const t0 = performance.now();
    await models[i].fit(x, y, { epochs: 1, batchSize: 32, verbose: 0, compile: c.compile });
    times[i].push((performance.now() - t0) / (N / 32));
  }
}
use(configs[configs.length - 1]);
const med = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
console.log('| engine | kernels/step | ms/step (median of ' + ROUNDS + ') | vs eager |');
console.log('|:--|--:|--:|--:|');
configs.forEach((c, i) => console.log(`| ${c.name} | ${kernels[i]} | ${med(times[i]).toFixed(2)} | ${(med(times[0]) / med(times[i])).toFixed(2)}× |`));
