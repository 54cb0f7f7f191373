import { defineConfig } from 'vite';
import { csp } from './csp.js';

// A static site: `vite build` writes dist/ (HTML, JS, CSS) and copies public/ (the gzipped MNIST
// files made by scripts/prepare-data.mjs). `base: './'` lets dist/ be served from any folder.
// csp() sends the Content-Security-Policy header in dev and preview and writes it as a <meta>
// into the built index.html (see csp.ts).
export default defineConfig({
  base: './',
  plugins: [csp()],
  build: {
    target: 'es2022',
    outDir: 'dist',
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 400,
  },
  worker: { format: 'es' },
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 4173 },
});
