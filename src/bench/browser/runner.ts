// The side-by-side runner: for each case, every library computes the op from the same inputs; the others'
// outputs are checked against ours (a mismatch is reported instead of a time); then each library is warmed
// up and timed over N rounds, the libraries taking turns within each round so that a change in machine
// load touches all of them alike. Every timed run ends with that library's GPU queue drained (ours and
// tfjs: onSubmittedWorkDone after submitting; jax-js: blockUntilReady, a 0-byte readback, then
// onSubmittedWorkDone), so that no library is flattered by work still queued. Times are medians.
import { adapterKey, timeMatmulVariants, variantReport, type VariantReportRow } from '../../gpu/autotune';
import { chooseMatmulPath } from '../../gpu/kernels/matmul';
import { FLOP_NOTE, benchCases, type BenchCase } from './cases';
import type { BenchLibrary, LibraryName, PreparedCase } from './library';
import { createOurs } from './ours';

export const FORMAT_VERSION = 1;

export interface RunOptions {
  runs: number;
  warmup: number;
  ops: string[];
  models: string[];
  libs: LibraryName[];
  /** a library's timed runs of one case stop after this many seconds (once it has 3; default: no limit) */
  budgetS: number;
  log: (line: string) => void;
  /** called after each case, for a live table */
  onCase?: (r: CaseResult) => void;
}

type PerLib<T> = Partial<Record<LibraryName, T>>;

export interface CaseResult {
  op: string;
  model: string;
  shape: string;
  flops: number;
  /** timed runs per library (fewer than settings.runs where a slow library used up its time budget) */
  runs: PerLib<number>;
  ours_ms: number | null;
  tfjs_ms: number | null;
  jax_ms: number | null;
  /** their median / our median: above 1, ours is faster */
  ratios: { tfjs_over_ours: number | null; jax_over_ours: number | null };
  gflops: PerLib<number>;
  /** whether that library's outputs matched ours within tolerance (null: it could not run the op) */
  matched: { tfjs: boolean | null; jax: boolean | null };
  /** largest |theirs - ours| / (atol + rtol * |ours|) over all outputs: below 1 matches */
  error_vs_tolerance: PerLib<number>;
  /** how a library computes an op it has no single call for */
  composed: PerLib<string>;
  /** why a library has no time for this case */
  errors: PerLib<string>;
}

export interface BenchReport {
  benchmark: 'browser side-by-side kernels';
  format: number;
  date: string;
  adapter: { vendor: string; architecture: string; description: string; device: string; isSoftware: boolean; features: string[] };
  user_agent: string;
  libraries: PerLib<string>;
  settings: { warmup: number; runs: number; budget_s_per_library_and_case: number; statistic: string; sync: string; tolerance: string; flops: string };
  results: CaseResult[];
  library_errors: PerLib<string>;
  total_s: number;
  /** ours: every matmul variant this adapter can run on one NN cube (512^3; 256^3 on a software adapter),
   * fastest first (added field) */
  matmul_variants?: { shape: string; variant: string; ms: number; gflops: number; chosen: boolean }[];
  /** ours: which variant each matmul shape class of the cases ran, and whether it was autotuned (added field) */
  autotune?: { adapter_key: string; choices: VariantReportRow[] };
}

const RTOL = 2e-3;
const MIN_RUNS = 3;
const ATOL_REL = 2e-4; // of the output's largest |value|

const now = () => performance.now();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const round = (x: number, digits = 4): number => Number(x.toPrecision(digits));

/** max over outputs of |got - ref| / (atol + rtol * |ref|); Infinity on a length mismatch or a non-finite value. */
export function errorVsTolerance(ref: Float32Array[], got: Float32Array[]): number {
  if (ref.length !== got.length) return Infinity;
  let worst = 0;
  ref.forEach((r, i) => {
    const g = got[i];
    if (g.length !== r.length) {
      worst = Infinity;
      return;
    }
    let maxAbs = 0;
    for (let j = 0; j < r.length; j++) maxAbs = Math.max(maxAbs, Math.abs(r[j]));
    const atol = ATOL_REL * maxAbs + 1e-7;
    for (let j = 0; j < r.length; j++) {
      const e = Math.abs(g[j] - r[j]) / (atol + RTOL * Math.abs(r[j]));
      if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : e;
    }
  });
  return worst;
}

async function createLibrary(name: LibraryName): Promise<BenchLibrary> {
  // tfjs and jax-js are loaded only when asked for, each in its own chunk
  if (name === 'tfjs') return (await import('./tfjs')).createTfjs();
  if (name === 'jax') return (await import('./jax')).createJax();
  throw new Error(`unknown library ${name}`);
}

export async function runBench(o: RunOptions): Promise<BenchReport> {
  const t0 = now();
  const { lib: ours, gpu } = await createOurs();
  const libs: BenchLibrary[] = [ours];
  const libraryErrors: PerLib<string> = {};
  for (const name of o.libs.filter((l) => l !== 'ours')) {
    try {
      libs.push(await createLibrary(name));
    } catch (e) {
      libraryErrors[name] = String((e as Error).message ?? e);
      o.log(`${name} unavailable: ${libraryErrors[name]}`);
    }
  }
  const a = gpu.adapter;
  o.log(`adapter: ${gpu.describe()}`);

  const cases = benchCases(o.ops, o.models);
  const results: CaseResult[] = [];
  for (const c of cases) {
    const r = await runCase(c, libs, o);
    results.push(r);
    o.onCase?.(r);
  }
  // every matmul variant of ours on one cube, and what each shape class chose
  const n = a.isSoftware ? 256 : 512;
  const cubeProb = { Bt: 1, M: n, K: n, N: n, batchedA: false, batchedB: false };
  const chosen = chooseMatmulPath(gpu, cubeProb);
  const matmulVariants = (await timeMatmulVariants(gpu, cubeProb, {}, 20)).map((v) => ({ shape: `${n}x${n}x${n}`, ...v, chosen: v.variant === chosen }));
  for (const v of matmulVariants) o.log(`ours matmul ${v.shape} [${v.variant}] ${v.ms.toFixed(2)} ms ${v.gflops.toFixed(1)} GFLOP/s${v.chosen ? ' (chosen)' : ''}`);
  const autotune = { adapter_key: adapterKey(a), choices: variantReport(gpu) };
  for (const l of libs) l.destroy();

  return {
    matmul_variants: matmulVariants,
    autotune,
    benchmark: 'browser side-by-side kernels',
    format: FORMAT_VERSION,
    date: new Date().toISOString(),
    adapter: { vendor: a.vendor, architecture: a.architecture, description: a.description, device: a.device, isSoftware: a.isSoftware, features: a.features },
    user_agent: navigator.userAgent,
    libraries: Object.fromEntries(libs.map((l) => [l.name, l.version])),
    settings: {
      warmup: o.warmup,
      runs: o.runs,
      budget_s_per_library_and_case: o.budgetS,
      statistic: 'median of the timed runs, wall clock (performance.now) from queuing a run to its queue being drained',
      sync: 'ours, tfjs: submit + queue.onSubmittedWorkDone() after every run; jax-js: blockUntilReady (0-byte readback) + onSubmittedWorkDone()',
      tolerance: `|theirs - ours| <= ${ATOL_REL} * max|ours| + ${RTOL} * |ours| elementwise, every output`,
      flops: FLOP_NOTE,
    },
    results,
    library_errors: libraryErrors,
    total_s: round((now() - t0) / 1000),
  };
}

async function runCase(c: BenchCase, libs: BenchLibrary[], o: RunOptions): Promise<CaseResult> {
  const label = `${c.op} ${c.model} ${c.shape}`;
  const r: CaseResult = {
    op: c.op,
    model: c.model,
    shape: c.shape,
    flops: c.flops,
    runs: {},
    ours_ms: null,
    tfjs_ms: null,
    jax_ms: null,
    ratios: { tfjs_over_ours: null, jax_over_ours: null },
    gflops: {},
    matched: { tfjs: null, jax: null },
    error_vs_tolerance: {},
    composed: {},
    errors: {},
  };
  const prepared = new Map<LibraryName, PreparedCase>();
  let reference: Float32Array[] | null = null;
  for (const lib of libs) {
    try {
      const p = await lib.prepare(c);
      prepared.set(lib.name, p);
      if (p.composed) r.composed[lib.name] = p.composed;
      const outs = await p.check();
      if (lib.name === 'ours') {
        reference = outs;
        continue;
      }
      const err = errorVsTolerance(reference!, outs);
      r.error_vs_tolerance[lib.name] = Number.isFinite(err) ? round(err, 3) : -1;
      const ok = err <= 1;
      r.matched[lib.name as 'tfjs' | 'jax'] = ok;
      if (!ok) {
        r.errors[lib.name] = `outputs differ from ours (worst element at ${Number.isFinite(err) ? round(err, 3) : 'non-finite'}x the tolerance): not timed`;
        prepared.get(lib.name)!.dispose();
        prepared.delete(lib.name);
      }
    } catch (e) {
      r.errors[lib.name] = String((e as Error).message ?? e).split('\n')[0].slice(0, 300);
      if (lib.name !== 'ours') r.matched[lib.name as 'tfjs' | 'jax'] = null;
      prepared.get(lib.name)?.dispose();
      prepared.delete(lib.name);
      if (lib.name === 'ours') break; // nothing to compare against
    }
  }
  if (!prepared.has('ours')) {
    for (const p of prepared.values()) p.dispose();
    o.log(`${label}: ours failed: ${r.errors.ours}`);
    return r;
  }

  // a library that throws while being timed loses its time for this case, the others go on
  const timed = new Map(prepared);
  const times = new Map<LibraryName, number[]>([...timed.keys()].map((n) => [n, []]));
  const runOnce = async (name: LibraryName, p: PreparedCase): Promise<number | null> => {
    try {
      const t = now();
      p.run();
      await p.sync();
      return now() - t;
    } catch (e) {
      r.errors[name] = `timing failed: ${String((e as Error).message ?? e).split('\n')[0].slice(0, 300)}`;
      timed.delete(name);
      return null;
    }
  };
  for (const [name, p] of [...timed]) for (let i = 0; i < o.warmup && timed.has(name); i++) await runOnce(name, p);
  // A library stops early once its timed runs of this case add up to budgetS seconds and it has at least
  // MIN_RUNS of them, so that one very slow library does not hold the whole run for many minutes.
  const stopped = new Set<LibraryName>();
  for (let i = 0; i < o.runs; i++) {
    for (const [name, p] of [...timed]) {
      if (stopped.has(name)) continue;
      const ms = await runOnce(name, p);
      if (ms === null) continue;
      const ts = times.get(name)!;
      ts.push(ms);
      if (ts.length >= MIN_RUNS && ts.reduce((x, y) => x + y, 0) > o.budgetS * 1000) stopped.add(name);
    }
  }
  for (const p of prepared.values()) p.dispose();

  for (const [name, ts] of times) {
    if (!timed.has(name) || ts.length === 0) continue;
    const ms = median(ts);
    const key = `${name}_ms` as 'ours_ms' | 'tfjs_ms' | 'jax_ms';
    r[key] = round(ms);
    r.runs[name] = ts.length;
    r.gflops[name] = round(c.flops / (ms * 1e6), 3);
  }
  if (r.ours_ms) {
    if (r.tfjs_ms) r.ratios.tfjs_over_ours = round(r.tfjs_ms / r.ours_ms, 3);
    if (r.jax_ms) r.ratios.jax_over_ours = round(r.jax_ms / r.ours_ms, 3);
  }
  o.log(
    `${label}: ours ${r.ours_ms ?? '-'} ms, tfjs ${r.tfjs_ms ?? '-'} ms (${r.matched.tfjs}), jax ${r.jax_ms ?? '-'} ms (${r.matched.jax})` +
      (Object.keys(r.errors).length ? ` errors: ${JSON.stringify(r.errors)}` : ''),
  );
  return r;
}
