// Records the typed arrays a function allocates, by swapping the global typed-array constructors
// for proxies while it runs (package code looks them up on the global object at each call).

const NAMES = ['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array'] as const;

/** Runs `f`, returning the byte length of every typed array constructed meanwhile (and what `f` threw, if it did). */
export function typedAllocations(f: () => unknown): { bytes: number[]; error: unknown } {
  const g = globalThis as unknown as Record<string, unknown>;
  const saved = NAMES.map((n) => g[n]);
  const bytes: number[] = [];
  NAMES.forEach((n, i) => {
    g[n] = new Proxy(saved[i] as new (...a: unknown[]) => ArrayBufferView, {
      construct(target, args) {
        const made = Reflect.construct(target, args) as ArrayBufferView;
        bytes.push(made.byteLength);
        return made;
      },
    });
  });
  let error: unknown;
  try {
    f();
  } catch (e) {
    error = e;
  } finally {
    NAMES.forEach((n, i) => (g[n] = saved[i]));
  }
  return { bytes, error };
}
