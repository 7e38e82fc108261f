// Host wrappers for the SwiGLU gate: swiglu_forward.wgsl and swiglu_backward.wgsl (elementwise).
// The layouts and dispatches are shared with the other gate (gate_common.ts).
import forwardCode from '../../../shaders/swiglu_forward.wgsl?raw';
import backwardCode from '../../../shaders/swiglu_backward.wgsl?raw';
import type { GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import type { Tensor } from '../tensor';
import { GATE_BACKWARD_LAYOUT, GATE_FORWARD_LAYOUT, gateBackward, gateForward } from './gate_common';

export const SWIGLU_FORWARD = defineKernel({ name: 'swiglu_forward', source: forwardCode, ...GATE_FORWARD_LAYOUT });
export const SWIGLU_BACKWARD = defineKernel({ name: 'swiglu_backward', source: backwardCode, ...GATE_BACKWARD_LAYOUT });

/** out = silu(gate) * up, silu(g) = g * sigmoid(g): out, gate, up (N, H), all the same shape. Overwrites out. */
export function swigluForward(gpu: GpuRuntime, out: Tensor, gate: Tensor, up: Tensor): void {
  gateForward(gpu, SWIGLU_FORWARD, out, gate, up);
}

/** dgate = dout * up * silu'(gate), dup = dout * silu(gate); all (N, H). Overwrites dgate and dup. */
export function swigluBackward(gpu: GpuRuntime, dgate: Tensor, dup: Tensor, dout: Tensor, gate: Tensor, up: Tensor): void {
  gateBackward(gpu, SWIGLU_BACKWARD, dgate, dup, dout, gate, up);
}
