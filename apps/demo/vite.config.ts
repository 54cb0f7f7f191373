import { fileURLToPath } from 'node:url';
import { type Connect, type Plugin, defineConfig } from 'vite';
import { csp } from './csp.js';

/**
 * Cross-origin isolation: with these two headers on every response the page is
 * `crossOriginIsolated`, which browsers require for `SharedArrayBuffer` and shared WebAssembly
 * memory, i.e. for the WASM backend's threads (without them it runs on one thread and says why).
 * Everything the site loads is of the same origin, so `require-corp` blocks nothing.
 */
export const CROSS_ORIGIN_ISOLATION: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** `vite --mode no-isolation` / `vite preview --mode no-isolation`: serve without those headers (one WASM thread), to see the fallback. */
export const NO_ISOLATION_MODE = 'no-isolation';

/**
 * Sets `headers` on every response of the dev server and of `vite preview`, 304s included:
 * Vite applies `server.headers`/`preview.headers` to the responses it sends in full, but answers
 * a revalidation (If-None-Match) with a bare 304 (a module imported by both the page and the
 * worker is fetched twice). Browsers keep the cached response's headers then, but every response
 * should say what the site needs.
 */
function everyResponse(headers: Readonly<Record<string, string>>): Plugin {
  const set: Connect.NextHandleFunction = (_req, res, next) => {
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    next();
  };
  return {
    name: 'axon-demo-cross-origin-isolation',
    configureServer: (server) => void server.middlewares.use(set),
    configurePreviewServer: (server) => void server.middlewares.use(set),
  };
}

// A static site of two pages (index.html: MNIST, gpt.html: a small GPT): `vite build` writes dist/
// (HTML, JS, CSS) and copies public/ (the gzipped MNIST files and the GPT page's text, made by
// scripts/prepare-data.mjs). `base: './'` lets dist/ be served from any folder.
// csp() sends the Content-Security-Policy header in dev and preview and writes it as a <meta>
// into the built index.html (see csp.ts). The dev server and preview send the cross-origin
// isolation headers on every response (a static host must too: README, "Hosting").
export default defineConfig(({ mode }) => {
  const headers = mode === NO_ISOLATION_MODE ? {} : { ...CROSS_ORIGIN_ISOLATION };
  return {
    base: './',
    plugins: [csp(), everyResponse(headers)],
    build: {
      target: 'es2022',
      outDir: 'dist',
      assetsInlineLimit: 0,
      chunkSizeWarningLimit: 400,
      modulePreload: { polyfill: false },
      // two pages: the MNIST page and the GPT page (its own script and worker, loaded only there)
      rollupOptions: { input: { index: fileURLToPath(new URL('./index.html', import.meta.url)), gpt: fileURLToPath(new URL('./gpt.html', import.meta.url)) } },
    },
    worker: { format: 'es' },
    server: { host: '127.0.0.1', port: 5173, headers },
    preview: { host: '127.0.0.1', port: 4173, headers },
  };
});
