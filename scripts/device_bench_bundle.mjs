// Bundles src/bench/main.ts into .devbench/bench.mjs for scripts/device_bench.sh (see device_bench_prepare.sh):
// WGSL `?raw` imports become strings, as Vite and bin/wgsl-raw-loader.mjs make them; `webgpu` stays external.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

const raw = {
  name: 'raw',
  setup(b) {
    b.onResolve({ filter: /\?raw$/ }, (a) => ({ path: resolve(dirname(a.importer), a.path.slice(0, -4)), namespace: 'raw' }));
    b.onLoad({ filter: /.*/, namespace: 'raw' }, async (a) => ({ contents: `export default ${JSON.stringify(await readFile(a.path, 'utf8'))};`, loader: 'js' }));
  },
};
await build({
  entryPoints: ['src/bench/main.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: '.devbench/bench.mjs',
  external: ['webgpu'],
  plugins: [raw],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
});
