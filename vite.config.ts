/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  base: './',
  worker: { format: 'es' },
  build: { target: 'es2022', outDir: 'dist', chunkSizeWarningLimit: 2000 },
  test: {
    include: ['test/**/*.test.ts'],
    // test/demo checks the built-in model and demo data that issue 5's `npm run pretrain` has not produced yet
    exclude: ['test/demo/**', '**/node_modules/**'],
    environment: 'node',
    // Dawn (the `webgpu` package) is a native addon: run each test file in its own process.
    pool: 'forks',
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
