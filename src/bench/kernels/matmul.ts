// Matmul benchmarks: the 512^3 cube in every transpose form (and, in the NN form, on every kernel this
// device can run it on), the linear layers of a training step (forward y = x W^T, backward dx = dy W and
// dW += dy^T x) at stories260K and SmolLM2-135M MLP sizes, and an odd-sized cube (the scalar kernel).
import { chooseMatmulPath, matmulOnPath, matmulPaths, matmulProblem, SOFTWARE_MATMUL_PATHS, type MatmulOptions, type MatmulPath } from '../../gpu/kernels/matmul';
import type { GpuRuntime } from '../../gpu/runtime';
import type { Tensor } from '../../gpu/tensor';
import { Rng, randn } from '../../util/random';
import { timeKernel, type KernelBench, type TimeOptions } from '../harness';

export interface MatmulBenchCase {
  name: string;
  shape: string;
  /** stored shapes of out, a, b */
  out: number[];
  a: number[];
  b: number[];
  opts: MatmulOptions;
  /** multiply-adds per run: M * K * N */
  macs: number;
  /** the kernel to run (default: the one matmul() picks) */
  path?: MatmulPath;
}

function cube(n: number, transA: boolean, transB: boolean): MatmulBenchCase {
  const form = `${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}`;
  return { name: `matmul ${form}`, shape: `${n}x${n}x${n}`, out: [n, n], a: [n, n], b: [n, n], opts: { transA, transB }, macs: n ** 3 };
}

/** The three matmuls of a linear layer y (T, OUT) = x (T, IN) @ W^T, W (OUT, IN), and its backward. */
function linear(model: string, T: number, IN: number, OUT: number): MatmulBenchCase[] {
  const macs = T * IN * OUT;
  const shape = `(${T}, ${IN}) x (${IN} -> ${OUT})`;
  return [
    { name: `matmul ${model} fwd`, shape, out: [T, OUT], a: [T, IN], b: [OUT, IN], opts: { transB: true }, macs },
    { name: `matmul ${model} dx`, shape, out: [T, IN], a: [T, OUT], b: [OUT, IN], opts: {}, macs },
    { name: `matmul ${model} dW`, shape, out: [OUT, IN], a: [T, OUT], b: [T, IN], opts: { transA: true, accumulate: true }, macs },
  ];
}

export function matmulBenchCases(): MatmulBenchCase[] {
  return [
    cube(512, false, false),
    cube(512, false, true),
    cube(512, true, false),
    cube(512, true, true),
    { ...cube(511, false, false), name: 'matmul NN odd size' },
    ...linear('stories260K up', 512, 64, 172),
    ...linear('stories260K down', 512, 172, 64),
    ...linear('SmolLM2 up', 512, 576, 1536),
    ...linear('SmolLM2 down', 512, 1536, 576),
  ];
}

export async function benchMatmulCase(gpu: GpuRuntime, c: MatmulBenchCase, opts: TimeOptions = {}): Promise<KernelBench> {
  const rng = new Rng(3);
  const made: Tensor[] = [];
  const up = (shape: number[], label: string): Tensor => {
    const t = gpu.upload(randn(shape.reduce((x, y) => x * y, 1), rng), shape, label);
    made.push(t);
    return t;
  };
  try {
    const out = up(c.out, 'out');
    const a = up(c.a, 'a');
    const b = up(c.b, 'b');
    const path = c.path ?? chooseMatmulPath(gpu, matmulProblem(out, a, b, c.opts), c.opts);
    const name = `${c.name} [${path}]`;
    return await timeKernel(gpu, name, c.shape, 2 * c.macs, () => matmulOnPath(gpu, out, a, b, c.opts, path), opts);
  } finally {
    gpu.release(...made);
  }
}

/** Decoding's linear layer: `rows` sequences, one token each, y (rows, OUT) = x (rows, IN) @ W^T. */
export function decodeCase(model: string, rows: number, IN: number, OUT: number): MatmulBenchCase {
  return { name: `matmul ${model} decode`, shape: `(${rows}, ${IN}) x (${IN} -> ${OUT})`, out: [rows, OUT], a: [rows, IN], b: [OUT, IN], opts: { transB: true }, macs: rows * IN * OUT };
}

/** The variant sweep's shapes: the n^3 cube (512 by default) and SmolLM2's decode-time up projection
 * (576 -> 1536, or in -> out when given) at 8 and 32 rows. */
export function variantSweepCases(n = 512, IN = 576, OUT = 1536): MatmulBenchCase[] {
  const model = IN === 576 && OUT === 1536 ? 'SmolLM2 up' : 'linear';
  return [cube(n, false, false), decodeCase(model, 8, IN, OUT), decodeCase(model, 32, IN, OUT)];
}

/** The sweep cases on every kernel that can run them here (the chosen one with `opts`, the others with short
 * timing on a software adapter). Names end in the kernel. */
export async function benchMatmulVariants(gpu: GpuRuntime, cases: MatmulBenchCase[], opts: TimeOptions = {}): Promise<KernelBench[]> {
  const results: KernelBench[] = [];
  const quick: TimeOptions = gpu.adapter.isSoftware ? { warmup: 1, minMs: 0, batches: 2 } : opts;
  for (const c of cases) {
    const prob = { Bt: 1, M: c.out[0], K: c.a[1], N: c.out[1], batchedA: false, batchedB: false };
    for (const path of matmulPaths(gpu, prob, c.opts)) {
      results.push(await benchMatmulCase(gpu, { ...c, path }, SOFTWARE_MATMUL_PATHS.includes(path) ? opts : quick));
    }
  }
  return results;
}

/** Every case of matmulBenchCases() on the kernel matmul() picks; the SmolLM2 decode shapes; then the
 * sweep cases on each other kernel that can run them here (GPU-class variants on a software adapter with
 * short timing: they are slow there and are not what it runs). Names end in the kernel, e.g.
 * "matmul NN [subgroup]". */
export async function benchMatmul(gpu: GpuRuntime, opts: TimeOptions = {}): Promise<KernelBench[]> {
  const results: KernelBench[] = [];
  for (const c of matmulBenchCases()) results.push(await benchMatmulCase(gpu, c, opts));
  for (const c of variantSweepCases().slice(1)) results.push(await benchMatmulCase(gpu, c, opts));
  const quick: TimeOptions = gpu.adapter.isSoftware ? { warmup: 1, minMs: 0, batches: 2 } : opts;
  for (const c of variantSweepCases()) {
    const prob = { Bt: 1, M: c.out[0], K: c.a[1], N: c.out[1], batchedA: false, batchedB: false };
    const chosen = chooseMatmulPath(gpu, prob, c.opts);
    for (const path of matmulPaths(gpu, prob, c.opts)) {
      if (path === chosen) continue;
      results.push(await benchMatmulCase(gpu, { ...c, path }, SOFTWARE_MATMUL_PATHS.includes(path) ? opts : quick));
    }
  }
  return results;
}

/** The n^3 NN cube on the kernel matmul() picks (n = 4096 by default on a hardware adapter; --matmul-size). */
export async function benchBigMatmul(gpu: GpuRuntime, n: number, opts: TimeOptions = {}): Promise<KernelBench> {
  return benchMatmulCase(gpu, cube(n, false, false), { warmup: 1, minMs: 0, batches: 2, ...opts });
}
