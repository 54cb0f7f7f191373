// Builds the wasm kernels before the tests when the generated module is missing or stale.
// @ts-expect-error -- a plain .mjs build script without type declarations
import { ensureKernels } from '../scripts/ensure-kernels.mjs';

export default function setup(): void {
  (ensureKernels as () => boolean)();
}
