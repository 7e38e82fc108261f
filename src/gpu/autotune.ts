// Kernel-variant autotuning: the first time an adapter meets a matmul shape class, time every variant that
// can run it (at the run's own shape, a few milliseconds each, within a total budget), keep the fastest and
// cache the choice by adapter and shape class (a JSON file for the CLI: autotune_file.ts; IndexedDB in the
// page: autotune_idb.ts).
//
// How it fits together: matmul() asks chooseMatmulPath (src/gpu/kernels/matmul.ts), the 16-bit weight
// matmuls ask choosePacked16Path (matmul_packed16_variants.ts) and the quantised-weight ones chooseQuantPath
// (matmul_quant_variants.ts); all read gpu.variantChoices; a shape class with no choice runs the vendor's default table and is recorded in
// gpu.variantPending. tunePending() (called between training steps, and by the benchmark) times the
// pending classes and fills gpu.variantChoices, so later calls run the winner.
// Software adapters (SwiftShader) are never tuned: they always run the software kernels, so their results
// (the demo's committed numbers) stay bit for bit what they were. With autotuning off (`--no-autotune`, the
// page setting) nothing is timed and every class runs the default table.
// Timing: submit/onSubmittedWorkDone wall time per candidate (one warm-up run that also compiles the
// pipeline, then enough repeats for ~perCandidateMs), which works on every adapter (timestamp queries are
// optional and Chrome quantises them).

import { chooseMatmulPath, matmulOnPath, matmulPaths, type MatmulOptions, type MatmulPath, type MatmulProblem } from './kernels/matmul';
import { matmulPacked16Backward, matmulPacked16Forward } from './kernels/matmul_packed16';
import { choosePacked16Path, packed16Paths, type Packed16Path, type Packed16Problem } from './kernels/matmul_packed16_variants';
import { matmulQuantBackward, matmulQuantForward, uploadQuantWeight } from './kernels/matmul_quant';
import { chooseQuantPath, quantPaths, type QuantPath, type QuantProblem } from './kernels/matmul_quant_variants';
import { ggmlType, quantGpuWords } from '../ops/ggml_types';
import type { AdapterSummary, GpuRuntime } from './runtime';
import { round16FromBits } from '../ops/float16';

export interface AutotuneCandidate {
  variant: string;
  ms: number;
  gflops: number;
}

/** One tuned shape class of one adapter. */
export interface AutotuneEntry {
  /** 'matmul' (f32 operands), 'matmul_packed16' (16-bit frozen weight: forward x W^T or backward dy W) or
   * 'matmul_quant' (ggml block-format frozen weight, likewise) */
  op: 'matmul' | 'matmul_packed16' | 'matmul_quant';
  shapeClass: string;
  /** the concrete shape that was timed, e.g. "M=32 K=576 N=1536 NT" */
  shape: string;
  variant: string;
  gflops: number;
  candidates: AutotuneCandidate[];
  measuredAt: string;
}

/** Where choices persist: entries by shape class, per adapter key. */
export interface AutotuneStore {
  /** for messages: the file path or database name */
  readonly where: string;
  load(adapterKey: string): Promise<Record<string, AutotuneEntry>>;
  save(adapterKey: string, entries: Record<string, AutotuneEntry>): Promise<void>;
}

export interface AutotuneOptions {
  /** total milliseconds one tunePending() call may spend timing (default 3000) */
  budgetMs?: number;
  /** target milliseconds of repeats per candidate (default 5) */
  perCandidateMs?: number;
  store?: AutotuneStore | null;
  /** time on a software adapter too (the benchmark's report; never used for a run's choices) */
  includeSoftware?: boolean;
}

/** Problems bigger than this (elements of a + b + out) are not timed: they run the default table. */
const MAX_TUNE_ELEMENTS = 96 * 1024 * 1024;

interface PendingMatmul {
  op: 'matmul';
  prob: MatmulProblem;
  transA: boolean;
  transB: boolean;
}
interface PendingPacked16 {
  op: 'matmul_packed16';
  prob: Packed16Problem;
}
interface PendingQuant {
  op: 'matmul_quant';
  prob: QuantProblem;
}
type Pending = PendingMatmul | PendingPacked16 | PendingQuant;

/** The adapter as the cache knows it: vendor, architecture, device and description (Chrome and Dawn put the
 * driver in the description). */
export function adapterKey(a: AdapterSummary): string {
  return [a.vendor, a.architecture, a.device, a.description].map((s) => s || '-').join(' | ');
}

/** Measured entries per runtime (what the GPU panel and the benchmark report). */
const measured = new WeakMap<GpuRuntime, Map<string, AutotuneEntry>>();

function entriesOf(gpu: GpuRuntime): Map<string, AutotuneEntry> {
  let m = measured.get(gpu);
  if (!m) measured.set(gpu, (m = new Map()));
  return m;
}

/** Loads this adapter's cached choices into gpu.variantChoices (software adapters: none). Returns how many. */
export async function loadAutotuneCache(gpu: GpuRuntime, store: AutotuneStore): Promise<number> {
  if (gpu.adapter.isSoftware) return 0;
  const entries = await store.load(adapterKey(gpu.adapter));
  const mine = entriesOf(gpu);
  for (const [cls, e] of Object.entries(entries)) {
    gpu.variantChoices.set(cls, e.variant);
    mine.set(cls, e);
  }
  return Object.keys(entries).length;
}

/** Wall milliseconds per run of `run` (after one warm-up run). */
export async function timeRuns(gpu: GpuRuntime, run: () => void, targetMs: number): Promise<number> {
  run();
  await gpu.sync();
  let t0 = performance.now();
  run();
  await gpu.sync();
  const one = performance.now() - t0;
  const reps = Math.max(1, Math.min(100, Math.floor(targetMs / Math.max(one, 0.01))));
  if (reps <= 1) return one;
  t0 = performance.now();
  for (let i = 0; i < reps; i++) run();
  await gpu.sync();
  return (performance.now() - t0) / reps;
}

function randomFill(n: number): Float32Array {
  const x = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    x[i] = (s / 4294967296 - 0.5) * 0.2;
  }
  return x;
}

/** Times every variant that can run this matmul (on its shape; within `deadline`, a performance.now()
 * value) and returns the candidates fastest first. */
export async function timeMatmulVariants(
  gpu: GpuRuntime,
  prob: MatmulProblem,
  opts: MatmulOptions,
  perCandidateMs: number,
  deadline = Infinity,
  only?: readonly MatmulPath[],
): Promise<AutotuneCandidate[]> {
  const { Bt, M, K, N, batchedA, batchedB } = prob;
  const aShape = opts.transA ? [K, M] : [M, K];
  const bShape = opts.transB ? [N, K] : [K, N];
  const a = gpu.upload(randomFill((batchedA ? Bt : 1) * M * K), batchedA ? [Bt, ...aShape] : aShape, 'autotune a');
  const b = gpu.upload(randomFill((batchedB ? Bt : 1) * K * N), batchedB ? [Bt, ...bShape] : bShape, 'autotune b');
  const out = gpu.tensor(Bt > 1 ? [Bt, M, N] : [M, N], 'autotune out');
  const flop = 2 * Bt * M * K * N;
  const results: AutotuneCandidate[] = [];
  try {
    for (const variant of matmulPaths(gpu, prob, opts)) {
      if (only && !only.includes(variant)) continue;
      if (performance.now() > deadline) break;
      const ms = await timeRuns(gpu, () => matmulOnPath(gpu, out, a, b, opts, variant), perCandidateMs);
      results.push({ variant, ms, gflops: flop / (ms * 1e6) });
    }
  } finally {
    gpu.release(a, b, out);
  }
  return results.sort((x, y) => x.ms - y.ms);
}

/** Times every variant that can run this 16-bit weight matmul (random bfloat16 / half weights of its shape),
 * fastest first; as timeMatmulVariants. */
export async function timePacked16Variants(
  gpu: GpuRuntime,
  prob: Packed16Problem,
  perCandidateMs: number,
  deadline = Infinity,
  only?: readonly Packed16Path[],
): Promise<AutotuneCandidate[]> {
  const { dir, format, M, K, N } = prob;
  // random weights rounded to the format and packed in pairs, as src/model/pack16.ts uploads them
  const noise = new Uint32Array(randomFill(N * K).buffer);
  const round = round16FromBits(format);
  const words = new Uint32Array((N * K) / 2);
  for (let i = 0; i < words.length; i++) words[i] = (round(noise[2 * i]) | (round(noise[2 * i + 1]) << 16)) >>> 0;
  const w = gpu.upload(words, [N, K / 2], 'autotune w16', 'u32');
  const a = gpu.upload(randomFill(M * (dir === 'forward' ? K : N)), [M, dir === 'forward' ? K : N], 'autotune a');
  const out = gpu.tensor([M, dir === 'forward' ? N : K], 'autotune out');
  const flop = 2 * M * K * N;
  const results: AutotuneCandidate[] = [];
  try {
    for (const variant of packed16Paths(gpu, format)) {
      if (only && !only.includes(variant)) continue;
      if (performance.now() > deadline) break;
      const run = dir === 'forward'
        ? () => matmulPacked16Forward(gpu, out, a, w, format, { path: variant })
        : () => matmulPacked16Backward(gpu, out, a, w, format, { path: variant });
      const ms = await timeRuns(gpu, run, perCandidateMs);
      results.push({ variant, ms, gflops: flop / (ms * 1e6) });
    }
  } finally {
    gpu.release(a, w, out);
  }
  return results.sort((x, y) => x.ms - y.ms);
}

/** Times every variant that can run this quantised-weight matmul (random blocks of its type and shape, scales
 * kept finite and small), fastest first; as timeMatmulVariants. */
export async function timeQuantVariants(
  gpu: GpuRuntime,
  prob: QuantProblem,
  perCandidateMs: number,
  deadline = Infinity,
  only?: readonly QuantPath[],
): Promise<AutotuneCandidate[]> {
  const { dir, type, M, K, N } = prob;
  const t = ggmlType(type);
  const words = new Uint32Array(quantGpuWords(t, N, K)); // NF4_DQ's side region: small finite absmax2 and offset too
  let s = 777;
  for (let i = 0; i < words.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    words[i] = (s ^ (s >>> 16)) & 0x3b3b3b3b; // every byte <= 0x3b: any f16 read from it is finite and < 1
  }
  const w = uploadQuantWeight(gpu, words, type, N, K, 'autotune wq');
  const a = gpu.upload(randomFill(M * (dir === 'forward' ? K : N)), [M, dir === 'forward' ? K : N], 'autotune a');
  const out = gpu.tensor([M, dir === 'forward' ? N : K], 'autotune out');
  const flop = 2 * M * K * N;
  const results: AutotuneCandidate[] = [];
  try {
    for (const variant of quantPaths(gpu)) {
      if (only && !only.includes(variant)) continue;
      if (performance.now() > deadline) break;
      const run = dir === 'forward'
        ? () => matmulQuantForward(gpu, out, a, w, type, { path: variant })
        : () => matmulQuantBackward(gpu, out, a, w, type, { path: variant });
      const ms = await timeRuns(gpu, run, perCandidateMs);
      results.push({ variant, ms, gflops: flop / (ms * 1e6) });
    }
  } finally {
    gpu.release(a, w, out);
  }
  return results.sort((x, y) => x.ms - y.ms);
}

const quantShapeText = (p: QuantProblem): string =>
  `${p.dir} ${p.type} M=${p.M} K=${p.K} N=${p.N} (${p.dir === 'forward' ? 'x W^T' : 'dy W'})`;

const packedShapeText = (p: Packed16Problem): string =>
  `${p.dir} ${p.format} M=${p.M} K=${p.K} N=${p.N} (${p.dir === 'forward' ? 'x W^T' : 'dy W'})`;

const shapeText = (p: MatmulProblem, transA: boolean, transB: boolean): string =>
  `${p.Bt > 1 ? `Bt=${p.Bt} ` : ''}M=${p.M} K=${p.K} N=${p.N} ${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}`;

/** Times the shape classes met without a choice (gpu.variantPending), within the budget; what is left
 * stays pending for the next call. Saves new choices to the store. Returns the new entries. */
export async function tunePending(gpu: GpuRuntime, opts: AutotuneOptions = {}): Promise<AutotuneEntry[]> {
  if (gpu.variantPending.size === 0 || (gpu.adapter.isSoftware && !opts.includeSoftware)) return [];
  const deadline = performance.now() + (opts.budgetMs ?? 3000);
  const fresh: AutotuneEntry[] = [];
  for (const [cls, pending] of [...gpu.variantPending]) {
    if (performance.now() > deadline) break;
    const job = pending as Pending;
    gpu.variantPending.delete(cls);
    let candidates: AutotuneCandidate[];
    let shape: string;
    if (job.op === 'matmul_packed16') {
      const { M, K, N } = job.prob;
      if (M * K + N * K / 2 + M * Math.max(K, N) > MAX_TUNE_ELEMENTS) continue; // stays on the default table
      candidates = await timePacked16Variants(gpu, job.prob, opts.perCandidateMs ?? 5, deadline);
      shape = packedShapeText(job.prob);
    } else if (job.op === 'matmul_quant') {
      const { M, K, N } = job.prob;
      if (M * K + N * K / 4 + M * Math.max(K, N) > MAX_TUNE_ELEMENTS) continue; // stays on the default table
      candidates = await timeQuantVariants(gpu, job.prob, opts.perCandidateMs ?? 5, deadline);
      shape = quantShapeText(job.prob);
    } else {
      const { prob, transA, transB } = job;
      const elements = (prob.batchedA ? prob.Bt : 1) * prob.M * prob.K + (prob.batchedB ? prob.Bt : 1) * prob.K * prob.N + prob.Bt * prob.M * prob.N;
      if (elements > MAX_TUNE_ELEMENTS) continue; // stays on the default table
      candidates = await timeMatmulVariants(gpu, prob, { transA, transB }, opts.perCandidateMs ?? 5, deadline);
      shape = shapeText(prob, transA, transB);
    }
    if (candidates.length === 0) continue;
    const entry: AutotuneEntry = {
      op: job.op, shapeClass: cls, shape, variant: candidates[0].variant,
      gflops: candidates[0].gflops, candidates, measuredAt: new Date().toISOString(),
    };
    gpu.variantChoices.set(cls, entry.variant);
    entriesOf(gpu).set(cls, entry);
    fresh.push(entry);
  }
  if (fresh.length && opts.store) {
    const key = adapterKey(gpu.adapter);
    const all = await opts.store.load(key);
    for (const e of fresh) all[e.shapeClass] = e;
    await opts.store.save(key, all);
  }
  return fresh;
}

/** What each op shape class runs on this runtime, for the GPU panel and the benchmark. */
export interface VariantReportRow {
  op: string;
  shapeClass: string;
  variant: string;
  /** 'autotuned' (measured here, or loaded from the cache), 'default' (the fixed table), 'software' */
  source: 'autotuned' | 'default' | 'software';
  gflops: number | null;
  shape: string | null;
}

export function variantReport(gpu: GpuRuntime): VariantReportRow[] {
  const rows: VariantReportRow[] = [];
  for (const [cls, e] of entriesOf(gpu)) {
    rows.push({ op: e.op, shapeClass: cls, variant: e.variant, source: 'autotuned', gflops: e.gflops, shape: e.shape });
  }
  for (const [cls, pending] of gpu.variantPending) {
    const job = pending as Pending;
    if (job.op === 'matmul_packed16') {
      const variant = choosePacked16Path(gpu, job.prob);
      rows.push({ op: job.op, shapeClass: cls, variant, source: 'default', gflops: null, shape: packedShapeText(job.prob) });
      continue;
    }
    if (job.op === 'matmul_quant') {
      rows.push({ op: job.op, shapeClass: cls, variant: chooseQuantPath(gpu, job.prob), source: 'default', gflops: null, shape: quantShapeText(job.prob) });
      continue;
    }
    const { prob, transA, transB } = job;
    const variant = chooseMatmulPath(gpu, prob, { transA, transB });
    rows.push({ op: 'matmul', shapeClass: cls, variant, source: 'default', gflops: null, shape: shapeText(prob, transA, transB) });
  }
  return rows.sort((x, y) => x.shapeClass.localeCompare(y.shapeClass));
}

/** A runtime's autotuning as one object: whether it is on, and where choices are cached. Calling
 * afterStep() between training steps tunes whatever the step met for the first time. */
export class Autotuner {
  constructor(
    readonly gpu: GpuRuntime,
    readonly enabled: boolean,
    readonly store: AutotuneStore | null,
    readonly opts: AutotuneOptions = {},
  ) {
    tuners.set(gpu, this);
  }

  /** One line for the GPU panel and logs. */
  get summary(): string {
    if (this.gpu.adapter.isSoftware) return 'software adapter: software kernels, never tuned';
    return this.enabled ? `on (cache: ${this.store?.where ?? 'none'})` : 'off: fixed table for this vendor';
  }

  /** Loads cached choices (when enabled). Returns a line for the log. */
  async init(): Promise<string> {
    if (this.gpu.adapter.isSoftware) return 'autotune: software adapter, software kernels (not tuned)';
    if (!this.enabled) return 'autotune: off, default kernel table for this vendor';
    const n = this.store ? await loadAutotuneCache(this.gpu, this.store) : 0;
    return `autotune: on, ${n} cached choice${n === 1 ? '' : 's'}${this.store ? ` (${this.store.where})` : ''}`;
  }

  async afterStep(): Promise<AutotuneEntry[]> {
    if (!this.enabled || this.gpu.adapter.isSoftware) return [];
    return tunePending(this.gpu, { ...this.opts, store: this.store });
  }
}

const tuners = new WeakMap<GpuRuntime, Autotuner>();

/** After a device loss, the renewed runtime `to` gets the autotuning `from` had: when `to` has no Autotuner
 * yet, one with the same setting, cache store and options (its cached choices loaded); either way the
 * choices measured or loaded on `from` carry over when both present the same adapter, so the renewed
 * runtime runs the same variants without timing them again, also without a cache store. Returns `to`'s
 * Autotuner (undefined when neither has one). Callers: src/worker/model_slot.ts (renew, and a load after a
 * loss). */
export async function renewAutotuner(from: GpuRuntime, to: GpuRuntime): Promise<Autotuner | undefined> {
  const old = tuners.get(from);
  let tuner = tuners.get(to);
  if (!tuner) {
    if (!old) return undefined;
    tuner = new Autotuner(to, old.enabled, old.store, old.opts);
    try {
      await tuner.init();
    } catch {
      // an unreadable cache: the carried choices below still apply, the rest is tuned afresh
    }
  }
  if (old && tuner.enabled && !to.adapter.isSoftware && adapterKey(from.adapter) === adapterKey(to.adapter)) {
    const mine = entriesOf(to);
    for (const [cls, e] of entriesOf(from)) {
      if (to.variantChoices.has(cls)) continue;
      to.variantChoices.set(cls, e.variant);
      mine.set(cls, e);
    }
  }
  return tuner;
}

/** The Autotuner made for this runtime, if any (the trainer's host calls afterStep() on it). */
export function autotunerOf(gpu: GpuRuntime): Autotuner | undefined {
  return tuners.get(gpu);
}
