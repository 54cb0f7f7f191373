import { rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { AxonError } from '@axon/core';
import type { Model} from '@axon/layers';
import { loadModel, save, writeFileAtomic } from '@axon/layers';

/**
 * Saves a model atomically as a whole: a folder (→ `model.json` naming a content-addressed
 * `model-<hash>.safetensors`), or beside a `.json`/`.safetensors` path. Returns the target.
 */
export async function saveModelFiles(model: Model, path: string): Promise<string[]> {
  await save(model, path);
  return [path];
}

/**
 * Loads a model written by {@link saveModelFiles} (or by the demo's download), compiled with the
 * settings it was saved with (a file holding a single layer is refused by `loadModel`).
 */
export async function loadModelFiles(path: string): Promise<Model> {
  return loadModel(path);
}

/** The folder `save` writes into for an `--output` path. */
export function outputFolder(output: string): string {
  return /\.(json|safetensors)$/.test(output) ? dirname(resolve(output)) : resolve(output);
}

/**
 * Checks, before any training, that `folder` can be created and written (by writing and removing a
 * probe file the way `save` writes), so that a bad path fails in a second instead of after the run.
 * Paths under `/proc`, `/sys` and `/dev` are refused outright.
 */
export async function checkWritableFolder(flag: string, folder: string): Promise<void> {
  const abs = resolve(folder);
  if (/^\/(proc|sys|dev)(\/|$)/.test(abs)) throw new AxonError('train', `${flag} ${folder} is on a system pseudo-filesystem (${abs.split('/')[1]}); choose a folder on disk`);
  const probe = join(abs, `.axon-write-test-${process.pid}`);
  try {
    await writeFileAtomic(probe, '');
    await rm(probe, { force: true });
  } catch (e) {
    throw new AxonError('train', `${flag} ${folder} cannot be written: ${e instanceof Error ? e.message : String(e)}`);
  }
}
