import { describe, expect, it } from 'vitest';
import { argmax, chunkLimit, formatInt, formatPercent, formatSeconds, pickModelFiles, readFloat, readInt, toGray } from '../src/util.js';

describe('util', () => {
  it('argmax', () => {
    expect(argmax([0.1, 0.7, 0.2])).toBe(1);
    expect(argmax([1, 1])).toBe(0);
    expect(argmax([])).toBe(-1);
    expect(argmax(new Float32Array([-3, -1, -2]))).toBe(1);
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
});
