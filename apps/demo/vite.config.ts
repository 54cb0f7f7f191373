import { defineConfig } from 'vite';

// A static site: `vite build` writes dist/ (HTML, JS, CSS) and copies public/ (the gzipped MNIST
// files made by scripts/prepare-data.mjs). `base: './'` lets dist/ be served from any folder.
export default defineConfig({
  base: './',
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
