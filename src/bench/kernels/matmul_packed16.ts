// The 16-bit-weight matmuls against the f32 matmul at the same linear-layer shapes (SmolLM2-135M's MLP:
// x (M, 576) W^T with W (1536, 576), and its input gradient), timed one after the other so that a loaded
// machine slows both alike: forward and backward, at a decode-like M (2) and a training-like M (128).
// benchPackedVariants: every variant of the packed matmuls this device can run (matmul_packed16_variants.ts),
// bfloat16 and half, forward and backward, names ending in [variant].
import { matmul } from '../../gpu/kernels/matmul';
import { matmulPacked16Backward, matmulPacked16Forward } from '../../gpu/kernels/matmul_packed16';
import { choosePacked16Path, packed16Paths } from '../../gpu/kernels/matmul_packed16_variants';
import type { GpuRuntime } from '../../gpu/runtime';
import { packWeights16 } from '../../model/pack16';
import { Rng, randn } from '../../util/random';
import { timeKernel, type KernelBench, type TimeOptions } from '../harness';

export async function benchPackedMatmul(gpu: GpuRuntime): Promise<KernelBench[]> {
  const rng = new Rng(3);
  const [K, N] = [576, 1536];
  const wf = randn(N * K, rng, 0.05);
  const w32 = gpu.upload(wf, [N, K], 'w f32');
  const w16 = gpu.upload(packWeights16(wf, 'bf16'), [N, K / 2], 'w bf16', 'u32');
  const out: KernelBench[] = [];
  for (const M of [2, 128]) {
    const x = gpu.upload(randn(M * K, rng), [M, K], 'x');
    const y = gpu.tensor([M, N], 'y');
    const dy = gpu.upload(randn(M * N, rng), [M, N], 'dy');
    const dx = gpu.tensor([M, K], 'dx');
    const shape = `(${M}, ${K}) -> ${N}`;
    const flops = 2 * M * K * N;
    const opts = { minMs: 100, batches: 2 };
    out.push(await timeKernel(gpu, 'matmul x Wᵀ, W f32', shape, flops, () => matmul(gpu, y, x, w32, { transB: true }), opts));
    out.push(await timeKernel(gpu, 'matmul x Wᵀ, W bf16 packed', shape, flops, () => matmulPacked16Forward(gpu, y, x, w16, 'bf16'), opts));
    out.push(await timeKernel(gpu, 'matmul dy W, W f32', shape, flops, () => matmul(gpu, dx, dy, w32), opts));
    out.push(await timeKernel(gpu, 'matmul dy W, W bf16 packed', shape, flops, () => matmulPacked16Backward(gpu, dx, dy, w16, 'bf16'), opts));
    gpu.release(x, y, dy, dx);
  }
  gpu.release(w32, w16);
  return out;
}

/** Every packed variant this device can run, forward (x W^T) and backward (dy W), both formats, at
 * (M, K) x (K -> N) for each M of `rows`; the software kernel ('block8') with `opts`, the GPU-class variants
 * with short timing on a software adapter (they are slow there and never what it runs). */
export async function benchPackedVariants(gpu: GpuRuntime, K: number, N: number, rows: readonly number[], opts: TimeOptions = {}): Promise<KernelBench[]> {
  const rng = new Rng(5);
  const wf = randn(N * K, rng, 0.05);
  const quick: TimeOptions = gpu.adapter.isSoftware ? { warmup: 1, minMs: 0, batches: 2 } : opts;
  const out: KernelBench[] = [];
  for (const format of ['bf16', 'f16'] as const) {
    const w = gpu.upload(packWeights16(wf, format), [N, K / 2], `w ${format}`, 'u32');
    for (const M of rows) {
      const x = gpu.upload(randn(M * K, rng), [M, K], 'x');
      const y = gpu.tensor([M, N], 'y');
      const dy = gpu.upload(randn(M * N, rng), [M, N], 'dy');
      const dx = gpu.tensor([M, K], 'dx');
      const shape = `(${M}, ${K}) -> ${N}`;
      const flops = 2 * M * K * N;
      for (const path of packed16Paths(gpu, format)) {
        const o = path === 'block8' ? opts : quick;
        out.push(await timeKernel(gpu, `matmul_packed16 x Wᵀ ${format} [${path}]`, shape, flops, () => matmulPacked16Forward(gpu, y, x, w, format, { path }), o));
        out.push(await timeKernel(gpu, `matmul_packed16 dy W ${format} [${path}]`, shape, flops, () => matmulPacked16Backward(gpu, dx, dy, w, format, { path }), o));
      }
      // what a run would choose here (recorded for the autotuner on hardware adapters)
      choosePacked16Path(gpu, { dir: 'forward', format, M, K, N });
      choosePacked16Path(gpu, { dir: 'backward', format, M, K, N });
      gpu.release(x, y, dy, dx);
    }
    gpu.release(w);
  }
  return out;
}
