import { describe, expect, it, vi } from 'vitest';

// These unit tests need the suites' pure helpers, not the peers: keep TensorFlow.js (a large
// CommonJS graph whose `long` dependency pnpm may hoist at another major version) out of them.
vi.mock('../src/peers/tfjs.js', () => ({ tf: {}, tfLiveTensors: () => 0, useTfBackend: async () => undefined }));
import { measure, measureRoundRobin, median, renderRunInfo, renderTable, replaceSection, speedRatio, type SuiteResult } from '../src/harness.js';
import { parseIdx } from '../src/mnist.js';
import { checkProduct, gflops } from '../src/suites/matmul.js';
import { secondsPerEpoch } from '../src/suites/mlp.js';

describe('median', () => {
  it('takes the middle of odd and the mean of the two middles of even samples', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe('measure', () => {
  it('warms up, then times the requested number of samples', async () => {
    let calls = 0;
    const m = await measure(() => void calls++, { warmup: 2, warmupMs: 0, runs: 5, minSampleMs: 0 });
    expect(m.samples).toHaveLength(5);
    expect(m.reps).toBe(1);
    expect(calls).toBe(7);
    expect(m.min).toBeLessThanOrEqual(m.median);
  });
  it('repeats fast operations within a sample', async () => {
    const m = await measure(() => undefined, { warmup: 1, warmupMs: 0, runs: 5, minSampleMs: 20, maxReps: 50 });
    expect(m.reps).toBeGreaterThan(1); // a no-op lasts far less than 20 ms, even on a loaded machine
    expect(m.reps).toBeLessThanOrEqual(50);
  });
});

describe('measureRoundRobin', () => {
  it('times each entry once per round, in turn, and drops an entry that throws', async () => {
    const order: string[] = [];
    const errors: string[] = [];
    const m = await measureRoundRobin(
      [
        { id: 'a', op: () => void order.push('a') },
        { id: 'b', before: () => void order.push('b:before'), op: () => void order.push('b') },
        { id: 'c', op: () => { throw new Error('no'); } },
      ],
      { warmup: 1, runs: 5 },
      (id) => errors.push(id),
    );
    expect(errors).toEqual(['c']);
    expect(order.slice(0, 6)).toEqual(['a', 'b:before', 'b', 'a', 'b:before', 'b']);
    expect(m.get('a')!.samples).toHaveLength(5);
    expect(m.get('b')!.samples).toHaveLength(5);
    expect(m.has('c')).toBe(false);
  });
});

describe('speedRatio', () => {
  it('is > 1 when Axon is faster, for throughput and for time', () => {
    expect(speedRatio(gflops, 40, 20)).toBe(2);
    expect(speedRatio(secondsPerEpoch, 0.5, 1)).toBe(2);
  });
});

describe('renderTable', () => {
  it('prints medians, bests and Axon ÷ peer ratios', () => {
    const r: SuiteResult = {
      id: 'matmul',
      title: 't',
      metric: gflops,
      contenders: [
        { id: 'axon', label: 'axon', axon: true },
        { id: 'p', label: 'peer' },
      ],
      cases: [
        {
          label: '2 A·B',
          work: 2e9,
          cells: {
            axon: { samples: [0.05, 0.04], median: 0.05, min: 0.04, reps: 1 },
            p: { samples: [0.1], median: 0.1, min: 0.1, reps: 1 },
          },
        },
        { label: '4 A·B', work: 1, cells: { axon: { skipped: 'not available yet' }, p: { samples: [1], median: 1, min: 1, reps: 1 } } },
      ],
      notes: [],
      warnings: [],
    };
    const t = renderTable(r);
    expect(t).toContain('Axon ÷ peer');
    expect(t).toContain('40.0 (50.0)');
    expect(t).toContain('2.00×');
    expect(t).toContain('— (not available yet)');
  });
});

describe('replaceSection', () => {
  it('replaces the text between the markers and keeps the rest', () => {
    const doc = 'head\n<!-- bench:x:start -->\nold\n<!-- bench:x:end -->\ntail\n';
    expect(replaceSection(doc, 'x', 'X', 'new')).toBe('head\n<!-- bench:x:start -->\nnew\n<!-- bench:x:end -->\ntail\n');
  });
  it('appends a headed section when the markers are missing', () => {
    expect(replaceSection('# B\n', 'y', 'Y', 'body')).toBe('# B\n\n## Y\n\n<!-- bench:y:start -->\nbody\n<!-- bench:y:end -->\n');
  });
});

describe('parseIdx', () => {
  it('reads dimensions (big-endian) and unsigned bytes', () => {
    const buf = new Uint8Array([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6]);
    const idx = parseIdx(buf);
    expect(idx.shape).toEqual([2, 3]);
    expect([...idx.data]).toEqual([1, 2, 3, 4, 5, 6]);
  });
  it('rejects other types and bad magic', () => {
    expect(() => parseIdx(new Uint8Array([0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0]))).toThrow(/not supported/);
    expect(() => parseIdx(new Uint8Array([1, 0, 8, 1]))).toThrow(/magic/);
  });
});

describe('checkProduct', () => {
  const n = 3;
  const a = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const b = Float32Array.from([1, 0, 0, 0, 2, 0, 0, 0, 3]);
  it('accepts correct products for each layout', () => {
    expect(checkProduct(a, b, Float32Array.from([1, 4, 9, 4, 10, 18, 7, 16, 27]), n, 'nn')).toBeNull();
    expect(checkProduct(a, b, Float32Array.from([1, 8, 21, 2, 10, 24, 3, 12, 27]), n, 'tn')).toBeNull();
    expect(checkProduct(b, a, Float32Array.from([1, 4, 7, 4, 10, 16, 9, 18, 27]), n, 'nt')).toBeNull();
  });
  it('reports a wrong entry', () => {
    expect(checkProduct(a, b, new Float32Array(9), n, 'nn')).toMatch(/expected/);
  });
});

describe('renderRunInfo', () => {
  const base = {
    command: 'pnpm bench',
    date: new Date('2026-01-01T00:00:00Z'),
    machine: { cpu: 'CPU', cores: 2, node: 'v20', os: 'Linux' },
    loadBefore: 'l1',
    loadAfter: 'l2',
    seconds: 3,
  };
  it('records the command, date, machine and load', () => {
    const t = renderRunInfo({ ...base, load1Before: 0.2, load1After: 0.3 });
    expect(t).toContain('`pnpm bench`');
    expect(t).toContain('2026-01-01T00:00:00Z');
    expect(t).toContain('CPU, 2 cores, Node v20');
    expect(t).not.toContain('Busy machine');
  });
  it('flags a busy machine', () => {
    expect(renderRunInfo({ ...base, load1Before: 3, load1After: 1 })).toContain('Busy machine');
  });
});
