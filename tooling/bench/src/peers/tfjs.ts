/**
 * TensorFlow.js in Node, two ways: the wasm backend (XNNPACK, SIMD; one thread, since Node 20
 * has no global Worker) and the plain-JS cpu backend. Both live in one `tf` instance; a
 * contender selects its backend before each of its cases.
 */

import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

export { tf };

export type TfBackend = 'wasm' | 'cpu';

let wasmPathsSet = false;

/** Directory holding tfjs-backend-wasm's .wasm files, as a file URL ending in '/'. */
export function tfjsWasmDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@tensorflow/tfjs-backend-wasm/package.json');
  return pathToFileURL(path.join(path.dirname(pkg), 'dist') + path.sep).href;
}

/** Makes `name` tfjs's current backend; throws if it cannot start. */
export async function useTfBackend(name: TfBackend): Promise<void> {
  if (name === 'wasm' && !wasmPathsSet) {
    // In Node, emscripten reads the .wasm with fs: give it a path, not an http URL.
    setWasmPaths(new URL(tfjsWasmDir()).pathname);
    wasmPathsSet = true;
  }
  if (tf.getBackend() !== name) {
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`tfjs backend '${name}' could not start`);
  }
  await tf.ready();
  // The cpu backend prints a "install tfjs-node" banner on first use; the bench knows.
  if (name === 'cpu') (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
}

/** Live tensors in tfjs (for leak checks). */
export function tfLiveTensors(): number {
  return tf.memory().numTensors;
}
