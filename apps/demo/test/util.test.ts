import { AxonError } from '@axon/core';
import { parseSafetensors } from '@axon/layers';
import { describe, expect, it } from 'vitest';
import { MAX_JSON_BYTES, MAX_WEIGHTS_BYTES, argmax, blameImport, chunkLimit, featureReasons, featureSummary, formatInt, formatPercent, formatSeconds, pickModelFiles, readFloat, readInt, toGray, weightsNamedIn } from '../src/util.js';

describe('util', () => {
  it('argmax', () => {
    expect(argmax([0.1, 0.7, 0.2])).toBe(1);
    expect(argmax([1, 1])).toBe(0);
    expect(argmax([])).toBe(-1);
    expect(argmax(new Float32Array([-3, -1, -2]))).toBe(1);
  });

  it('featureSummary names the backend, its flags and its threads; featureReasons says why', () => {
    const wasm = { simd: true, relaxedSimd: true, threads: 2, threadsReason: 'auto: 2 cores available' };
    expect(featureSummary('wasm', wasm)).toBe('wasm · SIMD · relaxed SIMD · 2 threads');
    expect(featureReasons(wasm)).toEqual(['threads: auto: 2 cores available']);
    const single = { threadsReason: 'crossOriginIsolated is false: …', threads: 1, simd: true, relaxedSimd: false };
    expect(featureSummary('wasm', single)).toBe('wasm · SIMD · 1 thread');
    expect(featureReasons(single)).toEqual(['threads: crossOriginIsolated is false: …']);
    // before the backend reported threads, and a backend without features
    expect(featureSummary('wasm', { simd: true, relaxedSimd: false })).toBe('wasm · SIMD');
    expect(featureSummary('webgpu', undefined)).toBe('webgpu');
    expect(featureReasons(undefined)).toEqual([]);
    expect(featureSummary('x', { lanes: 4, kind: 'fast', Reason: 'x', emptyReason: '' })).toBe('x · lanes 4 · kind fast');
    expect(featureReasons({ Reason: 'x', emptyReason: '', fooReason: 3 })).toEqual([]);
  });

  it('chunkLimit gives about 20 chart updates per epoch', () => {
    expect(chunkLimit(1)).toBe(1);
    expect(chunkLimit(8)).toBe(1);
    expect(chunkLimit(63)).toBe(4);
    expect(chunkLimit(1875)).toBe(94);
  });

  it('formats numbers', () => {
    expect(formatInt(12345.6)).toBe('12,346');
    expect(formatInt(NaN)).toBe('–');
    expect(formatSeconds(0.123)).toBe('0.12 s');
    expect(formatSeconds(12.34)).toBe('12.3 s');
    expect(formatSeconds(123)).toBe('2 min 3 s');
    expect(formatPercent(0.9876)).toBe('98.8%');
  });

  it('reads form fields, clamped, with fallbacks', () => {
    expect(readInt('64', 1, 2048, 32)).toBe(64);
    expect(readInt('0', 1, 2048, 32)).toBe(1);
    expect(readInt('99999', 1, 2048, 32)).toBe(2048);
    expect(readInt('', 1, 2048, 32)).toBe(32);
    expect(readInt('abc', 1, 2048, 32)).toBe(32);
    expect(readFloat('0.01', 1e-5, 1, 0.001)).toBe(0.01);
    expect(readFloat('5', 1e-5, 1, 0.001)).toBe(1);
    expect(readFloat('x', 1e-5, 1, 0.001)).toBe(0.001);
  });

  it('converts RGBA to gray', () => {
    expect([...toGray(new Uint8ClampedArray([255, 255, 255, 255, 0, 0, 0, 255]))]).toEqual([255, 0]);
  });

  it('picks model.json and the safetensors file, or says which is missing', () => {
    const f = (name: string) => ({ name });
    expect(pickModelFiles([f('model.safetensors'), f('model.json')])).toEqual({ json: f('model.json'), weights: f('model.safetensors') });
    expect(pickModelFiles([f('m.JSON'), f('m.SafeTensors')]).weights.name).toBe('m.SafeTensors');
    expect(() => pickModelFiles([f('model.safetensors')])).toThrow(/model\.json is missing/);
    expect(() => pickModelFiles([f('model.json')])).toThrow(/safetensors weights file is missing/);
    expect(() => pickModelFiles([f('a.png')])).toThrow(/pick two files/);
  });

  it('names the files it got when one is missing', () => {
    const f = (name: string) => ({ name });
    expect(() => pickModelFiles([f('photo.png')])).toThrow('pick two files: model.json and model.safetensors (got photo.png)');
    expect(() => pickModelFiles([f('mine.safetensors'), f('notes.txt')])).toThrow('model.json is missing: pick it together with the .safetensors file (got mine.safetensors, notes.txt)');
    expect(() => pickModelFiles([f('arch.json')])).toThrow('the .safetensors weights file is missing: pick it together with model.json (got arch.json)');
    expect(() => pickModelFiles([])).toThrow('(got none)');
  });

  it('takes the weights file model.json names when several are picked (a folder save() wrote)', () => {
    const f = (name: string) => ({ name });
    const files = [f('model.json'), f('model-0123456789abcdef.safetensors'), f('model-fedcba9876543210.safetensors')];
    expect(pickModelFiles(files, 'model-fedcba9876543210.safetensors').weights.name).toBe('model-fedcba9876543210.safetensors');
    expect(pickModelFiles(files).weights.name).toBe('model-0123456789abcdef.safetensors');
    // one weights file: taken whatever model.json names (the user may have renamed it)
    expect(pickModelFiles([f('model.json'), f('renamed.safetensors')], 'model.safetensors').weights.name).toBe('renamed.safetensors');
    expect(() => pickModelFiles(files, 'other.safetensors')).toThrow(
      'model.json names the weights file other.safetensors, which is not among the files picked (got model.json, model-0123456789abcdef.safetensors, model-fedcba9876543210.safetensors)',
    );
    expect(weightsNamedIn('{"format": "axon-model/1", "weights": "model-fedcba9876543210.safetensors"}')).toBe('model-fedcba9876543210.safetensors');
    expect(weightsNamedIn('{"weights": 3}')).toBeUndefined();
    expect(weightsNamedIn('not json')).toBeUndefined();
    expect(weightsNamedIn('null')).toBeUndefined();
  });

  it('refuses a file over its size limit before anything is read, naming it', () => {
    const f = (name: string, size: number) => ({ name, size });
    expect(pickModelFiles([f('model.json', MAX_JSON_BYTES), f('w.safetensors', MAX_WEIGHTS_BYTES)]).json.name).toBe('model.json');
    expect(() => pickModelFiles([f('huge.json', MAX_JSON_BYTES + 1), f('w.safetensors', 10)])).toThrow(/^huge\.json is 33,554,433 bytes, more than the 32 MiB a model\.json may have here$/);
    expect(() => pickModelFiles([f('model.json', 10), f('big.safetensors', 300 * 1024 * 1024)])).toThrow(/^big\.safetensors is 314,572,800 bytes, more than the 256 MiB a weights file may have here$/);
  });

  it('blames the file an import error is about', () => {
    let parseError: unknown;
    try {
      parseSafetensors(new Uint8Array(3));
    } catch (e) {
      parseError = e;
    }
    expect(parseError).toBeInstanceOf(AxonError);
    expect(blameImport(parseError, 'arch.json', 'w.safetensors')).toMatch(/^w\.safetensors is not a valid safetensors file: parseSafetensors: truncated file/);
    expect(blameImport(new AxonError('modelFromJson', "unknown model format 'keras'"), 'arch.json', 'w.safetensors')).toBe("arch.json is not a model Axon can build: modelFromJson: unknown model format 'keras'");
    expect(blameImport(new AxonError('Sequential.loadStateDict', 'missing key 0.kernel'), 'arch.json', 'w.safetensors')).toBe('the weights in w.safetensors do not fit the model in arch.json: Sequential.loadStateDict: missing key 0.kernel');
    expect(blameImport(new Error('out of memory'), 'arch.json', 'w.safetensors')).toBe('arch.json + w.safetensors: out of memory');
  });
});
