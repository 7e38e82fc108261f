#!/usr/bin/env node
// `npm run bench:browser`: builds the benchmark page (vite.bench.config.ts -> bench-results/site/), serves
// it from a small static server on a free port (never 4173, which the e2e tests use), opens it in headless
// Debian Chromium with WebGPU enabled (the flags of playwright.config.ts, plus --disable-gpu-watchdog), waits for the run, prints the
// report as one JSON object on stdout and writes it to bench-results/browser-<date>.json. Progress goes
// to stderr.
//
//   npm run bench:browser -- [--runs 7] [--warmup 2] [--budget 60] [--ops matmul,attention_forward] \
//                            [--models cube,built-in,SmolLM2-135M] [--libs ours,tfjs,jax] [--no-build] [--timeout-min 60]
import { createReadStream, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const SITE = join(ROOT, 'bench-results', 'site');
const CHROMIUM = '/usr/bin/chromium';

function parseArgs(argv) {
  const o = { runs: '7', warmup: '2', budget: '60', ops: '', models: '', libs: '', build: true, timeoutMin: 60 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--runs') o.runs = next();
    else if (a === '--warmup') o.warmup = next();
    else if (a === '--budget') o.budget = next();
    else if (a === '--ops') o.ops = next();
    else if (a === '--models') o.models = next();
    else if (a === '--libs') o.libs = next();
    else if (a === '--no-build') o.build = false;
    else if (a === '--timeout-min') o.timeoutMin = Number(next());
    else if (a === '--help' || a === '-h') {
      console.error('usage: npm run bench:browser -- [--runs N] [--warmup N] [--budget S] [--ops a,b] [--models cube,built-in,SmolLM2-135M] [--libs ours,tfjs,jax] [--no-build] [--timeout-min M]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (try --help)`);
  }
  return o;
}

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
};

/** A static server over dir on 127.0.0.1, on a port the OS picks (retried if it picks 4173). */
async function serve(dir) {
  for (;;) {
    const server = createServer((req, res) => {
      if (req.url === '/favicon.ico') {
        res.writeHead(204).end();
        return;
      }
      const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^([/\\])+/, '');
      const file = join(dir, path || 'bench.html');
      if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) {
        res.writeHead(404).end('not found');
        return;
      }
      res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      createReadStream(file).pipe(res);
    });
    await new Promise((ok, fail) => server.listen(0, '127.0.0.1', ok).on('error', fail));
    const { port } = server.address();
    if (port !== 4173) return { server, port };
    server.close();
  }
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (see scripts/ensure-chromium.mjs)`);
  if (o.build || !existsSync(join(SITE, 'bench.html'))) {
    console.error('[bench:browser] building the benchmark page (vite.bench.config.ts)');
    const { build } = await import('vite');
    await build({ root: ROOT, configFile: join(ROOT, 'vite.bench.config.ts'), logLevel: 'warn' });
  }
  const { server, port } = await serve(SITE);
  const query = new URLSearchParams({ runs: o.runs, warmup: o.warmup, budget: o.budget });
  for (const k of ['ops', 'models', 'libs']) if (o[k]) query.set(k, o[k]);
  const url = `http://127.0.0.1:${port}/bench.html?${query}`;
  console.error(`[bench:browser] ${url}`);

  const { chromium } = await import('@playwright/test');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--enable-unsafe-webgpu',
      // a single dispatch of a slow library can run for seconds on a software adapter; without this,
      // Chromium's GPU watchdog may kill the GPU process and every library's device with it
      '--disable-gpu-watchdog',
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  let report;
  try {
    const page = await browser.newPage();
    page.on('console', (m) => {
      const t = m.text();
      if (t.startsWith('[bench]') || m.type() === 'error') console.error(t);
    });
    page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
    await page.goto(url);
    const handle = await page.waitForFunction(() => window.__bench?.done && window.__bench, null, {
      timeout: o.timeoutMin * 60_000,
      polling: 1000,
    });
    const state = await handle.jsonValue();
    if (state.error) throw new Error(`the benchmark page failed: ${state.error}`);
    report = state.report;
  } finally {
    await browser.close();
    server.close();
  }

  const out = JSON.stringify(report, null, 2);
  mkdirSync(join(ROOT, 'bench-results'), { recursive: true });
  const stamp = report.date.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const file = join(ROOT, 'bench-results', `browser-${stamp}.json`);
  writeFileSync(file, `${out}\n`);
  process.stdout.write(`${out}\n`);
  console.error(`[bench:browser] wrote ${file}`);
}

main().catch((e) => {
  console.error(`bench:browser: ${e?.message ?? e}`);
  process.exit(1);
});
