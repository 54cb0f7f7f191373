/**
 * Whole-model (de)serialisation to bytes and JSON, and loading over HTTP — no Node APIs, for
 * browsers (e.g. a demo that downloads or uploads a trained model).
 */
import { AxonError, fmtValue } from '@axon/core';
import { optBool, optionsOf } from './validate.js';
import { type Model, asLoadedModel } from './model.js';
import type { Module } from './module.js';
import { encodeWeights, loadParsedWeights, parseSafetensors, tensorDataBytes } from './safetensors.js';
import { MAX_MODEL_JSON_BYTES, type ModelJson, modelFromJson, modelToJson } from './serialize.js';

/**
 * A model as its two files' contents: the architecture (`model.json`) and the weights (safetensors).
 * @example
 * const net = sequential([new Dense(1, { inputShape: [2] })]);
 * const files: SerializedModel = await serializeModel(net);
 * files.json.weights // 'model.safetensors'
 * files.weights.length > 0 // true
 */
export interface SerializedModel {
  readonly json: ModelJson;
  readonly weights: Uint8Array;
}

/**
 * Serialises a model to `{ json, weights }` (the two files to offer for download).
 * @example
 * const net = sequential([new Dense(3, { inputShape: [4], activation: 'softmax' })]);
 * net.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
 * const { json, weights } = await serializeModel(net);
 * const files = [new Blob([JSON.stringify(json)]), new Blob([new Uint8Array(weights)])]; // offer as model.json and model.safetensors
 * json.compile!.loss // 'sparseCategoricalCrossentropy'
 * const copy = deserializeModel(json, weights);
 * copy.isCompiled // true
 */
export async function serializeModel(model: Module): Promise<SerializedModel> {
  const json = { ...modelToJson(model), weights: 'model.safetensors' };
  const weights = await encodeWeights(model, { 'axon.model': json.className });
  return { json, weights };
}

/**
 * Options of {@link deserializeModel}.
 * @example
 * const { json, weights } = await serializeModel(sequential([new Dense(1, { inputShape: [2] })]));
 * const opts: DeserializeModelOptions = { maxLayers: 50_000, compile: false };
 * deserializeModel(JSON.stringify(json), weights, opts).countParams() // 3
 * deserializeModel(JSON.stringify(json), weights, { maxJsonBytes: 10 }) // throws: 'larger than the 10-byte limit'
 */
export interface DeserializeModelOptions {
  /** The longest `model.json` text accepted, in bytes (UTF-8; default `MAX_MODEL_JSON_BYTES`, 32 MiB). */
  maxJsonBytes?: number;
  /** The most layers the architecture may declare (default `MAX_MODEL_LAYERS`, 10,000). */
  maxLayers?: number;
  /** Whether to compile the model with the compile settings `model.json` holds (default true). */
  compile?: boolean;
}

/**
 * Rebuilds a model from `model.json` contents (object or text) and safetensors bytes. The
 * weights are parsed and validated first; the architecture (at most `maxLayers` layers) is then
 * built with its parameters capped by the weights' size, so a config declaring more than its
 * weights hold fails before allocating; a failure frees everything built.
 * @example
 * // In a browser, from two files the user picked (File objects): here, Blobs of a model's files.
 * const net = sequential([new Dense(2, { inputShape: [3] })]);
 * const saved = await serializeModel(net);
 * const jsonFile = new Blob([JSON.stringify(saved.json)]);
 * const weightsFile = new Blob([new Uint8Array(saved.weights)]);
 * const m = deserializeModel(await jsonFile.text(), new Uint8Array(await weightsFile.arrayBuffer()));
 * m.predict(ones([1, 3])).sub(net.predict(ones([1, 3]))) // [[0, 0]]
 */
export function deserializeModel(json: ModelJson | string, weights: Uint8Array, opts: DeserializeModelOptions = {}): Model {
  const op = 'deserializeModel';
  opts = optionsOf<DeserializeModelOptions>(op, opts, ['maxJsonBytes', 'maxLayers', 'compile']);
  const compile = optBool(op, 'compile', opts.compile) ?? true;
  let j: unknown = json;
  if (typeof json === 'string') {
    const max = opts.maxJsonBytes ?? MAX_MODEL_JSON_BYTES;
    // a UTF-16 length above max/3 may still be under max bytes: measure only then
    if (json.length > max || (json.length * 3 > max && new TextEncoder().encode(json).length > max)) {
      throw new AxonError(op, `model.json is larger than the ${max}-byte limit (raise it with the maxJsonBytes option)`);
    }
    try {
      j = JSON.parse(json);
    } catch (e) {
      throw new AxonError(op, `model.json is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const contents = parseSafetensors(weights);
  const built: Module = modelFromJson(j, { ...(opts.maxLayers !== undefined ? { maxLayers: opts.maxLayers } : {}), maxParameterBytes: tensorDataBytes(contents) });
  const m = asLoadedModel(op, built, j, 'model.json', compile);
  try {
    loadParsedWeights(m, contents);
  } catch (e) {
    m.dispose();
    throw e;
  }
  return m;
}

/**
 * Options of {@link loadModelFromUrl}.
 * @example
 * const opts: LoadModelFromUrlOptions = { allowedOrigins: ['https://cdn.example.com'], maxWeightsBytes: 2 ** 20 };
 * // e.g. loadModelFromUrl('https://example.com/models/mnist/', { headers: { Authorization: `Bearer ${token}` } }, opts)
 * await loadModelFromUrl('ftp://example.com/models/mnist/', undefined, opts) // throws: 'expects an http(s) URL'
 */
export interface LoadModelFromUrlOptions extends DeserializeModelOptions {
  /** Allow the weights (or a redirect) on any other origin than the model's (default false). */
  allowCrossOrigin?: boolean;
  /** Other origins allowed for the weights or redirects, e.g. `['https://cdn.example.com']`. */
  allowedOrigins?: readonly string[];
  /** The largest weights download accepted, in bytes (default 2 GiB). */
  maxWeightsBytes?: number;
}

const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

/** `init` without credentials: no Authorization/Cookie/Proxy-Authorization header, `credentials: 'omit'`. */
function withoutCredentials(init: RequestInit | undefined): RequestInit {
  const headers = new Headers(init?.headers);
  for (const h of CREDENTIAL_HEADERS) headers.delete(h);
  return { ...init, headers, credentials: 'omit' };
}

/** Reads a response body, refusing more than `max` bytes (checked from Content-Length and while streaming). */
async function readCapped(op: string, r: Response, url: URL, max: number, hint: string): Promise<Uint8Array> {
  const tooBig = (): AxonError => new AxonError(op, `${url.href} is larger than the ${max}-byte limit (${hint})`);
  const declared = Number(r.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) {
    await r.body?.cancel().catch(() => undefined);
    throw tooBig();
  }
  if (!r.body) {
    const b = new Uint8Array(await r.arrayBuffer());
    if (b.length > max) throw tooBig();
    return b;
  }
  const reader = r.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      throw tooBig();
    }
    parts.push(value);
  }
  const out = new Uint8Array(total);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/**
 * GETs `url` under the origin policy: every hop (the URL and each redirect) must be on `origin` or
 * an allowed one, and a hop on another origin is requested without credentials. Redirects are
 * followed here (not by `fetch`), so credentials never reach another origin; where the platform
 * hides redirects (browsers), the browser follows them — it drops `Authorization` across
 * origins — with cookies limited to the same origin, and the final URL is checked.
 */
async function getChecked(op: string, what: string, url: URL, origin: string, allowed: (o: string) => boolean, init: RequestInit | undefined, max: number, hint: string): Promise<{ bytes: Uint8Array; url: URL }> {
  let current = url;
  const check = (u: URL): void => {
    if (u.origin !== origin && !allowed(u.origin)) {
      throw new AxonError(op, `${what} ${u.href} is on another origin (${u.origin}) than the model (${origin}); pass { allowCrossOrigin: true } or { allowedOrigins: ['${u.origin}'] } to allow it (credentials are never sent there)`);
    }
  };
  for (let hop = 0; hop <= 10; hop++) {
    check(current);
    const reqInit = current.origin === origin ? { ...init } : withoutCredentials(init);
    let r = await fetch(current, { ...reqInit, redirect: 'manual' });
    if (r.type === 'opaqueredirect') {
      const creds = reqInit.credentials === 'include' ? 'same-origin' : reqInit.credentials;
      r = await fetch(current, { ...reqInit, ...(creds ? { credentials: creds } : {}), redirect: 'follow' });
      if (r.url) {
        const final = new URL(r.url);
        if (final.origin !== current.origin) {
          try {
            check(final);
          } catch (e) {
            await r.body?.cancel().catch(() => undefined);
            throw e;
          }
        }
        current = final;
      }
    } else if (r.status >= 300 && r.status < 400) {
      const loc = r.headers.get('location');
      await r.body?.cancel().catch(() => undefined);
      if (!loc) throw new AxonError(op, `GET ${current.href}: redirect ${r.status} without a Location`);
      current = new URL(loc, current);
      continue;
    }
    if (!r.ok) {
      await r.body?.cancel().catch(() => undefined);
      throw new AxonError(op, `GET ${current.href} failed: ${r.status} ${r.statusText}`);
    }
    return { bytes: await readCapped(op, r, current, max, hint), url: current };
  }
  throw new AxonError(op, `GET ${url.href}: more than 10 redirects`);
}

/**
 * Loads a model over HTTP(S) with `fetch`: `base` is the URL of `model.json` or of the folder
 * holding it. The weights file `model.json` names is resolved relative to `model.json`'s URL and
 * must be on the same origin unless `allowCrossOrigin` or `allowedOrigins` allows another (the
 * same for redirects). `init` (headers, credentials) is sent as given to the model's origin only:
 * a request to another origin carries no `Authorization`, `Cookie` or `Proxy-Authorization`
 * header and uses `credentials: 'omit'`. `model.json` is capped at `maxJsonBytes`, the weights at
 * `maxWeightsBytes`; then the model is built as {@link deserializeModel} does.
 * @example
 * import { createServer } from 'node:http';
 * // A server with a model's two files (in a browser: a path such as '/models/mnist/' on the page's server)
 * const net = sequential([new Dense(1, { inputShape: [2] })]);
 * net.compile({ optimizer: 'sgd', loss: 'mse' });
 * const { json, weights } = await serializeModel(net);
 * const server = createServer((req, res) => res.end(req.url === '/models/tiny/model.json' ? JSON.stringify(json) : weights));
 * await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
 * const { port } = server.address() as { port: number };
 * const m = await loadModelFromUrl(`http://127.0.0.1:${port}/models/tiny/`);
 * server.close();
 * m.isCompiled // true
 * m.predict(ones([1, 2])).sub(net.predict(ones([1, 2]))) // [[0]]
 */
export async function loadModelFromUrl(base: string | URL, init?: RequestInit, opts: LoadModelFromUrlOptions = {}): Promise<Model> {
  const op = 'loadModelFromUrl';
  opts = optionsOf<LoadModelFromUrlOptions>(op, opts, ['maxJsonBytes', 'maxLayers', 'compile', 'allowCrossOrigin', 'allowedOrigins', 'maxWeightsBytes']);
  optBool(op, 'compile', opts.compile);
  if (init !== undefined && (init === null || typeof init !== 'object')) throw new AxonError(op, `init must be a RequestInit object (headers, credentials, …), got ${fmtValue(init)}`);
  if (typeof fetch !== 'function') throw new AxonError(op, 'fetch is not available here');
  let abs: URL;
  try {
    abs = new URL(String(base), globalThis.location?.href);
  } catch {
    throw new AxonError(op, `cannot resolve URL '${String(base)}' (give an absolute URL outside a browser)`);
  }
  if (abs.protocol !== 'http:' && abs.protocol !== 'https:') throw new AxonError(op, `expects an http(s) URL, got ${abs.href}`);
  const allowList = new Set<string>();
  for (const o of opts.allowedOrigins ?? []) {
    try {
      allowList.add(new URL(o).origin);
    } catch {
      throw new AxonError(op, `allowedOrigins: '${o}' is not an origin such as 'https://cdn.example.com'`);
    }
  }
  const allowed = (o: string): boolean => opts.allowCrossOrigin === true || allowList.has(o);
  const maxJson = opts.maxJsonBytes ?? MAX_MODEL_JSON_BYTES;
  const maxWeights = opts.maxWeightsBytes ?? 2 ** 31;
  const jsonUrl = abs.pathname.endsWith('.json') ? abs : new URL('model.json', abs.href.endsWith('/') ? abs.href : `${abs.href}/`);
  const got = await getChecked(op, 'model.json', jsonUrl, abs.origin, allowed, init, maxJson, 'raise it with the maxJsonBytes option');
  let j: unknown;
  try {
    j = JSON.parse(new TextDecoder().decode(got.bytes));
  } catch (e) {
    throw new AxonError(op, `${got.url.href} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const wname = j !== null && typeof j === 'object' ? (j as { weights?: unknown }).weights : undefined;
  let wUrl: URL;
  try {
    wUrl = new URL(typeof wname === 'string' && wname !== '' ? wname : 'model.safetensors', got.url);
  } catch {
    throw new AxonError(op, `${got.url.href} names the weights ${JSON.stringify(wname)}, which is not a URL`);
  }
  const w = await getChecked(op, 'the weights', wUrl, abs.origin, allowed, init, maxWeights, 'raise it with the maxWeightsBytes option');
  return deserializeModel(j as ModelJson, w.bytes, { ...(opts.maxLayers !== undefined ? { maxLayers: opts.maxLayers } : {}), ...(opts.compile !== undefined ? { compile: opts.compile } : {}), maxJsonBytes: Infinity });
}
