/* global process, console */
// Run by threads.test.ts as `node threads-child.mjs MODE` against the built package: the process
// must exit by itself (no hang) in every mode. Prints one JSON line.
import { createWasmBackendSync } from '../dist/index.js';

const mode = process.argv[2];
const out = { mode };
if (mode !== 'import-only') {
  const be = createWasmBackendSync({ threads: 2 });
  out.threads = await be.startThreads();
  const n = 256;
  const a = be.alloc('float32', n * n);
  be.fill(a, 1);
  const o = be.alloc('float32', n * n);
  const v = { buf: a, dtype: 'float32', shape: [1, n, n], strides: [n * n, n, 1], offset: 0 };
  be.matmul(v, v, o);
  out.value = be.readSync(o)[0];
  out.parallel = be.parallelRuns.matmul ?? 0;
  if (mode === 'dispose') be.dispose();
}
console.log(JSON.stringify(out));
