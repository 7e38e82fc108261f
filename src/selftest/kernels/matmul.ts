import * as gpuK from '../../gpu/kernels/matmul';
import { COMPILED_NOT_RUN } from '../../gpu/kernels/matmul_availability';
import * as ref from '../../reference/matmul';
import type { GpuRuntime } from '../../gpu/runtime';
import type { Tensor } from '../../gpu/tensor';
import { compare, skippedCase, type CaseResult, type KernelCheck, type Tolerance } from '../check';
import { Rng, randn } from '../../util/random';

const TOL: Tolerance = { atol: 2e-4, rtol: 2e-4 };

interface Case {
  /** leading (batch) dims of out; [] for 2-D */
  batch: number[];
  M: number;
  K: number;
  N: number;
  transA?: boolean;
  transB?: boolean;
  /** a / b as one 2-D matrix shared by every batch */
  sharedA?: boolean;
  sharedB?: boolean;
  accumulate?: boolean;
  bias?: boolean;
  alpha?: number;
}

const FORMS = [
  { transA: false, transB: false },
  { transA: false, transB: true },
  { transA: true, transB: false },
  { transA: true, transB: true },
];

// (M, K, N): single rows and columns, odd sizes (matmul_scalar), multiples of 4 that are not multiples of
// the 8x8 block (matmul's clamped edges), several workgroups in both directions, a K tail in the
// transA form, and the stories260K MLP shape.
const SIZES: [number, number, number][] = [
  [1, 1, 1],
  [1, 7, 3],
  [5, 3, 7],
  [1, 8, 4],
  [12, 20, 12],
  [36, 13, 40],
  [100, 36, 300],
  [97, 37, 301],
  [70, 64, 172],
];

const CASES: Case[] = [
  ...SIZES.flatMap(([M, K, N]) => FORMS.map((f) => ({ batch: [], M, K, N, ...f }))),
  // batched, in every form, on both paths
  ...FORMS.map((f) => ({ batch: [3], M: 20, K: 12, N: 16, ...f })),
  ...FORMS.map((f) => ({ batch: [2, 3], M: 9, K: 5, N: 11, ...f })),
  // a 2-D weight shared by every batch (the linear layer), and a shared a
  ...FORMS.map((f) => ({ batch: [3], M: 17, K: 24, N: 20, sharedB: true, ...f })),
  ...FORMS.map((f) => ({ batch: [2], M: 13, K: 7, N: 9, sharedB: true, ...f })),
  { batch: [3], M: 16, K: 8, N: 12, sharedA: true },
  { batch: [3], M: 5, K: 6, N: 7, sharedA: true, transA: true, transB: true },
  // epilogue: bias, alpha, accumulate, on both paths
  { batch: [], M: 33, K: 16, N: 24, transB: true, bias: true },
  { batch: [], M: 33, K: 15, N: 23, transB: true, bias: true },
  { batch: [], M: 20, K: 40, N: 8, alpha: 0.25 },
  { batch: [], M: 19, K: 41, N: 9, alpha: -1.5, transA: true },
  { batch: [], M: 24, K: 33, N: 16, transA: true, accumulate: true },
  { batch: [], M: 23, K: 33, N: 17, transA: true, accumulate: true },
  { batch: [2], M: 12, K: 8, N: 20, bias: true, alpha: 0.5, accumulate: true, sharedB: true, transB: true },
  { batch: [2], M: 11, K: 9, N: 19, bias: true, alpha: 0.5, accumulate: true, transA: true },
  // K = 0: out = bias (+ out)
  { batch: [], M: 5, K: 0, N: 8, bias: true, accumulate: true },
];

function caseName(c: Case): string {
  const flags = [
    c.transA && 'transA',
    c.transB && 'transB',
    c.sharedA && 'shared a',
    c.sharedB && 'shared b',
    c.bias && 'bias',
    c.alpha !== undefined && `alpha=${c.alpha}`,
    c.accumulate && 'accumulate',
  ].filter(Boolean);
  const bt = c.batch.length ? `Bt=${c.batch.join('x')} ` : '';
  return `${bt}M=${c.M} K=${c.K} N=${c.N}${flags.length ? ' ' + flags.join(' ') : ''}`;
}

/** On a software adapter (slow workgroup memory and barriers, 2 shared cores in CI) the GPU-class variants
 * skip the large cases except the odd-sized one, which keeps every form, edge and tile-crossing covered. */
function runsOn(gpu: GpuRuntime, c: Case, path: gpuK.MatmulPath): boolean {
  if (!gpu.adapter.isSoftware || gpuK.SOFTWARE_MATMUL_PATHS.includes(path)) return true;
  return c.M * c.K * c.N <= 50_000 || (c.M === 97 && c.K === 37);
}

/** Runs one case on every kernel of `only` that can take it on this device (see matmulPaths). */
async function runCase(gpu: GpuRuntime, c: Case, rng: Rng, only: readonly gpuK.MatmulPath[], kernel = 'matmul'): Promise<CaseResult[]> {
  const Bt = c.batch.reduce((x, y) => x * y, 1);
  const { M, K, N } = c;
  const aShape = c.transA ? [K, M] : [M, K];
  const bShape = c.transB ? [N, K] : [K, N];
  const aFull = c.sharedA ? aShape : [...c.batch, ...aShape];
  const bFull = c.sharedB ? bShape : [...c.batch, ...bShape];
  const a = randn(aFull.reduce((x, y) => x * y, 1), rng);
  const b = randn(bFull.reduce((x, y) => x * y, 1), rng);
  const bias = c.bias ? randn(N, rng) : null;
  const out0 = randn(Bt * M * N, rng);
  const ta = gpu.upload(a, aFull, 'a');
  const tb = gpu.upload(b, bFull, 'b');
  const tbias = bias ? gpu.upload(bias, [N], 'bias') : null;
  const tout = gpu.tensor([...c.batch, M, N], 'out');
  const opts = { transA: c.transA, transB: c.transB, accumulate: c.accumulate, alpha: c.alpha };
  const want = out0.slice();
  ref.matmul(want, a, b, Bt, M, K, N, { ...opts, bias });
  const results: CaseResult[] = [];
  for (const path of gpuK.matmulPaths(gpu, gpuK.matmulProblem(tout, ta, tb, opts), opts)) {
    if (!only.includes(path) || !runsOn(gpu, c, path)) continue;
    gpu.write(tout, out0);
    gpuK.matmulOnPath(gpu, tout, ta, tb, { ...opts, bias: tbias }, path);
    results.push(compare(kernel, `${caseName(c)} [${path}]`, 'out', await gpu.read(tout), want, TOL));
  }
  gpu.release(ta, tb, tbias, tout);
  return results;
}

/** Mismatched shapes must throw, naming the tensors. */
function shapeErrors(gpu: GpuRuntime): CaseResult {
  const made: Tensor[] = [];
  const t = (shape: number[], label: string): Tensor => {
    const x = gpu.tensor(shape, label);
    made.push(x);
    return x;
  };
  const y = t([6, 5], 'y');
  const x = t([6, 4], 'x');
  const w = t([5, 4], 'W');
  const attempts: [string, () => void, RegExp][] = [
    ['K mismatch', () => gpuK.matmul(gpu, y, x, t([3, 5], 'W_bad')), /x \[6, 4\].*K=4.*W_bad \[3, 5\].*K=3/],
    ['M mismatch', () => gpuK.matmul(gpu, t([7, 5], 'y_bad'), x, w, { transB: true }), /x \[6, 4\].*M=6.*y_bad \[7, 5\].*M=7/],
    ['N mismatch', () => gpuK.matmul(gpu, t([6, 3], 'y3'), x, w, { transB: true }), /W \[5, 4\].*N=5.*y3 \[6, 3\].*N=3/],
    ['batch mismatch', () => gpuK.matmul(gpu, t([3, 6, 5], 'yb'), t([2, 6, 4], 'xb'), w, { transB: true }), /xb \[2, 6, 4\].*2 batches.*yb.*3/],
    ['bias shape', () => gpuK.matmul(gpu, y, x, w, { transB: true, bias: t([4], 'b_bad') }), /b_bad.*\[5\]/],
    ['1-D operand', () => gpuK.matmul(gpu, y, t([4], 'v'), w, { transB: true }), /v \[4\].*2 dims/],
    ['out aliases a', () => gpuK.matmul(gpu, y, y, t([5, 5], 'sq')), /out y.*also a/],
  ];
  const mismatches: string[] = [];
  for (const [what, call, pattern] of attempts) {
    try {
      call();
      mismatches.push(`${what}: did not throw`);
    } catch (e) {
      const msg = (e as Error).message;
      if (!pattern.test(msg)) mismatches.push(`${what}: message "${msg}" does not match ${pattern}`);
    }
  }
  gpu.release(...made);
  return { kernel: 'matmul', case: 'shape errors', ok: mismatches.length === 0, maxAbsErr: 0, mismatches };
}

/** The software kernels (matmul_subgroup / matmul / matmul_scalar) on every case, and the shape errors. */
export const check: KernelCheck = {
  kernel: 'matmul',
  async run(gpu) {
    const rng = new Rng(7);
    const results: CaseResult[] = [];
    for (const c of CASES) results.push(...(await runCase(gpu, c, rng, gpuK.SOFTWARE_MATMUL_PATHS)));
    results.push(shapeErrors(gpu));
    return results;
  },
};

/** Why a variant cannot run on this device (null: it can), e.g. a feature the adapter lacks, and that it is
 * only compiled (in CI), never run here. */
export function matmulVariantUnavailable(gpu: GpuRuntime, path: gpuK.MatmulPath): string | null {
  const why = gpuK.matmulPathUnavailable(gpu, path);
  return why === null ? null : `${why}; ${COMPILED_NOT_RUN}`;
}

/** Each GPU-class variant forced in turn on the cases (on software adapters a subset: see runsOn). On a
 * device that cannot run a variant the check says so in one skipped case named "untested here: ..." (the
 * page's self-test shows it as untested, not passed; vitest skips it, see test/kernels.test.ts). */
export const checks: KernelCheck[] = gpuK.ALL_MATMUL_PATHS.filter((p) => !gpuK.SOFTWARE_MATMUL_PATHS.includes(p)).map((path) => ({
  kernel: `matmul [${path}]`,
  unavailable: (gpu: GpuRuntime) => matmulVariantUnavailable(gpu, path),
  async run(gpu: GpuRuntime): Promise<CaseResult[]> {
    const why = matmulVariantUnavailable(gpu, path);
    if (why) return [skippedCase(`matmul [${path}]`, why)];
    const rng = new Rng(7);
    const results: CaseResult[] = [];
    for (const c of CASES) results.push(...(await runCase(gpu, c, rng, [path], `matmul [${path}]`)));
    return results;
  },
}));
