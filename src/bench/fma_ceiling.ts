// The adapter's measured FMA ceiling (GFLOP/s): what a kernel is judged against in the benchmarks.
import code from '../../shaders/fma_ceiling.wgsl?raw';
import type { GpuRuntime } from '../gpu/runtime';
import { defineKernel } from '../gpu/kernel';
import { timeKernel, type KernelBench, type TimeOptions } from './harness';

export const FMA_CEILING = defineKernel({
  name: 'fma_ceiling',
  source: code,
  params: { iters: 'u32', m: 'f32', c: 'f32' },
  buffers: { out: 'read_write' },
});

const WG = 64;
const CHAINS = 8; // vec4 chains per invocation (shaders/fma_ceiling.wgsl)

export interface FmaCeilingOptions extends TimeOptions {
  /** workgroups per dispatch (default 256: 16384 invocations, plenty for a CPU and a small GPU) */
  workgroups?: number;
  /** loop steps per invocation (default 256) */
  iters?: number;
}

/** Times the FMA-bound kernel and returns the full benchmark result. */
export async function benchFmaCeiling(gpu: GpuRuntime, opts: FmaCeilingOptions = {}): Promise<KernelBench> {
  const workgroups = opts.workgroups ?? (gpu.adapter.isSoftware ? 256 : 8192);
  const iters = opts.iters ?? (gpu.adapter.isSoftware ? 256 : 4096);
  const invocations = workgroups * WG;
  const out = gpu.tensor([invocations * 4], 'fma ceiling out');
  const flops = invocations * iters * CHAINS * 4 * 2;
  try {
    return await timeKernel(
      gpu,
      'fma_ceiling',
      `${invocations} x ${iters} x ${CHAINS} vec4`,
      flops,
      () =>
        gpu.run(FMA_CEILING, { out }, { iters, m: 0.999, c: 0.001 }, [workgroups], { WG }),
      opts,
    );
  } finally {
    gpu.release(out);
  }
}

/** GFLOP/s of an FMA-bound kernel: the adapter's practical f32 peak. */
export async function measureFmaCeiling(gpu: GpuRuntime, opts: FmaCeilingOptions = {}): Promise<number> {
  return (await benchFmaCeiling(gpu, opts)).gflops;
}
