// Host wrappers for the GeGLU gate (tanh-approximated GELU, Gemma): geglu_forward.wgsl and geglu_backward.wgsl (elementwise).
// The layouts and dispatches are shared with the other gate (gate_common.ts).
import forwardCode from '../../../shaders/geglu_forward.wgsl?raw';
import backwardCode from '../../../shaders/geglu_backward.wgsl?raw';
import type { GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import type { Tensor } from '../tensor';
import { GATE_BACKWARD_LAYOUT, GATE_FORWARD_LAYOUT, gateBackward, gateForward } from './gate_common';

export const GEGLU_FORWARD = defineKernel({ name: 'geglu_forward', source: forwardCode, ...GATE_FORWARD_LAYOUT });
export const GEGLU_BACKWARD = defineKernel({ name: 'geglu_backward', source: backwardCode, ...GATE_BACKWARD_LAYOUT });

/** out = gelu_tanh(gate) * up: out, gate, up (N, H), all the same shape. Overwrites out. */
export function gegluForward(gpu: GpuRuntime, out: Tensor, gate: Tensor, up: Tensor): void {
  gateForward(gpu, GEGLU_FORWARD, out, gate, up);
}

/** dgate = dout * up * gelu_tanh'(gate), dup = dout * gelu_tanh(gate); all (N, H). Overwrites dgate and dup. */
export function gegluBackward(gpu: GpuRuntime, dgate: Tensor, dup: Tensor, dout: Tensor, gate: Tensor, up: Tensor): void {
  gateBackward(gpu, GEGLU_BACKWARD, dgate, dup, dout, gate, up);
}
