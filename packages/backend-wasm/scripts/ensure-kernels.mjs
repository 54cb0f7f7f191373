// Runs build-wasm.mjs when src/generated/kernels.ts is missing or older than assembly/ or
// scripts/ (used by `typecheck` and the test setup, so both work straight after a checkout).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'generated') continue;
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Builds the kernels if needed; returns whether it built. */
export function ensureKernels() {
  const out = join(root, 'src/generated/kernels.ts');
  const sources = Math.max(newest(join(root, 'assembly')), newest(join(root, 'scripts')));
  if (existsSync(out) && statSync(out).mtimeMs >= sources) return false;
  execFileSync(process.execPath, [join(root, 'scripts/build-wasm.mjs')], { stdio: 'inherit' });
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) ensureKernels();
