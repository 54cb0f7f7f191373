/**
 * Whole-model (de)serialisation to bytes and JSON, and loading over HTTP — no Node APIs, for
 * browsers (e.g. a demo that downloads or uploads a trained model).
 */
import { AxonError } from '@axon/core';
import type { Module } from './module.js';
import { decodeWeights, encodeWeights } from './safetensors.js';
import { type ModelJson, modelFromJson, modelToJson } from './serialize.js';

/**
 * A model as its two files' contents: the architecture (`model.json`) and the weights (safetensors).
 * @example const { json, weights } = await serializeModel(model);
 */
export interface SerializedModel {
  readonly json: ModelJson;
  readonly weights: Uint8Array;
}

/**
 * Serialises a model to `{ json, weights }` (what `save` writes to disk).
 * @example
 * const { json, weights } = await serializeModel(model);
 * const blob = new Blob([weights]); // offer as model.safetensors
 */
export async function serializeModel(model: Module): Promise<SerializedModel> {
  const json = { ...modelToJson(model), weights: 'model.safetensors' };
  const weights = await encodeWeights(model, { 'axon.model': json.className });
  return { json, weights };
}

/**
 * Rebuilds a model from `model.json` contents (object or text) and safetensors bytes.
 * @example const m = deserializeModel(await jsonFile.text(), new Uint8Array(await weightsFile.arrayBuffer()));
 */
export function deserializeModel(json: ModelJson | string, weights: Uint8Array): Module {
  let j: unknown = json;
  if (typeof json === 'string') {
    try {
      j = JSON.parse(json);
    } catch (e) {
      throw new AxonError('deserializeModel', `model.json is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const m = modelFromJson(j);
  try {
    decodeWeights(m, weights);
  } catch (e) {
    m.dispose();
    throw e;
  }
  return m;
}

/**
 * Loads a model over HTTP(S) with `fetch`: `base` is the URL of `model.json` or of the folder
 * holding `model.json` and `model.safetensors`.
 * @example const m = await loadModelFromUrl('/models/mnist/');
 */
export async function loadModelFromUrl(base: string | URL, init?: RequestInit): Promise<Module> {
  const op = 'loadModelFromUrl';
  if (typeof fetch !== 'function') throw new AxonError(op, 'fetch is not available here');
  let abs: URL;
  try {
    abs = new URL(String(base), globalThis.location?.href);
  } catch {
    throw new AxonError(op, `cannot resolve URL '${String(base)}' (give an absolute URL outside a browser)`);
  }
  const jsonUrl = abs.pathname.endsWith('.json') ? abs : new URL('model.json', abs.href.endsWith('/') ? abs.href : `${abs.href}/`);
  const get = async (u: URL): Promise<Response> => {
    const r = await fetch(u, init);
    if (!r.ok) throw new AxonError(op, `GET ${u.href} failed: ${r.status} ${r.statusText}`);
    return r;
  };
  const text = await (await get(jsonUrl)).text();
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new AxonError(op, `${jsonUrl.href} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const wname = (j as { weights?: unknown }).weights;
  const wUrl = new URL(typeof wname === 'string' && wname !== '' ? wname : 'model.safetensors', jsonUrl);
  const bytes = new Uint8Array(await (await get(wUrl)).arrayBuffer());
  return deserializeModel(j as ModelJson, bytes);
}
