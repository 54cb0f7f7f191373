/**
 * Overlapping starts and selections in the backend registry. Each test imports a fresh copy of
 * core (`vi.resetModules`), so it starts with an empty registry and no current backend, and
 * backends start through factories whose `create` resolves only when the test says so.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type * as Core from '../src/index.js';
import type { Backend, BackendFactory, View } from '../src/index.js';

let core: typeof Core;

beforeEach(async () => {
  vi.resetModules();
  core = await import('../src/index.js');
});

type Data = Float32Array | Int32Array | Uint8Array;
interface Buf {
  readonly dtype: 'float32' | 'int32' | 'bool';
  readonly size: number;
  readonly data: Data;
}
interface BufView extends View {
  readonly buf: Buf;
}

/** A small host-memory backend: storage, copy and matmul, enough to make, move and multiply tensors. */
interface FakeBackend extends Backend {
  readonly id: number;
  lostReason: string | undefined;
  disposed: number;
}

let nextId = 0;

function fakeBackend(name: string, opts: { emulated?: boolean } = {}): FakeBackend {
  const live = new Set<Buf>();
  const elem = (v: BufView, i: number): number => {
    let at = v.offset;
    let rest = i;
    for (let d = v.shape.length - 1; d >= 0; d--) {
      const n = v.shape[d]!;
      at += (rest % n) * v.strides[d]!;
      rest = Math.floor(rest / n);
    }
    return at;
  };
  const fake = {
    name,
    id: ++nextId,
    supportsSyncRead: true,
    emulated: opts.emulated === true,
    lostReason: undefined as string | undefined,
    disposed: 0,
    alloc(dtype: Buf['dtype'], size: number): Buf {
      const data = dtype === 'int32' ? new Int32Array(size) : dtype === 'bool' ? new Uint8Array(size) : new Float32Array(size);
      const buf = { dtype, size, data };
      live.add(buf);
      return buf;
    },
    write(buf: Buf, data: Data): void {
      buf.data.set(data);
    },
    readSync: (buf: Buf): Data => buf.data.slice(),
    read: (buf: Buf): Promise<Data> => Promise.resolve(buf.data.slice()),
    free(buf: Buf): void {
      live.delete(buf);
    },
    memory() {
      let bytes = 0;
      for (const b of live) bytes += b.data.byteLength;
      return { bytes, buffers: live.size };
    },
    fill(buf: Buf, value: number): void {
      buf.data.fill(value);
    },
    copy(src: BufView, dst: BufView): void {
      const n = src.shape.reduce((a, b) => a * b, 1);
      for (let i = 0; i < n; i++) dst.buf.data[elem(dst, i)] = src.buf.data[elem(src, i)]!;
    },
    matmul(a: BufView, b: BufView, out: Buf): void {
      const [B, M, K] = a.shape as [number, number, number];
      const N = b.shape[2]!;
      for (let p = 0; p < B; p++) {
        for (let i = 0; i < M; i++) {
          for (let j = 0; j < N; j++) {
            let s = 0;
            for (let k = 0; k < K; k++) {
              s += a.buf.data[a.offset + p * a.strides[0]! + i * a.strides[1]! + k * a.strides[2]!]! * b.buf.data[b.offset + p * b.strides[0]! + k * b.strides[1]! + j * b.strides[2]!]!;
            }
            out.data[(p * M + i) * N + j] = s;
          }
        }
      }
    },
    sync: () => Promise.resolve(),
    dispose(): void {
      fake.disposed++;
      live.clear();
    },
  };
  return fake as unknown as FakeBackend;
}

interface Gate {
  readonly opts: { auto?: boolean } | undefined;
  open(): void;
  fail(reason: string): void;
}

/**
 * A backend whose every `create` call waits for the test: `calls` lists the calls (one gate each),
 * `made` the instances that were handed out.
 */
function gated(name: string, priority = 0, opts: { emulated?: boolean; declineAuto?: string } = {}) {
  const calls: Gate[] = [];
  const made: FakeBackend[] = [];
  const factory: BackendFactory = {
    name,
    priority,
    create: (o) =>
      new Promise<Backend>((resolve, reject) => {
        calls.push({
          opts: o,
          open: () => {
            if (o?.auto && opts.declineAuto !== undefined) {
              reject(new Error(opts.declineAuto));
              return;
            }
            const b = fakeBackend(name, opts);
            made.push(b);
            resolve(b);
          },
          fail: (reason) => reject(new Error(reason)),
        });
      }),
  };
  core.registerBackend(factory);
  return { calls, made };
}

/** Lets every pending promise callback run (the gates decide what can finish). */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

/** A backend that starts synchronously, made current, for tensors to start from. */
async function hostBackend(): Promise<FakeBackend> {
  core.registerBackend({ name: 'host', priority: -100, create: () => fakeBackend('host') });
  return (await core.setBackend('host')) as FakeBackend;
}

const status = (name: string) => core.backends().find((b) => b.name === name);

describe('concurrent starts of one backend share one instance', () => {
  it('findBackend twice at once: one create call, one instance', async () => {
    const slow = gated('slow');
    const both = Promise.all([core.findBackend('slow'), core.findBackend('slow')]);
    await settle();
    expect(slow.calls.length).toBe(1);
    for (const g of slow.calls) g.open();
    const [x, y] = await both;
    expect(x).toBe(y);
    expect(slow.made.length).toBe(1);
    expect(status('slow')).toMatchObject({ status: 'ready', active: false });
    // once started, later calls return it without creating anything
    expect(await core.findBackend('slow')).toBe(x);
    expect(slow.calls.length).toBe(1);
  });

  it('a synchronous create (as wasm in Node) is called once too', async () => {
    let calls = 0;
    core.registerBackend({ name: 'sync', priority: 0, create: () => (calls++, fakeBackend('sync')) });
    const [x, y, z] = await Promise.all([core.findBackend('sync'), core.setBackend('sync'), core.findBackend('sync')]);
    expect(calls).toBe(1);
    expect(y).toBe(x);
    expect(z).toBe(x);
    expect(core.getBackend()).toBe(x);
  });

  it('toBackend of two tensors at once: both land on one instance, multiply, and leak nothing', async () => {
    await hostBackend();
    const target = gated('target');
    const before = core.memory().numTensors;
    const a = core.tensor([[1, 2], [3, 4]]);
    const b = core.tensor([[5, 6], [7, 8]]);
    const moving = Promise.all([a.toBackend('target'), b.toBackend('target')]);
    await settle();
    expect(target.calls.length).toBe(1);
    for (const g of target.calls) g.open();
    const [a2, b2] = await moving;
    expect(a2.backend).toBe(b2.backend);
    expect(a2.backend).toBe(target.made[0]);
    const c = a2.matmul(b2);
    expect(c.backend).toBe(target.made[0]);
    expect(await c.array()).toEqual([[19, 22], [43, 50]]);
    for (const t of [a, b, a2, b2, c]) t.dispose();
    expect(core.memory().numTensors).toBe(before);
    expect(target.made.length).toBe(1);
    expect(target.made[0]!.memory()).toEqual({ bytes: 0, buffers: 0 });
    expect(core.memory().backends['target']).toEqual({ bytes: 0, buffers: 0 });
  });

  it('setBackend, findBackend and toBackend at once share the start too', async () => {
    await hostBackend();
    const gpu = gated('gpu');
    const x = core.tensor([1, 2, 3]);
    const all = Promise.all([core.setBackend('gpu'), core.findBackend('gpu'), x.toBackend('gpu')]);
    await settle();
    expect(gpu.calls.length).toBe(1);
    for (const g of gpu.calls) g.open();
    const [set, found, moved] = await all;
    expect(set).toBe(found);
    expect(moved.backend).toBe(set);
    expect(core.getBackend()).toBe(set);
    expect(gpu.made.length).toBe(1);
    moved.dispose();
    x.dispose();
    expect(core.memory().numTensors).toBe(0);
  });

  it('a failed start rejects every caller that shared it, and a later call starts afresh', async () => {
    const flaky = gated('flaky');
    const first = Promise.allSettled([core.findBackend('flaky'), core.findBackend('flaky'), core.setBackend('flaky')]);
    await settle();
    expect(flaky.calls.length).toBe(1);
    for (const g of flaky.calls) g.fail('adapter busy');
    const results = await first;
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    const reasons = results.map((r) => (r.status === 'rejected' ? String(r.reason) : ''));
    expect(reasons[0]).toMatch(/adapter busy/);
    expect(reasons[1]).toMatch(/adapter busy/);
    expect(reasons[2]).toMatch(/setBackend: backend 'flaky' cannot start: adapter busy/);
    expect(status('flaky')).toMatchObject({ status: 'failed', reason: 'adapter busy' });
    expect(flaky.made.length).toBe(0);

    // the failure is not kept as the start: the next calls try again, once, together
    const second = Promise.all([core.setBackend('flaky'), core.findBackend('flaky')]);
    await settle();
    expect(flaky.calls.length).toBe(2);
    flaky.calls[1]!.open();
    const [set, found] = await second;
    expect(set).toBe(found);
    expect(flaky.made.length).toBe(1);
    expect(status('flaky')).toEqual({ name: 'flaky', priority: 0, status: 'ready', active: true });
    expect(core.getBackend()).toBe(set);
  });

  it('a backend that lost its device restarts once, however many callers ask at the same time', async () => {
    const lossy = gated('lossy');
    const starting = core.setBackend('lossy');
    await settle();
    lossy.calls[0]!.open();
    const first = (await starting) as FakeBackend;
    first.lostReason = 'device destroyed (test)';
    expect(status('lossy')).toMatchObject({ status: 'lost', reason: 'device destroyed (test)' });

    const again = Promise.all([core.setBackend('lossy'), core.findBackend('lossy'), core.ready()]);
    await settle();
    expect(lossy.calls.length).toBe(2);
    for (const g of lossy.calls.slice(1)) g.open();
    const [set, found, readied] = await again;
    expect(set).not.toBe(first);
    expect(found).toBe(set);
    expect(readied).toBe(set);
    expect(lossy.made.length).toBe(2);
    expect(first.disposed).toBe(1);
    expect(core.getBackend()).toBe(set);
    expect(status('lossy')).toMatchObject({ status: 'ready', active: true });
  });

  it('an explicit start that joins an automatic one which declined tries again without auto', async () => {
    const soft = gated('soft', 10, { emulated: true, declineAuto: 'only a software-emulated adapter is available' });
    const readying = core.ready().then(
      () => 'resolved',
      (e: unknown) => String(e),
    );
    await settle();
    expect(soft.calls.map((g) => g.opts?.auto === true)).toEqual([true]);
    const setting = core.setBackend('soft');
    await settle();
    expect(soft.calls.length).toBe(1); // joined the automatic start
    soft.calls[0]!.open(); // ...which declines
    await settle();
    // ready() had nothing else to start, and nothing was current yet
    expect(await readying).toMatch(/ready: no backend could start.*only a software-emulated adapter/);
    expect(soft.calls.map((g) => g.opts?.auto === true)).toEqual([true, false]);
    soft.calls[1]!.open();
    const b = await setting;
    expect(b.emulated).toBe(true);
    expect(core.getBackend()).toBe(b);
    expect(soft.made.length).toBe(1);
    expect(status('soft')).toMatchObject({ status: 'ready', active: true });
    expect(status('soft')?.reason).toBeUndefined();
  });

  it('getBackend() does not create a second instance of a backend that is starting', async () => {
    const slow = gated('slow');
    const finding = core.findBackend('slow');
    await settle();
    expect(() => core.getBackend()).toThrow(/no backend is ready/);
    expect(() => core.getBackend()).toThrow(/no backend is ready/);
    expect(slow.calls.length).toBe(1);
    slow.calls[0]!.open();
    const b = await finding;
    expect(core.getBackend()).toBe(b); // started now: getBackend() takes it
    expect(slow.made.length).toBe(1);
  });

  it('getBackend() keeps an asynchronous start it began, so setBackend() gets that instance', async () => {
    const slow = gated('slow');
    expect(() => core.getBackend()).toThrow(/no backend is ready/);
    expect(slow.calls.length).toBe(1);
    const setting = core.setBackend('slow');
    await settle();
    expect(slow.calls.length).toBe(1);
    slow.calls[0]!.open();
    const b = await setting;
    expect(core.getBackend()).toBe(b);
    expect(slow.made.length).toBe(1);
  });

  it('a failed asynchronous start that getBackend() began is reported, and setBackend() retries it', async () => {
    const slow = gated('slow');
    expect(() => core.getBackend()).toThrow(/no backend is ready/);
    slow.calls[0]!.fail('no adapter');
    await settle();
    expect(status('slow')).toMatchObject({ status: 'failed', reason: 'no adapter' });
    const setting = core.setBackend('slow');
    await settle();
    expect(slow.calls.length).toBe(2);
    slow.calls[1]!.open();
    expect(await setting).toBe(slow.made[0]);
  });
});

describe('overlapping selections', () => {
  for (const finish of [['first', 'second'], ['second', 'first']] as const) {
    it(`the last setBackend call decides the current backend (the ${finish[0]} call's backend starts first)`, async () => {
      const one = gated('one');
      const two = gated('two');
      const first = core.setBackend('one');
      const second = core.setBackend('two');
      await settle();
      const open = { first: () => one.calls[0]!.open(), second: () => two.calls[0]!.open() };
      open[finish[0]]();
      await settle();
      open[finish[1]]();
      const [b1, b2] = await Promise.all([first, second]);
      // the earlier call still resolves to the backend it started, which stays started but not current
      expect(b1).toBe(one.made[0]);
      expect(b2).toBe(two.made[0]);
      expect(core.getBackend()).toBe(b2);
      expect(status('one')).toMatchObject({ status: 'ready', active: false });
      expect(status('two')).toMatchObject({ status: 'ready', active: true });
    });
  }

  it('when the last setBackend call fails, the current backend stays what it was', async () => {
    const host = await hostBackend();
    const good = gated('good');
    const bad = gated('bad');
    const first = core.setBackend('good');
    const second = core.setBackend('bad');
    await settle();
    bad.calls[0]!.fail('driver crashed');
    await expect(second).rejects.toThrow(/backend 'bad' cannot start: driver crashed/);
    good.calls[0]!.open();
    expect(await first).toBe(good.made[0]);
    expect(core.getBackend()).toBe(host);
  });

  it('a setBackend call made while ready() is choosing wins, whichever finishes first', async () => {
    const auto = gated('auto', 100);
    const chosen = gated('chosen', 0);
    // ready() finishes last
    let readying = core.ready();
    let setting = core.setBackend('chosen');
    await settle();
    chosen.calls[0]!.open();
    const c = await setting;
    auto.calls[0]!.open();
    expect(await readying).toBe(c);
    expect(core.getBackend()).toBe(c);

    // ready() finishes first (after the explicit choice's device was lost, so ready() chooses again)
    (c as FakeBackend).lostReason = 'reset (test)';
    readying = core.ready();
    setting = core.setBackend('chosen');
    await settle();
    expect(await readying).toBe(auto.made[0]); // 'auto' was already started
    chosen.calls[1]!.open();
    const c2 = await setting;
    expect(c2).not.toBe(c);
    expect(core.getBackend()).toBe(c2);
    expect(auto.calls.length).toBe(1);
  });
});
