// Build of the benchmark page alone (bench.html -> bench-results/site/), used by `npm run bench:browser`.
// The app's own build (vite.config.ts, index.html -> dist/) neither sees this page nor bundles tfjs or
// jax-js: they are devDependencies imported only from src/bench/browser/.
import { defineConfig } from 'vite';

export default defineConfig({
  base: './',
  publicDir: false,
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    outDir: 'bench-results/site',
    emptyOutDir: true,
    chunkSizeWarningLimit: 4000,
    rollupOptions: { input: { bench: 'bench.html' } },
  },
});
