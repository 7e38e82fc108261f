// Host wrappers for the SwiGLU gate: swiglu_forward.wgsl and swiglu_backward.wgsl (elementwise).
import forwardCode from '../../../shaders/swiglu_forward.wgsl?raw';
import backwardCode from '../../../shaders/swiglu_backward.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import type { KernelSpec } from '../pipeline_cache';
import { expectShape, type Tensor } from '../tensor';

const FORWARD: KernelSpec = {
  name: 'swiglu_forward',
  code: forwardCode,
  buffers: ['read', 'read', 'read_write'],
  hasParams: true,
};
const BACKWARD: KernelSpec = {
  name: 'swiglu_backward',
  code: backwardCode,
  buffers: ['read', 'read', 'read', 'read_write', 'read_write'],
  hasParams: true,
};

/** out = silu(gate) * up, silu(g) = g * sigmoid(g): out, gate, up (N, H), all the same shape. Overwrites out. */
export function swigluForward(gpu: GpuRuntime, out: Tensor, gate: Tensor, up: Tensor): void {
  expectShape(gate, out.shape);
  expectShape(up, out.shape);
  const n = out.size;
  gpu.dispatch(FORWARD, { buffers: [gate, up, out], params: [n], workgroups: grid(Math.ceil(n / 256)) });
}

/** dgate = dout * up * silu'(gate), dup = dout * silu(gate); all (N, H). Overwrites dgate and dup. */
export function swigluBackward(gpu: GpuRuntime, dgate: Tensor, dup: Tensor, dout: Tensor, gate: Tensor, up: Tensor): void {
  expectShape(dup, dgate.shape);
  expectShape(dout, dgate.shape);
  expectShape(gate, dgate.shape);
  expectShape(up, dgate.shape);
  const n = dgate.size;
  gpu.dispatch(BACKWARD, { buffers: [dout, gate, up, dgate, dup], params: [n], workgroups: grid(Math.ceil(n / 256)) });
}
