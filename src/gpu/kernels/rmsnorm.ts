// Host wrappers for RMSNorm: rmsnorm_forward.wgsl, and the backward in up to three passes
// (rmsnorm_backward.wgsl for dx; rmsnorm_backward_dweight_partial/_reduce.wgsl for dweight).
import forwardCode from '../../../shaders/rmsnorm_forward.wgsl?raw';
import backwardCode from '../../../shaders/rmsnorm_backward.wgsl?raw';
import dweightPartialCode from '../../../shaders/rmsnorm_backward_dweight_partial.wgsl?raw';
import dweightReduceCode from '../../../shaders/rmsnorm_backward_dweight_reduce.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import { expectShape, shapeString, type Tensor } from '../tensor';

export const RMSNORM_FORWARD = defineKernel({
  name: 'rmsnorm_forward',
  source: forwardCode,
  params: { n_rows: 'u32', C: 'u32', eps: 'f32' },
  buffers: { x: 'read', weight: 'read', out: 'read_write', rstd: 'read_write' },
});
export const RMSNORM_BACKWARD = defineKernel({
  name: 'rmsnorm_backward',
  source: backwardCode,
  params: { n_rows: 'u32', C: 'u32' },
  buffers: { dout: 'read', x: 'read', weight: 'read', rstd: 'read', dx: 'read_write' },
});
export const RMSNORM_BACKWARD_DWEIGHT_PARTIAL = defineKernel({
  name: 'rmsnorm_backward_dweight_partial',
  source: dweightPartialCode,
  params: { n_rows: 'u32', C: 'u32', rows_per_chunk: 'u32' },
  buffers: { dout: 'read', x: 'read', rstd: 'read', partial: 'read_write' },
});
export const RMSNORM_BACKWARD_DWEIGHT_REDUCE = defineKernel({
  name: 'rmsnorm_backward_dweight_reduce',
  source: dweightReduceCode,
  params: { n_chunks: 'u32', C: 'u32' },
  buffers: { partial: 'read', dweight: 'read_write' },
});

/** Rows per dweight partial sum: (N/64) x C partials, each a sum of 64 products. */
const ROWS_PER_CHUNK = 64;
/** Workgroup size of the column-parallel dweight pass (the shader's WG override default). */
const DWEIGHT_WG = 64;

/** Threads per row in the row-reduction passes (a power of two). Software adapters run a workgroup's
 * barriers slowly: on SwiftShader 16 threads per row is 3x faster than 64 at N=2048, C=576, and 4 is
 * faster again (same run: 16x64 0.84 -> 0.10 ms, 384x64 4.9 -> 1.7 ms, 512x576 26.6 -> 10.9 ms; 1 thread
 * per row is slower than 4). */
export function rowOverrides(gpu: GpuRuntime, weightOffset = 0): Record<string, number> {
  const o: Record<string, number> = { WG: gpu.adapter.isSoftware ? 4 : 64 };
  // only when set, so the plain norm keeps its pipeline
  if (weightOffset !== 0) o.W_OFFSET = weightOffset;
  return o;
}

/** (N, C) of x: C is the last dimension, N the product of the others. */
export function rowsOf(x: Tensor): [number, number] {
  if (x.shape.length < 1) throw new Error(`${x.label}: expected rows of length C, got ${shapeString(x)}`);
  const C = x.shape[x.shape.length - 1];
  return [C === 0 ? 0 : x.size / C, C];
}

export function expectRstd(rstd: Tensor, N: number): void {
  if (rstd.size !== N) throw new Error(`${rstd.label}: expected ${N} elements (one per row), got ${shapeString(rstd)}`);
}

/** out = x * rstd * (weight + weightOffset), rstd = 1/sqrt(mean(x^2) + eps) per row: x, out (N, C);
 * weight (C); rstd (N), saved for backward. weightOffset 1 is Gemma's x * (1 + w). Overwrites out and rstd. */
export function rmsnormForward(gpu: GpuRuntime, out: Tensor, rstd: Tensor, x: Tensor, weight: Tensor, eps: number, weightOffset = 0): void {
  const [N, C] = rowsOf(x);
  expectShape(out, x.shape);
  expectShape(weight, [C]);
  expectRstd(rstd, N);
  gpu.run(RMSNORM_FORWARD, { x, weight, out, rstd }, { n_rows: N, C, eps }, grid(N), rowOverrides(gpu, weightOffset));
}

/** dx += dL/dx (accumulates into dx, the residual stream's gradient); dweight += dL/dweight when dweight is
 * not null (deterministic: per-chunk partial sums over rows, then a second pass in chunk order).
 * dx, dout, x (N, C); weight, dweight (C); rstd (N) from the forward; weightOffset as in the forward (the
 * weight gradient does not depend on it). */
export function rmsnormBackward(
  gpu: GpuRuntime,
  dx: Tensor,
  dweight: Tensor | null,
  dout: Tensor,
  x: Tensor,
  weight: Tensor,
  rstd: Tensor,
  weightOffset = 0,
): void {
  const [N, C] = rowsOf(x);
  expectShape(dx, x.shape);
  expectShape(dout, x.shape);
  expectShape(weight, [C]);
  expectRstd(rstd, N);
  if (dweight) expectShape(dweight, [C]);
  if (N === 0 || C === 0) return;
  gpu.run(RMSNORM_BACKWARD, { dout, x, weight, rstd, dx }, { n_rows: N, C }, grid(N), rowOverrides(gpu, weightOffset));
  if (!dweight) return;
  const nChunks = Math.ceil(N / ROWS_PER_CHUNK);
  const partial = gpu.tensor([nChunks, C], 'rmsnorm_backward dweight partials');
  gpu.run(
    RMSNORM_BACKWARD_DWEIGHT_PARTIAL,
    { dout, x, rstd, partial },
    { n_rows: N, C, rows_per_chunk: ROWS_PER_CHUNK },
    [Math.ceil(C / DWEIGHT_WG), nChunks],
  );
  gpu.run(RMSNORM_BACKWARD_DWEIGHT_REDUCE, { partial, dweight }, { n_chunks: nChunks, C }, grid(Math.ceil(C / 256)));
  // Safe before the recorded dispatches run: later users of this buffer are ordered after them.
  gpu.release(partial);
}
