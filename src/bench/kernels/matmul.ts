// Matmul benchmarks: the 512^3 cube in every transpose form, the linear layers of a training step
// (forward y = x W^T, backward dx = dy W and dW += dy^T x) at stories260K and SmolLM2-135M MLP sizes,
// and an odd-sized cube that takes the scalar path.
import { matmul, type MatmulOptions } from '../../gpu/kernels/matmul';
import type { GpuRuntime } from '../../gpu/runtime';
import type { Tensor } from '../../gpu/tensor';
import { Rng, randn } from '../../selftest/random';
import { timeKernel, type KernelBench, type TimeOptions } from '../harness';

interface MatmulBenchCase {
  name: string;
  shape: string;
  /** stored shapes of out, a, b */
  out: number[];
  a: number[];
  b: number[];
  opts: MatmulOptions;
  /** multiply-adds per run: M * K * N */
  macs: number;
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
    { ...cube(511, false, false), name: 'matmul NN scalar path' },
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
    return await timeKernel(gpu, c.name, c.shape, 2 * c.macs, () => matmul(gpu, out, a, b, c.opts), opts);
  } finally {
    gpu.release(...made);
  }
}

export async function benchMatmul(gpu: GpuRuntime, opts: TimeOptions = {}): Promise<KernelBench[]> {
  const results: KernelBench[] = [];
  for (const c of matmulBenchCases()) results.push(await benchMatmulCase(gpu, c, opts));
  return results;
}
