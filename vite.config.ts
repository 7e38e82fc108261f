/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * The built app's Content-Security-Policy, as a <meta> tag in dist/index.html (a static host cannot be
 * relied on to send headers). Only the build gets it: the dev server's inline React-refresh preamble and
 * its HMR websocket would need holes the app does not.
 *
 * - script-src 'self': no remote, inline or eval'd script on the page. The page compiles no user code;
 *   the custom reward is compiled inside its sandbox worker (src/grpo/rewards/sandbox_core.ts).
 * - worker-src 'self': the engine and custom-reward workers are files of the build. Chromium (156, checked
 *   under `vite preview`) does not apply a document's <meta> policy to workers started from same-origin
 *   URLs (their policy would come from their own response headers), so the sandbox worker's
 *   `new Function` needs no 'unsafe-eval' here; the sandbox removes the network from its own global scope.
 * - connect-src 'self' https:: the site's own files (demo datasets, the built-in model) and the model URLs
 *   a person asks for (Hugging Face and its CDN, or any https host).
 * - style-src 'unsafe-inline': inline style attributes (bars and charts sized per value); no script.
 * - img-src data: blob:: inline SVG/PNG data of charts and exported images; nothing remote.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "worker-src 'self'",
  "connect-src 'self' https:",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');

function contentSecurityPolicy(): Plugin {
  return {
    name: 'grpo-playground:content-security-policy',
    apply: 'build',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: CONTENT_SECURITY_POLICY }, injectTo: 'head-prepend' }],
  };
}

export default defineConfig({
  plugins: [react(), contentSecurityPolicy()],
  base: './',
  worker: { format: 'es' },
  build: { target: 'es2022', outDir: 'dist', chunkSizeWarningLimit: 2000 },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // Dawn (the `webgpu` package) is a native addon: run each test file in its own process.
    pool: 'forks',
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
