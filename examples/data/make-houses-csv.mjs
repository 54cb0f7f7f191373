#!/usr/bin/env node
// Writes examples/data/houses.csv, the small data set of examples/csv-regression.ts:
//   node examples/data/make-houses-csv.mjs
// 1,000 synthetic houses with five features and a price (in thousands), from a fixed seed, so
// the committed file is exactly what this script writes. A few rows miss a value (an empty
// field), for the example to clean. No dependencies: a 32-bit xorshift generator and Box–Muller.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let state = 0x2545f491;
function uniform() {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 4294967296;
}
function normal() {
  const u = 1 - uniform();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
}

const rows = ['area_m2,rooms,age_years,distance_km,garden,price_k'];
for (let i = 0; i < 1000; i++) {
  const area = Math.round(40 + 180 * uniform() ** 1.5);
  const rooms = Math.max(1, Math.min(8, Math.round(area / 30 + normal() * 0.7)));
  const age = Math.round(100 * uniform() ** 2);
  const distance = Math.round((0.5 + 29.5 * uniform()) * 10) / 10;
  const garden = uniform() < (distance > 8 ? 0.7 : 0.25) ? 1 : 0;
  // Price: area matters more in the centre, older houses lose value (less so when very old).
  const perM2 = 3.2 * (1 - 0.3 * Math.tanh((distance - 10) / 8));
  const price = 40 + perM2 * area + 12 * rooms - 1.1 * age + 0.006 * age * age + 30 * garden + 12 * normal();
  const fields = [area, rooms, age, distance, garden, Math.round(price * 10) / 10];
  if (i % 125 === 7) fields[Math.floor(i / 125) % 5] = ''; // a missing value in 8 rows
  rows.push(fields.join(','));
}
const out = fileURLToPath(new URL('./houses.csv', import.meta.url));
writeFileSync(out, `${rows.join('\n')}\n`);
console.log(`wrote ${rows.length - 1} rows to ${out}`);
