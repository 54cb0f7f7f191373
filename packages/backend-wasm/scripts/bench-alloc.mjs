// Micro-benchmark of the wasm backend's storage: alloc/free patterns like those of training.
// Run after a build:
//   pnpm --filter @axon/backend-wasm build && node packages/backend-wasm/scripts/bench-alloc.mjs [module]
// `module` (default ../dist/index.js) may be another build of this package, e.g. an esbuild bundle
// of an older commit, to compare allocators on one machine in one run. Each pattern is timed as
// the best of 15 samples, in wall-clock and in process CPU time (steadier on a shared machine);
// the figures are nanoseconds per alloc+free through Backend.alloc/free.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { hash32, seedToKey, unitFromBits } from '@axon/core';

const arg = process.argv[2];
const mod = await import(arg ? pathToFileURL(resolve(arg)).href : '../dist/index.js');
const be = mod.createWasmBackendSync({ relaxedSimd: false });

/**
 * One training step of the MLP benchmark (784-128-10, batch 128, Adam, `fit`), recorded from
 * Backend.alloc/free: a number is an allocation of that many bytes; [slot, back] frees the
 * buffer of the slot-th allocation of the step `back` steps earlier (0 = this step).
 */
const MLP_STEP = [[0,1],[1,1],401408,512,65536,65536,65536,65536,4,65536,[6,0],[5,0],65536,5120,5120,512,5120,5120,512,512,5120,512,4,512,[18,0],512,[19,0],512,512,4,4,4,4,4,4,512,512,5120,5120,512,512,5120,5120,5120,512,40,65536,5120,65536,65536,4,16384,[44,0],4,65536,[46,0],512,401408,401408,[26,0],[28,0],[27,0],[29,0],[30,0],[31,0],[32,0],[33,0],[34,0],[35,0],[36,0],[37,0],[38,0],[40,0],[42,0],[43,0],[45,0],[47,0],[49,0],40,5120,512,401408,[39,0],[41,0],[48,0],[50,0],401408,4,401408,[56,0],401408,401408,4,401408,[60,0],4,401408,[62,0],401408,401408,4,401408,[66,0],4,401408,[68,0],401408,4,401408,[71,0],401408,512,4,512,[75,0],512,512,4,512,[79,0],4,512,[81,0],512,512,4,512,[85,0],4,512,[87,0],512,4,512,[90,0],512,5120,4,5120,[94,0],5120,5120,4,5120,[98,0],4,5120,[100,0],5120,5120,4,5120,[104,0],4,5120,[106,0],5120,4,5120,[109,0],5120,40,4,40,[113,0],40,40,4,40,[117,0],4,40,[119,0],40,40,4,40,[123,0],4,40,[125,0],40,4,40,[128,0],40,[55,0],[57,0],[59,0],[61,0],[63,0],[65,0],[67,0],[69,0],[70,0],[72,0],[74,0],[76,0],[78,0],[80,0],[82,0],[84,0],[86,0],[88,0],[89,0],[91,0],[93,0],[95,0],[97,0],[99,0],[101,0],[103,0],[105,0],[107,0],[108,0],[110,0],[112,0],[114,0],[116,0],[118,0],[120,0],[122,0],[124,0],[126,0],[127,0],[129,0],[58,1],[64,1],[73,1],[77,1],[83,1],[92,1],[96,1],[102,1],[111,1],[115,1],[121,1],[130,1],[54,0],[53,0],[52,0],[51,0],512,128,512,4,4,4,[135,0],[134,0],4,4,[137,0],4,4,4,[140,0],4,[2,0],[3,0],[4,0],[7,0],[8,0],[9,0],[11,0],[12,0],[13,0],[14,0],[15,0],[17,0],[20,0],[16,0],[21,0],[22,0],[23,0],[24,0],[25,0],[10,0],[131,0],[132,0],[133,0],[136,0],[138,0],[141,0],[139,1],[142,1]];

/** Uniform numbers in [0, 1) from core's counter-based generator (the one every backend reproduces). */
function uniform(seed) {
  const key = seedToKey(seed);
  let counter = 0;
  return () => unitFromBits(hash32(key, counter++));
}

/** Replays `steps` MLP steps; returns the number of alloc+free pairs. */
function mlpSteps(steps) {
  const perStep = MLP_STEP.filter((e) => typeof e === 'number').length;
  const bufs = new Array((steps + 1) * perStep);
  let n = 0;
  for (let s = 0; s < steps; s++) {
    let slot = 0;
    for (const e of MLP_STEP) {
      if (typeof e === 'number') {
        bufs[s * perStep + slot++] = be.alloc('bool', e);
        n++;
      } else {
        const i = (s - e[1]) * perStep + e[0];
        if (i >= 0 && bufs[i] !== undefined) {
          be.free(bufs[i]);
          bufs[i] = undefined;
        }
      }
    }
  }
  for (const b of bufs) if (b !== undefined) be.free(b);
  return n;
}

/** A temporary of one size allocated and freed at once (the hottest path). */
function lifo(count) {
  for (let i = 0; i < count; i++) be.free(be.alloc('float32', 1024));
  return count;
}

/** A random working set of up to 64 buffers, 16 B – 1 MB (log-uniform), seeded. */
function workingSet(count) {
  const rand = uniform(42);
  const live = [];
  for (let i = 0; i < count; i++) {
    while (live.length >= 64 || (live.length > 0 && rand() < 0.45)) {
      const k = Math.floor(rand() * live.length);
      be.free(live[k]);
      live[k] = live[live.length - 1];
      live.pop();
    }
    live.push(be.alloc('bool', Math.round(16 * 65536 ** rand())));
  }
  for (const b of live) be.free(b);
  return count;
}

/** One buffer alive at a time, random sizes up to 32 MB. */
function oneAtATime(count) {
  const rand = uniform(7);
  for (let i = 0; i < count; i++) be.free(be.alloc('bool', 1 + Math.floor(rand() * 32 * 1024 * 1024)));
  return count;
}

function bench(name, fn, arg) {
  fn(arg); // warm up
  fn(arg);
  let wall = Infinity;
  let cpu = Infinity;
  let pairs = 0;
  for (let r = 0; r < 15; r++) {
    const c = process.cpuUsage();
    const t0 = performance.now();
    pairs = fn(arg);
    wall = Math.min(wall, performance.now() - t0);
    const d = process.cpuUsage(c);
    cpu = Math.min(cpu, (d.user + d.system) / 1000);
  }
  const ns = (ms) => ((ms * 1e6) / pairs).toFixed(0).padStart(6);
  console.log(`${name.padEnd(36)} ${ns(wall)} ns wall, ${ns(cpu)} ns CPU per alloc+free`);
}

console.log(`module: ${arg ?? '../dist/index.js'}`);
bench('MLP training step (143 allocs)', mlpSteps, 100);
bench('same-size temporary', lifo, 20000);
bench('working set (≤ 64 live, 16 B–1 MB)', workingSet, 20000);
bench('one at a time (≤ 32 MB)', oneAtATime, 5000);
const m = be.memory();
console.log(`memory(): ${JSON.stringify(m)}`);
