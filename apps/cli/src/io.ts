import { Model, loadModel, save } from '@axon/layers';

/** Saves a model (`model.json` + `model.safetensors` in a folder, or beside a `.safetensors` path); returns the target. */
export async function saveModelFiles(model: Model, path: string): Promise<string[]> {
  await save(model, path);
  return [path];
}

/** Loads a model written by {@link saveModelFiles} (or by the demo's download). */
export async function loadModelFiles(path: string): Promise<Model> {
  const m = await loadModel(path);
  if (!(m instanceof Model)) {
    m.dispose();
    throw new Error(`${path} holds a ${m.constructor.name}, not a Keras-style model that can predict`);
  }
  return m;
}
