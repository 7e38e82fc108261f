// The benchmark page (bench.html): runs the side-by-side benchmark on load, shows a live table and the
// final JSON, and exposes the report as window.__bench for scripts/bench_browser.mjs. Query parameters:
//   runs (timed runs per library and case, default 7), warmup (default 2), budget (seconds of timed runs
//   per library and case after which a slow library stops, once it has 3 runs; default 60),
//   ops (comma-separated op names), models (cube, built-in, SmolLM2-135M), libs (default ours,tfjs,jax).
import { OP_NAMES } from './cases';
import type { LibraryName } from './library';
import { runBench, type BenchReport, type CaseResult } from './runner';

declare global {
  interface Window {
    __bench?: { done: boolean; report?: BenchReport; error?: string };
  }
}

const params = new URLSearchParams(location.search);
const list = (name: string, fallback: string[] = []): string[] =>
  params.get(name)?.split(',').map((s) => s.trim()).filter(Boolean) ?? fallback;
const int = (name: string, fallback: number): number => {
  const v = Number(params.get(name));
  return params.has(name) && Number.isInteger(v) && v >= 0 ? v : fallback;
};

const status = document.getElementById('status')!;
const table = document.getElementById('results') as HTMLTableElement;
const pre = document.getElementById('json')!;

function log(line: string): void {
  console.log(`[bench] ${line}`);
  status.textContent = line;
}

const fmt = (x: number | null | undefined, digits = 3): string => (x === null || x === undefined ? '–' : String(Number(x.toPrecision(digits))));

function addRow(r: CaseResult): void {
  const tr = table.tBodies[0].insertRow();
  const cells = [
    r.op,
    r.model,
    r.shape,
    fmt(r.ours_ms),
    fmt(r.tfjs_ms),
    fmt(r.jax_ms),
    fmt(r.ratios.tfjs_over_ours),
    fmt(r.ratios.jax_over_ours),
    `${fmt(r.gflops.ours)} / ${fmt(r.gflops.tfjs)} / ${fmt(r.gflops.jax)}`,
    `${r.matched.tfjs ?? '–'} / ${r.matched.jax ?? '–'}`,
    Object.entries(r.errors).map(([k, v]) => `${k}: ${v}`).join('; '),
  ];
  for (const c of cells) tr.insertCell().textContent = c;
}

async function main(): Promise<void> {
  window.__bench = { done: false };
  const unknown = list('ops').filter((o) => !OP_NAMES.includes(o as (typeof OP_NAMES)[number]));
  if (unknown.length) throw new Error(`unknown ops: ${unknown.join(', ')} (known: ${OP_NAMES.join(', ')})`);
  const report = await runBench({
    runs: Math.max(1, int('runs', 7)),
    warmup: int('warmup', 2),
    ops: list('ops'),
    models: list('models'),
    libs: list('libs', ['ours', 'tfjs', 'jax']) as LibraryName[],
    budgetS: int('budget', 60),
    log,
    onCase: addRow,
  });
  pre.textContent = JSON.stringify(report, null, 2);
  status.textContent = `done in ${report.total_s} s on ${report.adapter.vendor} ${report.adapter.architecture}`;
  window.__bench = { done: true, report };
}

main().catch((e: unknown) => {
  const msg = e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e);
  log(`failed: ${msg}`);
  window.__bench = { done: true, error: msg };
});
