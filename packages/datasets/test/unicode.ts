// Seeded random Unicode strings for the tokenizer tests (a shared helper, not a test file).
import { hash32 } from '@axon/core';

const RANGES: readonly (readonly [number, number])[] = [
  [0x20, 0x7e], // ASCII
  [0x00, 0x1f], // controls, tabs, new lines
  [0xa0, 0x24f], // Latin-1 and Latin Extended
  [0x300, 0x36f], // combining marks
  [0x370, 0x4ff], // Greek, Cyrillic
  [0x3040, 0x30ff], // kana
  [0x4e00, 0x9fff], // CJK
  [0xe000, 0xfffd], // private use … specials (BOM U+FEFF, fullwidth forms)
  [0x1f300, 0x1faff], // emoji (astral)
  [0x10000, 0x10ffff], // any astral code point
];

/** `count` random strings of up to `maxLen` code points (never a lone surrogate) from `seed`. */
export function randomUnicode(seed: number, count: number, maxLen: number): string[] {
  const out: string[] = [];
  let c = 0;
  const rand = (n: number): number => Math.floor((hash32(seed, c++) / 4294967296) * n);
  for (let s = 0; s < count; s++) {
    const len = rand(maxLen + 1);
    const cps: number[] = [];
    for (let i = 0; i < len; i++) {
      const [lo, hi] = RANGES[rand(RANGES.length)]!;
      cps.push(lo + rand(hi - lo + 1));
    }
    out.push(String.fromCodePoint(...cps));
  }
  return out;
}
