// Host wrapper for add_rmsnorm_forward.wgsl: residual add + RMSNorm in one dispatch. The backward is
// rmsnormBackward (rmsnorm.ts) on the saved h and rstd, accumulating into the residual stream's gradient.
import forwardCode from '../../../shaders/add_rmsnorm_forward.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import { expectShape, type Tensor } from '../tensor';
import { expectRstd, rowOverrides, rowsOf } from './rmsnorm';

export const ADD_RMSNORM_FORWARD = defineKernel({
  name: 'add_rmsnorm_forward',
  source: forwardCode,
  params: { n_rows: 'u32', C: 'u32', eps: 'f32' },
  buffers: { a: 'read', b: 'read', weight: 'read', h: 'read_write', out: 'read_write', rstd: 'read_write' },
});

/** h = a + b; out = h * rstd * (weight + weightOffset), rstd = 1/sqrt(mean(h^2) + eps) per row. a, b, h, out (N, C);
 * weight (C); rstd (N). Overwrites h, out and rstd (h and rstd are what backward needs). Bit-for-bit the
 * result of residualAdd(h, a, b) then rmsnormForward(out, rstd, h, weight, eps), in one dispatch. */
export function addRmsnormForward(
  gpu: GpuRuntime,
  h: Tensor,
  out: Tensor,
  rstd: Tensor,
  a: Tensor,
  b: Tensor,
  weight: Tensor,
  eps: number,
  weightOffset = 0,
): void {
  const [N, C] = rowsOf(a);
  expectShape(b, a.shape);
  expectShape(h, a.shape);
  expectShape(out, a.shape);
  expectShape(weight, [C]);
  expectRstd(rstd, N);
  const outputs = [h, out, rstd];
  for (const o of outputs) {
    for (const other of [a, b, weight, ...outputs.filter((x) => x !== o)]) {
      if (o.buffer === other.buffer) throw new Error(`add_rmsnorm_forward: ${o.label} is also ${other.label}; outputs need their own tensors`);
    }
  }
  gpu.run(ADD_RMSNORM_FORWARD, { a, b, weight, h, out, rstd }, { n_rows: N, C, eps }, grid(N), rowOverrides(gpu, weightOffset));
}
