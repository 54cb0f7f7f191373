/**
 * The trained model as files for other tools, made in the training worker (./worker.ts): ONNX
 * (`model.onnx`, for onnxruntime or any ONNX runtime) and PyTorch weights
 * (`model.pt.safetensors`, the state dict of the model's PyTorch `nn.Sequential` twin, for
 * `load_state_dict`). `@axon/onnx` (and protobufjs under it) is imported on first use only, so
 * it is a separate chunk the worker fetches when the ONNX download is first asked for.
 */
import { noGrad, tensor } from '@axon/core';
import { type Model, serializeSafetensors, toHostTensors, toTorchStateDict } from '@axon/layers';

/** The formats the page offers beside model.json + model.safetensors. */
export type ExportFormat = 'onnx' | 'torch';

/** The file name each format is saved under. */
export const EXPORT_FILE: Readonly<Record<ExportFormat, string>> = {
  onnx: 'model.onnx',
  torch: 'model.pt.safetensors',
};

/** The ONNX graph's input and output names (the input is [batch, 28, 28] float32 in [0, 1]). */
export const ONNX_INPUT = 'pixels';
export const ONNX_OUTPUT = 'probabilities';

/**
 * The model as ONNX bytes (opset 17): traced on a zero [1, 28, 28] image with a dynamic batch, so
 * the file takes `pixels` [batch, 28, 28] float32 and gives `probabilities` [batch, 10].
 */
export async function modelToOnnx(model: Model): Promise<Uint8Array> {
  const { toOnnx } = await import('@axon/onnx');
  const sample = noGrad(() => tensor(new Float32Array(784), [1, 28, 28]));
  try {
    return await toOnnx(model, sample, { dynamicBatch: true, inputNames: [ONNX_INPUT], outputNames: [ONNX_OUTPUT], docString: 'Axon demo: an MNIST classifier (input: 28×28 images in [0, 1]; output: the 10 class probabilities)' });
  } finally {
    sample.dispose();
  }
}

/**
 * The model's weights as a PyTorch state dict (`toTorchStateDict`: the names and layouts of the
 * equivalent `nn.Sequential`, e.g. `1.weight` [128, 784] for the MLP's first Dense), as a float32
 * safetensors file with `format: pt` metadata, which `load_state_dict(..., strict=True)` accepts.
 */
export async function modelToTorchSafetensors(model: Model): Promise<Uint8Array> {
  const sd = toTorchStateDict(model);
  try {
    return serializeSafetensors(await toHostTensors(sd), { format: 'pt' }, { dtype: 'float32' });
  } finally {
    for (const t of Object.values(sd)) t.dispose();
  }
}

/**
 * Makes the file of `format` from `model`, in a Uint8Array that owns its whole ArrayBuffer (so the
 * worker can transfer the buffer to the page without detaching memory something else still uses,
 * such as a protobufjs pool).
 */
export async function exportModel(model: Model, format: ExportFormat): Promise<Uint8Array> {
  const bytes = format === 'onnx' ? await modelToOnnx(model) : await modelToTorchSafetensors(model);
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}
