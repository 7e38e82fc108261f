// Kernel benchmark harness: warm up (pipeline compilation, first-touch of buffers), then time batches of
// repeated runs by wall clock. Each batch records `reps` runs into the runtime's encoder, submits them and
// waits for the queue (gpu.sync()); the best batch counts, so that one noisy batch does not skew a result.
// Wall clock includes one submit and one queue round trip per batch; reps is chosen so that a batch lasts
// at least minMs, which makes that overhead small against the kernels themselves.

import type { GpuRuntime } from '../gpu/runtime';

export interface KernelBench {
  name: string;
  /** what was measured, e.g. "512x512x512" or "(512, 576) x (576 -> 1536)" */
  shape: string;
  /** milliseconds per run */
  ms: number;
  /** flops / time; 0 when flops is 0 */
  gflops: number;
}

export interface TimeOptions {
  /** untimed runs before timing (default 2) */
  warmup?: number;
  /** minimum wall time of one timed batch in ms (default 250) */
  minMs?: number;
  /** most runs in one batch (default 1000) */
  maxReps?: number;
  /** timed batches; the fastest counts (default 3) */
  batches?: number;
}

const now = (): number => globalThis.performance.now();

/** Times `run` (which records GPU work on `gpu`) and returns ms per run and GFLOP/s for `flops` per run. */
export async function timeKernel(
  gpu: GpuRuntime,
  name: string,
  shape: string,
  flops: number,
  run: () => void,
  opts: TimeOptions = {},
): Promise<KernelBench> {
  const warmup = opts.warmup ?? 2;
  const minMs = opts.minMs ?? 250;
  const maxReps = opts.maxReps ?? 1000;
  const batches = opts.batches ?? 3;

  for (let i = 0; i < warmup; i++) run();
  await gpu.sync();

  // One timed run tells how many fit in a batch of minMs.
  let t0 = now();
  run();
  await gpu.sync();
  const single = Math.max(now() - t0, 1e-3);
  const reps = Math.max(1, Math.min(maxReps, Math.ceil(minMs / single)));

  let best = Infinity;
  for (let b = 0; b < batches; b++) {
    t0 = now();
    for (let i = 0; i < reps; i++) run();
    await gpu.sync();
    best = Math.min(best, (now() - t0) / reps);
  }
  return { name, shape, ms: best, gflops: flops > 0 ? flops / (best * 1e6) : 0 };
}

/** One line per result: name, shape, ms, GFLOP/s and, given a ceiling, the fraction of it. */
export function formatBench(r: KernelBench, ceilingGflops?: number): string {
  const pct = ceilingGflops ? `  ${((100 * r.gflops) / ceilingGflops).toFixed(0).padStart(3)}% of ceiling` : '';
  return `${r.name.padEnd(40)} ${r.shape.padEnd(28)} ${r.ms.toFixed(3).padStart(10)} ms ${r.gflops.toFixed(2).padStart(7)} GFLOP/s${pct}`;
}
