// Host wrappers for the GeGLU gate (tanh-approximated GELU, Gemma): geglu_forward.wgsl and geglu_backward.wgsl (elementwise).
import forwardCode from '../../../shaders/geglu_forward.wgsl?raw';
import backwardCode from '../../../shaders/geglu_backward.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import type { KernelSpec } from '../pipeline_cache';
import { expectShape, type Tensor } from '../tensor';

const FORWARD: KernelSpec = {
  name: 'geglu_forward',
  code: forwardCode,
  buffers: ['read', 'read', 'read_write'],
  hasParams: true,
};
const BACKWARD: KernelSpec = {
  name: 'geglu_backward',
  code: backwardCode,
  buffers: ['read', 'read', 'read', 'read_write', 'read_write'],
  hasParams: true,
};

/** out = gelu_tanh(gate) * up: out, gate, up (N, H), all the same shape. Overwrites out. */
export function gegluForward(gpu: GpuRuntime, out: Tensor, gate: Tensor, up: Tensor): void {
  expectShape(gate, out.shape);
  expectShape(up, out.shape);
  const n = out.size;
  gpu.dispatch(FORWARD, { buffers: [gate, up, out], params: [n], workgroups: grid(Math.ceil(n / 256)) });
}

/** dgate = dout * up * gelu_tanh'(gate), dup = dout * gelu_tanh(gate); all (N, H). Overwrites dgate and dup. */
export function gegluBackward(gpu: GpuRuntime, dgate: Tensor, dup: Tensor, dout: Tensor, gate: Tensor, up: Tensor): void {
  expectShape(dup, dgate.shape);
  expectShape(dout, dgate.shape);
  expectShape(gate, dgate.shape);
  expectShape(up, dgate.shape);
  const n = dgate.size;
  gpu.dispatch(BACKWARD, { buffers: [dout, gate, up, dgate, dup], params: [n], workgroups: grid(Math.ceil(n / 256)) });
}
