/**
 * Messages between the page (main thread) and the training worker. Everything that touches
 * Axon (backends, the model, MNIST) lives in the worker, so the page never freezes.
 */

import type { ExportFormat } from './exports.js';
import type { BackendFeatures } from './util.js';

export type { ExportFormat } from './exports.js';

export type ModelKind = 'mlp' | 'cnn';
export type BackendChoice = 'auto' | 'wasm' | 'webgpu';

/** One backend as the page shows it. */
export interface BackendStatus {
  readonly name: string;
  /** Whether it started here. */
  readonly available: boolean;
  /** Why it could not start (or a note, e.g. a software-emulated adapter). */
  readonly reason?: string;
  /** Adapter description (WebGPU) or engine note. */
  readonly detail?: string;
  /** A software-emulated device (e.g. SwiftShader). */
  readonly emulated?: boolean;
}

export interface TrainParams {
  readonly model: ModelKind;
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  /** How many of the 60,000 training images to use. */
  readonly trainSize: number;
  /** Test images used for the accuracy measured after each epoch. */
  readonly evalSize: number;
}

/** Page → worker. */
export type Request =
  | { type: 'init'; backend: BackendChoice; dataUrl: string }
  | { type: 'setBackend'; name: string }
  | { type: 'train'; params: TrainParams }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  | { type: 'predict'; id: number; gray: Uint8ClampedArray; width: number; height: number }
  | { type: 'predictPixels'; id: number; pixels: Float32Array }
  | { type: 'grid'; offset: number; count: number }
  | { type: 'testDigit'; index: number }
  /** model.json + model.safetensors (no format), or one file for another tool: ONNX or PyTorch weights. */
  | { type: 'export'; format?: ExportFormat }
  | { type: 'import'; json: string; weights: ArrayBuffer; fileNames: string[] };

export type TrainState = 'idle' | 'loading' | 'training' | 'paused' | 'stopping';

/** Worker → page. */
export type Reply =
  | {
      type: 'backends';
      list: BackendStatus[];
      active: string;
      /**
       * What the active backend reports in `features`, read after it started (and, on WASM, after
       * its worker threads started): `simd`, `relaxedSimd`, `threads` (how many threads its ops
       * use) and `threadsReason` (why that many, e.g. "crossOriginIsolated is false: …").
       */
      features?: BackendFeatures;
      /** `crossOriginIsolated` in the worker (threads need it: SharedArrayBuffer, shared memory). */
      crossOriginIsolated: boolean;
    }
  | { type: 'status'; state: TrainState; message: string }
  | {
      type: 'progress';
      step: number;
      epoch: number;
      epochs: number;
      epochStep: number;
      stepsPerEpoch: number;
      loss: number;
      accuracy: number;
      samplesPerSec: number;
    }
  | { type: 'epoch'; epoch: number; loss: number; accuracy: number; testLoss: number; testAccuracy: number; seconds: number; step: number }
  | { type: 'done'; stopped: boolean; steps: number }
  | { type: 'model'; description: string; params: number; source: 'trained' | 'loaded' }
  | { type: 'prediction'; id: number; probs: Float32Array; input: Float32Array }
  | { type: 'grid'; offset: number; images: Uint8Array; labels: Int32Array; preds: Int32Array; confidence: Float32Array; accuracy: number }
  | { type: 'testDigit'; index: number; pixels: Float32Array; label: number }
  | { type: 'exported'; json: string; weights: Uint8Array }
  /** The file of an `export` with a format: `model.onnx` or `model.pt.safetensors`. */
  | { type: 'exportedFile'; format: ExportFormat; name: string; bytes: Uint8Array }
  | { type: 'error'; op: string; message: string }
  /** A Content-Security-Policy violation in the worker (none is expected: the e2e tests check). */
  | { type: 'cspViolation'; directive: string; blocked: string; source: string };
