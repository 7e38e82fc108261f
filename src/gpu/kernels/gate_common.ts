// Shared host side of the elementwise MLP gates, SwiGLU (swiglu.ts) and GeGLU (geglu.ts): their shaders
// (<gate>_forward.wgsl, <gate>_backward.wgsl) have the same params and bindings and differ only in the
// activation, so the layouts and the shape-checked dispatches live here once. Each shader keeps its own
// descriptor (defineKernel) in its wrapper, built from these layouts.
import { grid, type GpuRuntime } from '../runtime';
import type { KernelDescriptor } from '../kernel';
import { expectShape, type Tensor } from '../tensor';

/** <gate>_forward.wgsl: out = act(gate) * up; gate, up, out (N, H), n = N * H. */
export const GATE_FORWARD_LAYOUT = {
  params: { n: 'u32' },
  buffers: { gate: 'read', up: 'read', out: 'read_write' },
} as const;
/** <gate>_backward.wgsl: dgate = dout * up * act'(gate), dup = dout * act(gate); all (N, H), n = N * H. */
export const GATE_BACKWARD_LAYOUT = {
  params: { n: 'u32' },
  buffers: { dout: 'read', gate: 'read', up: 'read', dgate: 'read_write', dup: 'read_write' },
} as const;

export type GateForwardKernel = KernelDescriptor<typeof GATE_FORWARD_LAYOUT.params, typeof GATE_FORWARD_LAYOUT.buffers>;
export type GateBackwardKernel = KernelDescriptor<typeof GATE_BACKWARD_LAYOUT.params, typeof GATE_BACKWARD_LAYOUT.buffers>;

/** Runs a gate's forward: out = act(gate) * up, out, gate, up (N, H), all the same shape. Overwrites out. */
export function gateForward(gpu: GpuRuntime, kernel: GateForwardKernel, out: Tensor, gate: Tensor, up: Tensor): void {
  expectShape(gate, out.shape);
  expectShape(up, out.shape);
  const n = out.size;
  gpu.run(kernel, { gate, up, out }, { n }, grid(Math.ceil(n / 256)));
}

/** Runs a gate's backward: dgate = dout * up * act'(gate), dup = dout * act(gate); all (N, H). Overwrites
 * dgate and dup. */
export function gateBackward(
  gpu: GpuRuntime,
  kernel: GateBackwardKernel,
  dgate: Tensor,
  dup: Tensor,
  dout: Tensor,
  gate: Tensor,
  up: Tensor,
): void {
  expectShape(dup, dgate.shape);
  expectShape(dout, dgate.shape);
  expectShape(gate, dgate.shape);
  expectShape(up, dgate.shape);
  const n = dgate.size;
  gpu.run(kernel, { dout, gate, up, dgate, dup }, { n }, grid(Math.ceil(n / 256)));
}
