/** Issue 9, item 11: loadModelFromUrl keeps to the model's origin and never forwards credentials across origins. */
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Tensor, randn, setSeed } from '@axon/core';
import { Dense, type Module, loadModelFromUrl, sequential, serializeModel } from '../src/index.js';
import { useTestBackend } from './helpers.js';

interface Hit {
  url: string;
  headers: IncomingHttpHeaders;
}

/** A loopback server answering from a route table, recording every request. */
async function serve(routes: Record<string, (port: number) => { status?: number; headers?: Record<string, string>; body?: string | Uint8Array }>): Promise<{ origin: string; port: number; hits: Hit[]; server: Server }> {
  const hits: Hit[] = [];
  let port = 0;
  const server = createServer((req, res) => {
    hits.push({ url: req.url ?? '', headers: req.headers });
    const route = routes[req.url ?? ''];
    if (!route) {
      res.statusCode = 404;
      res.end();
      return;
    }
    const r = route(port);
    res.statusCode = r.status ?? 200;
    for (const [k, v] of Object.entries(r.headers ?? {})) res.setHeader(k, v);
    res.end(r.body === undefined ? undefined : typeof r.body === 'string' ? r.body : Buffer.from(r.body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as { port: number }).port;
  return { origin: `http://127.0.0.1:${port}`, port, hits, server };
}

let model: Module;
let json: object;
let weights: Uint8Array;
let a: Awaited<ReturnType<typeof serve>>;
let b: Awaited<ReturnType<typeof serve>>;
let x: Tensor;
let expected: number[];
const init: RequestInit = { headers: { Authorization: 'Bearer secret-token', Cookie: 'sid=s3cr3t', 'Proxy-Authorization': 'Basic eA==', 'X-Trace': 't1' }, credentials: 'include' };

beforeAll(async () => {
  await useTestBackend();
  setSeed(8);
  model = sequential([new Dense(3, { inputShape: [2], activation: 'relu' }), new Dense(2)]);
  ({ json, weights } = await serializeModel(model));
  x = randn([2, 2]);
  expected = Array.from(model.call(x).dataSync());
  // server B: another origin (another port on the same host)
  b = await serve({
    '/w.safetensors': () => ({ body: weights }),
    '/m/model.json': () => ({ body: JSON.stringify({ ...json, weights: 'w2.safetensors' }) }),
    '/m/w2.safetensors': () => ({ body: weights }),
  });
  a = await serve({
    '/m/model.json': () => ({ body: JSON.stringify({ ...json, weights: 'sub/weights.safetensors' }) }),
    '/m/sub/weights.safetensors': () => ({ body: weights }),
    '/abs/model.json': () => ({ body: JSON.stringify({ ...json, weights: `${b.origin}/w.safetensors` }) }),
    '/redir/model.json': () => ({ status: 302, headers: { Location: `${b.origin}/m/model.json` } }),
    '/wredir/model.json': () => ({ body: JSON.stringify({ ...json, weights: '/go' }) }),
    '/go': () => ({ status: 307, headers: { Location: `${b.origin}/w.safetensors` } }),
    '/same/model.json': () => ({ status: 301, headers: { Location: '/m/model.json' } }),
    '/big/model.json': () => ({ body: JSON.stringify({ ...json, pad: 'x'.repeat(5000) }) }),
  });
});

afterAll(() => {
  a.server.close();
  b.server.close();
  x.dispose();
  model.dispose();
});

const outputOf = (m: Module): number[] => {
  const y = m.call(x);
  const v = Array.from(y.dataSync());
  y.dispose();
  return v;
};
const reset = (): void => {
  a.hits.length = 0;
  b.hits.length = 0;
};
const credentialHeaders = (h: IncomingHttpHeaders): string[] => ['authorization', 'cookie', 'proxy-authorization'].filter((k) => h[k] !== undefined);

describe('loadModelFromUrl', () => {
  it('resolves the weights relative to the model URL and sends the caller headers to the model origin', async () => {
    reset();
    const m = await loadModelFromUrl(`${a.origin}/m/`, init);
    expect(outputOf(m)).toEqual(expected);
    m.dispose();
    expect(a.hits.map((h) => h.url)).toEqual(['/m/model.json', '/m/sub/weights.safetensors']);
    expect(a.hits.every((h) => h.headers.authorization === 'Bearer secret-token')).toBe(true);
    // a same-origin redirect is followed with the headers
    reset();
    const m2 = await loadModelFromUrl(`${a.origin}/same/model.json`, init);
    m2.dispose();
    expect(a.hits.map((h) => h.url)).toEqual(['/same/model.json', '/m/model.json', '/m/sub/weights.safetensors']);
  });

  it('refuses weights on another origin by default, before requesting them', async () => {
    reset();
    await expect(loadModelFromUrl(`${a.origin}/abs/model.json`, init)).rejects.toThrow(
      new RegExp(`the weights ${b.origin}/w\\.safetensors is on another origin \\(${b.origin}\\) than the model \\(${a.origin}\\); pass \\{ allowCrossOrigin: true \\}`),
    );
    expect(b.hits).toEqual([]);
  });

  it('with allowCrossOrigin or an allow-list, loads from the other origin without sending credentials there', async () => {
    reset();
    const m = await loadModelFromUrl(`${a.origin}/abs/model.json`, init, { allowCrossOrigin: true });
    expect(outputOf(m)).toEqual(expected);
    m.dispose();
    expect(b.hits.length).toBe(1);
    expect(credentialHeaders(b.hits[0]!.headers)).toEqual([]);
    expect(b.hits[0]!.headers['x-trace']).toBe('t1');
    expect(a.hits[0]!.headers.authorization).toBe('Bearer secret-token');
    reset();
    const m2 = await loadModelFromUrl(`${a.origin}/abs/model.json`, init, { allowedOrigins: [b.origin] });
    m2.dispose();
    expect(credentialHeaders(b.hits[0]!.headers)).toEqual([]);
    reset();
    await expect(loadModelFromUrl(`${a.origin}/abs/model.json`, init, { allowedOrigins: ['http://127.0.0.1:1'] })).rejects.toThrow(/another origin/);
    expect(b.hits).toEqual([]);
  });

  it('redirects to another origin follow the same rules: refused by default, never with credentials', async () => {
    reset();
    await expect(loadModelFromUrl(`${a.origin}/redir/model.json`, init)).rejects.toThrow(new RegExp(`model\\.json ${b.origin}/m/model\\.json is on another origin`));
    expect(b.hits).toEqual([]);
    reset();
    await expect(loadModelFromUrl(`${a.origin}/wredir/model.json`, init)).rejects.toThrow(/the weights .*w\.safetensors is on another origin/);
    expect(b.hits).toEqual([]);
    reset();
    const m = await loadModelFromUrl(`${a.origin}/redir/model.json`, init, { allowCrossOrigin: true });
    expect(outputOf(m)).toEqual(expected);
    m.dispose();
    // model.json moved to B: its relative weights resolve on B; B never sees a credential
    expect(b.hits.map((h) => h.url)).toEqual(['/m/model.json', '/m/w2.safetensors']);
    expect(b.hits.flatMap((h) => credentialHeaders(h.headers))).toEqual([]);
    reset();
    const m2 = await loadModelFromUrl(`${a.origin}/wredir/model.json`, init, { allowCrossOrigin: true });
    m2.dispose();
    expect(b.hits.flatMap((h) => credentialHeaders(h.headers))).toEqual([]);
    expect(a.hits.find((h) => h.url === '/go')!.headers.authorization).toBe('Bearer secret-token');
  });

  it('caps the size of model.json and of the weights', async () => {
    await expect(loadModelFromUrl(`${a.origin}/big/model.json`, undefined, { maxJsonBytes: 1000 })).rejects.toThrow(/larger than the 1000-byte limit \(raise it with the maxJsonBytes option\)/);
    await expect(loadModelFromUrl(`${a.origin}/m/`, undefined, { maxWeightsBytes: 10 })).rejects.toThrow(/larger than the 10-byte limit \(raise it with the maxWeightsBytes option\)/);
  });
});
