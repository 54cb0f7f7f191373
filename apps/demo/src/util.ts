/** Small pure helpers shared by the page and the worker (unit-tested in test/util.test.ts). */

/** Index of the largest value (the first one on ties); -1 for an empty array. */
export function argmax(v: ArrayLike<number>): number {
  let best = -1;
  let max = -Infinity;
  for (let i = 0; i < v.length; i++) {
    if (v[i]! > max) {
      max = v[i]!;
      best = i;
    }
  }
  return best;
}

/** Most batches between two chart updates: about 20 updates per epoch, at least one batch each. */
export function chunkLimit(stepsPerEpoch: number): number {
  return Math.max(1, Math.ceil(stepsPerEpoch / 20));
}

/**
 * Says which of a model's two files an error of `deserializeModel` is about, from the op named
 * by the `AxonError` (its `op` field): the safetensors parser (the weights file), the
 * architecture's reader (model.json), or the loading of one into the other (both files).
 */
export function blameImport(e: unknown, jsonName: string, weightsName: string): string {
  const op = (e as { op?: unknown } | null)?.op;
  if (typeof op !== 'string') return `${jsonName} + ${weightsName}: ${errorMessage(e)}`;
  const msg = errorMessage(e);
  if (op === 'parseSafetensors') return `${weightsName} is not a valid safetensors file: ${msg}`;
  if (op === 'modelFromJson' || op === 'layerFromJson' || op === 'deserializeModel') return `${jsonName} is not a model Axon can build: ${msg}`;
  if (op.endsWith('.loadStateDict') || op.endsWith('.loadExtraStateDict')) return `the weights in ${weightsName} do not fit the model in ${jsonName}: ${msg}`;
  return `${jsonName} + ${weightsName}: ${msg}`;
}

/** The message of anything thrown. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/** 12,345 → "12,345"; 1234.5 samples/s → "1,235". */
export function formatInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–';
}

/** Seconds with a sensible precision: 0.123 → "0.12 s", 12.3 → "12.3 s", 123 → "2 min 3 s". */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '–';
  if (s < 1) return `${s.toFixed(2)} s`;
  if (s < 60) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** 0.9876 → "98.8%". */
export function formatPercent(x: number): string {
  return Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '–';
}

/** Reads an integer form field, clamped to [min, max]; the fallback when it is not a number. */
export function readInt(value: string, min: number, max: number, fallback: number): number {
  const n = Math.round(Number(value));
  if (value.trim() === '' || !Number.isFinite(n)) return fallback;
  return Math.min(max, Math.max(min, n));
}

/** Reads a positive float form field, clamped to [min, max]; the fallback when it is not a number. */
export function readFloat(value: string, min: number, max: number, fallback: number): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) return fallback;
  return Math.min(max, Math.max(min, n));
}

/** Converts RGBA canvas pixels to grayscale 0..255 (luma). */
export function toGray(rgba: Uint8ClampedArray): Uint8ClampedArray {
  const out = new Uint8ClampedArray(rgba.length / 4);
  for (let i = 0, j = 0; j < out.length; i += 4, j++) out[j] = (rgba[i]! * 299 + rgba[i + 1]! * 587 + rgba[i + 2]! * 114) / 1000;
  return out;
}

/** The largest `model.json` read from a user's file (as `@axon/layers`' `MAX_MODEL_JSON_BYTES`). */
export const MAX_JSON_BYTES = 32 * 1024 * 1024;
/** The largest weights file read from a user's file (an MNIST model's weights take 0.4–1.7 MB). */
export const MAX_WEIGHTS_BYTES = 256 * 1024 * 1024;

/**
 * Splits the files a user picked or dropped into a model's `model.json` and its safetensors
 * weights (by extension), before reading them. Among several `.safetensors` files (a folder
 * written by `save()`/`axon train` may hold superseded ones), the one named `weightsNamed` (the
 * `weights` field of model.json, see {@link weightsNamedIn}) is taken. Throws an Error naming the
 * files it got and what is missing, or the file larger than its limit ({@link MAX_JSON_BYTES},
 * {@link MAX_WEIGHTS_BYTES}).
 */
export function pickModelFiles<F extends { name: string; size?: number }>(files: readonly F[], weightsNamed?: string): { json: F; weights: F } {
  const json = files.find((f) => f.name.toLowerCase().endsWith('.json'));
  const all = files.filter((f) => f.name.toLowerCase().endsWith('.safetensors'));
  const got = files.map((f) => f.name).join(', ') || 'none';
  if (!json && all.length === 0) throw new Error(`pick two files: model.json and model.safetensors (got ${got})`);
  if (!json) throw new Error(`model.json is missing: pick it together with the .safetensors file (got ${got})`);
  if (all.length === 0) throw new Error(`the .safetensors weights file is missing: pick it together with model.json (got ${got})`);
  const weights = all.length === 1 || weightsNamed === undefined ? all[0]! : all.find((f) => f.name === weightsNamed);
  if (!weights) throw new Error(`${json.name} names the weights file ${weightsNamed}, which is not among the files picked (got ${got})`);
  const tooBig = (f: F, max: number, kind: string): string => `${f.name} is ${formatInt(f.size ?? 0)} bytes, more than the ${max / 1024 / 1024} MiB a ${kind} may have here`;
  if ((json.size ?? 0) > MAX_JSON_BYTES) throw new Error(tooBig(json, MAX_JSON_BYTES, 'model.json'));
  if ((weights.size ?? 0) > MAX_WEIGHTS_BYTES) throw new Error(tooBig(weights, MAX_WEIGHTS_BYTES, 'weights file'));
  return { json, weights };
}

/** The weights file a `model.json` text names (its `weights` field), or undefined (none, or not JSON: the worker reports that). */
export function weightsNamedIn(jsonText: string): string | undefined {
  try {
    const w = (JSON.parse(jsonText) as { weights?: unknown } | null)?.weights;
    return typeof w === 'string' ? w : undefined;
  } catch {
    return undefined;
  }
}

/** What a backend reports in its `features` (informational; see `Backend.features` in `@axon/core`). */
export type BackendFeatures = Readonly<Record<string, boolean | number | string>>;

/** A feature key as words: `relaxedSimd` → `relaxed SIMD` (as the CLI writes them). */
const featureName = (k: string): string => k.replace(/([A-Z])/g, ' $1').toLowerCase().replace(/\bsimd\b/g, 'SIMD');

/**
 * The backend and what it uses, for the line next to the picker: `wasm · SIMD · relaxed SIMD ·
 * 2 threads`. True flags are named, false ones left out, numbers and strings shown after their
 * name; `threads` (a number) comes last as `1 thread` / `N threads`; entries named `…Reason`
 * explain another entry and are left out (see {@link featureReasons}).
 */
export function featureSummary(name: string, features: BackendFeatures | undefined): string {
  const parts = [name];
  for (const [k, v] of Object.entries(features ?? {})) {
    if (k === 'threads' || k.endsWith('Reason')) continue;
    if (v === true) parts.push(featureName(k));
    else if (typeof v === 'number' || typeof v === 'string') parts.push(`${featureName(k)} ${v}`);
  }
  const threads = features?.['threads'];
  if (typeof threads === 'number') parts.push(`${threads} thread${threads === 1 ? '' : 's'}`);
  return parts.join(' · ');
}

/**
 * The `…Reason` entries of a backend's `features`, one line each: `threads: auto: 2 cores
 * available` for the WASM backend's `threadsReason` (why {@link featureSummary} shows that count).
 */
export function featureReasons(features: BackendFeatures | undefined): string[] {
  return Object.entries(features ?? {}).flatMap(([k, v]) => (k.endsWith('Reason') && k.length > 'Reason'.length && typeof v === 'string' && v !== '' ? [`${featureName(k.slice(0, -'Reason'.length))}: ${v}`] : []));
}
