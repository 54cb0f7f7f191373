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
 * `vite build --mode gpt`: builds the GPT page (gpt.html) into the same dist/, after a plain
 * `vite build` built the MNIST page (index.html) there — `pnpm build` runs both. Two builds, not
 * one with two inputs, so that the pages share no chunk: the MNIST page's JavaScript is exactly
 * what it was before the GPT page existed (a shared chunk would add its import/export glue and a
 * second file to it), and the GPT page carries its own copy of what it uses (uPlot, the helpers).
 */
export const GPT_PAGE_MODE = 'gpt';

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

// A static site of two pages (index.html: MNIST, gpt.html: a small GPT), built by `vite build` and
// `vite build --mode gpt` into the same dist/ (HTML, JS, CSS), with public/ copied (the gzipped
// MNIST files and the GPT page's text, made by scripts/prepare-data.mjs). `base: './'` lets dist/ be served from any folder.
// csp() sends the Content-Security-Policy header in dev and preview and writes it as a <meta>
// into the built index.html (see csp.ts). The dev server and preview send the cross-origin
// isolation headers on every response (a static host must too: README, "Hosting").
export default defineConfig(({ mode }) => {
  const headers = mode === NO_ISOLATION_MODE ? {} : { ...CROSS_ORIGIN_ISOLATION };
  const gptPage = mode === GPT_PAGE_MODE;
  return {
    base: './',
    plugins: [csp(), everyResponse(headers)],
    build: {
      target: 'es2022',
      outDir: 'dist',
      assetsInlineLimit: 0,
      chunkSizeWarningLimit: 400,
      // no modulepreload polyfill: each page is one script (its worker loads its own chunks), so
      // there is nothing to preload; every browser the demo targets supports modulepreload anyway
      modulePreload: { polyfill: false },
      // one page per build (see GPT_PAGE_MODE); the second keeps the first's files and copies public/ once
      rollupOptions: { input: fileURLToPath(new URL(gptPage ? './gpt.html' : './index.html', import.meta.url)) },
      ...(gptPage ? { emptyOutDir: false, copyPublicDir: false } : {}),
    },
    worker: { format: 'es' },
    server: { host: '127.0.0.1', port: 5173, headers },
    preview: { host: '127.0.0.1', port: 4173, headers },
  };
});
