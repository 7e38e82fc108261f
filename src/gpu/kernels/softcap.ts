// Host wrappers of the logit soft-cap (Gemma 4's final_logit_softcapping): softcap_forward.wgsl and
// softcap_backward.wgsl (elementwise). CPU reference: src/reference/softcap.ts.
import forwardCode from '../../../shaders/softcap_forward.wgsl?raw';
import backwardCode from '../../../shaders/softcap_backward.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import { expectShape, type Tensor } from '../tensor';

export const SOFTCAP_FORWARD = defineKernel({
  name: 'softcap_forward',
  source: forwardCode,
  params: { n: 'u32', cap: 'f32' },
  buffers: { x: 'read', out: 'read_write' },
});

export const SOFTCAP_BACKWARD = defineKernel({
  name: 'softcap_backward',
  source: backwardCode,
  params: { n: 'u32', cap: 'f32' },
  buffers: { dout: 'read', x: 'read', dx: 'read_write' },
});

function checkCap(cap: number): void {
  if (!(cap > 0) || !Number.isFinite(cap)) throw new Error(`softcap: cap must be a positive number, got ${cap}`);
}

/** out = cap * tanh(x / cap); x, out the same shape, distinct tensors. Overwrites out. */
export function softcapForward(gpu: GpuRuntime, out: Tensor, x: Tensor, cap: number): void {
  checkCap(cap);
  expectShape(x, out.shape);
  gpu.run(SOFTCAP_FORWARD, { x, out }, { n: out.size, cap }, grid(Math.ceil(out.size / 256)));
}

/** dx = dout * (1 - tanh(x / cap)^2); all the same shape, distinct tensors. Overwrites dx. */
export function softcapBackward(gpu: GpuRuntime, dx: Tensor, dout: Tensor, x: Tensor, cap: number): void {
  checkCap(cap);
  expectShape(dout, dx.shape);
  expectShape(x, dx.shape);
  gpu.run(SOFTCAP_BACKWARD, { dout, x, dx }, { n: dx.size, cap }, grid(Math.ceil(dx.size / 256)));
}
