import { AxonError } from '@axon/core';
import { chooseBackend } from '../backend.js';
import { runS1 } from '../examples/s1.js';
import { runS3 } from '../examples/s3.js';
import { runS4 } from '../examples/s4.js';

/** The seed scenarios `axon example` runs (S2 is `axon train`). */
export const EXAMPLES: Record<string, string> = {
  s1: 'one sigmoid neuron, gradient descent (seed 000)',
  s3: 'functional Keras model, regression (seed 002)',
  s4: 'the PyTorch loop: Linear(1,1), MSELoss, SGD (seed 004)',
};

/** `axon example <name>` (`threads`: `--threads`, core's `setNumThreads`, left as it is when undefined). */
export async function example(name: string, backend: string | undefined, log: (s: string) => void = console.log, threads?: number | 'auto'): Promise<void> {
  const b = await chooseBackend(backend, threads !== undefined ? { threads } : {});
  log(`axon example ${name} on ${b.name}: ${EXAMPLES[name] ?? ''}`);
  if (name === 's1') await runS1(log);
  else if (name === 's3') await runS3(log);
  else if (name === 's4') await runS4(log);
  else throw new AxonError('example', `unknown example '${name}'; known: ${Object.keys(EXAMPLES).join(', ')} (S2 is 'axon train')`);
}
