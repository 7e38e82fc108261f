// Host wrappers for the GeGLU gate (tanh-approximated GELU, Gemma): geglu_forward.wgsl and geglu_backward.wgsl (elementwise).
import forwardCode from '../../../shaders/geglu_forward.wgsl?raw';
import backwardCode from '../../../shaders/geglu_backward.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import { expectShape, type Tensor } from '../tensor';

export const GEGLU_FORWARD = defineKernel({
  name: 'geglu_forward',
  source: forwardCode,
  params: { n: 'u32' },
  buffers: { gate: 'read', up: 'read', out: 'read_write' },
});
export const GEGLU_BACKWARD = defineKernel({
  name: 'geglu_backward',
  source: backwardCode,
  params: { n: 'u32' },
  buffers: { dout: 'read', gate: 'read', up: 'read', dgate: 'read_write', dup: 'read_write' },
});

/** out = gelu_tanh(gate) * up: out, gate, up (N, H), all the same shape. Overwrites out. */
export function gegluForward(gpu: GpuRuntime, out: Tensor, gate: Tensor, up: Tensor): void {
  expectShape(gate, out.shape);
  expectShape(up, out.shape);
  const n = out.size;
  gpu.run(GEGLU_FORWARD, { gate, up, out }, { n }, grid(Math.ceil(n / 256)));
}

/** dgate = dout * up * gelu_tanh'(gate), dup = dout * gelu_tanh(gate); all (N, H). Overwrites dgate and dup. */
export function gegluBackward(gpu: GpuRuntime, dgate: Tensor, dup: Tensor, dout: Tensor, gate: Tensor, up: Tensor): void {
  expectShape(dup, dgate.shape);
  expectShape(dout, dgate.shape);
  expectShape(gate, dgate.shape);
  expectShape(up, dgate.shape);
  const n = dgate.size;
  gpu.run(GEGLU_BACKWARD, { dout, gate, up, dgate, dup }, { n }, grid(Math.ceil(n / 256)));
}
