/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { availableParallelism } from 'node:os';

/**
 * The built app's Content-Security-Policy, as a <meta> tag in dist/index.html (a static host cannot be
 * relied on to send headers). Only the build gets it: the dev server's inline React-refresh preamble and
 * its HMR websocket would need holes the app does not.
 *
 * - script-src 'self': no remote, inline or eval'd script on the page. The page compiles no user code
 *   (it only parses it, src/grpo/rewards/code_check.ts); user code is compiled in the sandbox frame.
 * - worker-src 'self': the engine worker is a file of the build. User code never runs under this policy.
 * - frame-src 'self': the one frame the page makes is public/sandbox_frame.html, where user JavaScript
 *   (rewards, tools, environments) runs: loaded in <iframe sandbox="allow-scripts"> (an opaque origin: no
 *   storage, no access to the page, its Hub token or its engine worker), it is a document fetched from the
 *   network, so it does not inherit this policy but carries its own, stricter one (no network at all, no
 *   script but its own inline bootstrap and the 'unsafe-eval' that compiling user code needs), which the
 *   worker it starts from a blob: URL inherits. So this page keeps no 'unsafe-eval', and the frame has no
 *   connect-src. Written out (default-src would give the same) so that the frame's place is explicit.
 * - connect-src 'self' https: http://localhost:* http://127.0.0.1:*: the site's own files (demo datasets,
 *   the built-in model), the model URLs a person asks for, and the Hugging Face Hub: its API and resolve
 *   URLs on huggingface.co, and the hosts large files redirect to, which change over time (cdn-lfs*.hf.co,
 *   cdn-lfs*.huggingface.co, cas-bridge.xethub.hf.co, and lately regional *.cdn.hf.co such as
 *   us.aws.cdn.hf.co; CSP applies to every redirect hop). `https:` already admits all of them and any
 *   https endpoint a person sets in the Hub settings (a mirror), so listing Hub hosts would only make the
 *   policy break when the Hub moves its CDN. A <meta> policy cannot be widened at run time (a second policy
 *   only narrows), so a user-set endpoint must be admitted ahead of time: the one source added for the Hub
 *   is plain http on the loopback interface (a local mirror or proxy, and the tests' Hub-shaped server);
 *   every other http host stays blocked.
 * - style-src 'unsafe-inline': inline style attributes (bars and charts sized per value); no script.
 * - img-src data: blob:: inline SVG/PNG data of charts and exported images; nothing remote.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "worker-src 'self'",
  "frame-src 'self'",
  "connect-src 'self' https: http://localhost:* http://127.0.0.1:*",
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
    // Vitest's default in run mode is one process fewer than the CPUs: one on CI's 2 cores. A file spends much
    // of its time where it keeps less than a core busy (waiting on a CLI child process, compiling one pipeline,
    // a single-threaded CPU reference), so CI's 2 cores run three files at once. The order is
    // vitest.config.ts's: longest first.
    maxWorkers: Math.max(3, availableParallelism() - 1),
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
