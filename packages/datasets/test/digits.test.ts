import { describe, expect, it } from 'vitest';
import { AxonError } from '@axon/core';
import { preprocessDigit } from '../src/index.js';

function box(w: number, h: number, x0: number, y0: number, x1: number, y1: number, ink: number, bg: number): Float32Array {
  const a = new Float32Array(w * h).fill(bg);
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) a[y * w + x] = ink;
  return a;
}

describe('preprocessDigit', () => {
  it('fits the digit into 20x20 and centres its mass, inverting dark-on-light input', () => {
    // a dark vertical bar on white, off-centre, in a 100x100 image
    const img = box(100, 100, 10, 5, 19, 84, 0, 255);
    const out = preprocessDigit(img, 100, 100);
    expect(out.length).toBe(784);
    const rows = new Set<number>();
    let m = 0, cx = 0, cy = 0;
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) {
      const v = out[y * 28 + x]!;
      if (v > 0.5) rows.add(y);
      m += v; cx += v * x; cy += v * y;
    }
    expect(rows.size).toBe(20); // the tall side becomes 20 pixels
    expect(Math.abs(cx / m - 13.5)).toBeLessThan(1);
    expect(Math.abs(cy / m - 13.5)).toBeLessThan(1);
    for (const v of out) expect(v >= 0 && v <= 1).toBe(true);
  });
  it('keeps light-on-dark input and returns zeros for a blank image', () => {
    const img = box(28, 28, 10, 10, 17, 17, 1, 0);
    const out = preprocessDigit(img, 28, 28);
    expect(Math.max(...out)).toBeGreaterThan(0.9);
    expect(preprocessDigit(new Float32Array(64), 8, 8).every((v) => v === 0)).toBe(true);
  });
  it('rejects a wrong pixel count', () => {
    expect(() => preprocessDigit(new Float32Array(10), 3, 3)).toThrow(AxonError);
  });
});
