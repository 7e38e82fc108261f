// Host wrappers for the SwiGLU gate: swiglu_forward.wgsl and swiglu_backward.wgsl (elementwise).
import forwardCode from '../../../shaders/swiglu_forward.wgsl?raw';
import backwardCode from '../../../shaders/swiglu_backward.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import { expectShape, type Tensor } from '../tensor';

export const SWIGLU_FORWARD = defineKernel({
  name: 'swiglu_forward',
  source: forwardCode,
  params: { n: 'u32' },
  buffers: { gate: 'read', up: 'read', out: 'read_write' },
});
export const SWIGLU_BACKWARD = defineKernel({
  name: 'swiglu_backward',
  source: backwardCode,
  params: { n: 'u32' },
  buffers: { dout: 'read', gate: 'read', up: 'read', dgate: 'read_write', dup: 'read_write' },
});

/** out = silu(gate) * up, silu(g) = g * sigmoid(g): out, gate, up (N, H), all the same shape. Overwrites out. */
export function swigluForward(gpu: GpuRuntime, out: Tensor, gate: Tensor, up: Tensor): void {
  expectShape(gate, out.shape);
  expectShape(up, out.shape);
  const n = out.size;
  gpu.run(SWIGLU_FORWARD, { gate, up, out }, { n }, grid(Math.ceil(n / 256)));
}

/** dgate = dout * up * silu'(gate), dup = dout * silu(gate); all (N, H). Overwrites dgate and dup. */
export function swigluBackward(gpu: GpuRuntime, dgate: Tensor, dup: Tensor, dout: Tensor, gate: Tensor, up: Tensor): void {
  expectShape(dup, dgate.shape);
  expectShape(dout, dgate.shape);
  expectShape(gate, dgate.shape);
  expectShape(up, dgate.shape);
  const n = dgate.size;
  gpu.run(SWIGLU_BACKWARD, { dout, gate, up, dgate, dup }, { n }, grid(Math.ceil(n / 256)));
}
