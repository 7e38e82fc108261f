// Host wrappers of scale_forward.wgsl / scale_backward.wgsl (elementwise out (+)= alpha * x; Gemma 4's
// layer_scalar and its residual adds that no norm follows). CPU reference: src/reference/scale.ts.
import forwardCode from '../../../shaders/scale_forward.wgsl?raw';
import backwardCode from '../../../shaders/scale_backward.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import { expectShape, type Tensor } from '../tensor';

export const SCALE_FORWARD = defineKernel({
  name: 'scale_forward',
  source: forwardCode,
  params: { n: 'u32', alpha: 'f32', accumulate: 'u32' },
  buffers: { x: 'read', out: 'read_write' },
});

export const SCALE_BACKWARD = defineKernel({
  name: 'scale_backward',
  source: backwardCode,
  params: { n: 'u32', alpha: 'f32', accumulate: 'u32' },
  buffers: { dout: 'read', dx: 'read_write' },
});

/** out (+)= alpha * x; same shape, distinct tensors (accumulate with alpha 1 is a residual add into out). */
export function scaleForward(gpu: GpuRuntime, out: Tensor, x: Tensor, alpha: number, accumulate = false): void {
  expectShape(x, out.shape);
  if (out.buffer === x.buffer) throw new Error(`scale_forward: ${out.label} is also ${x.label}; out needs its own tensor`);
  gpu.run(SCALE_FORWARD, { x, out }, { n: out.size, alpha, accumulate: accumulate ? 1 : 0 }, grid(Math.ceil(out.size / 256)));
}

/** dx (+)= alpha * dout; same shape, distinct tensors. */
export function scaleBackward(gpu: GpuRuntime, dx: Tensor, dout: Tensor, alpha: number, accumulate: boolean): void {
  expectShape(dout, dx.shape);
  if (dout.buffer === dx.buffer) throw new Error(`scale_backward: ${dx.label} is also ${dout.label}; dx needs its own tensor`);
  gpu.run(SCALE_BACKWARD, { dout, dx }, { n: dx.size, alpha, accumulate: accumulate ? 1 : 0 }, grid(Math.ceil(dx.size / 256)));
}
