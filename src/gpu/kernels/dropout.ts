// Host wrappers for dropout_forward.wgsl / dropout_backward.wgsl (inverted dropout with a mask that is
// regenerated from (seed, stream) by Philox4x32-10, never stored).
import fwdCode from '../../../shaders/dropout_forward.wgsl?raw';
import bwdCode from '../../../shaders/dropout_backward.wgsl?raw';
import { f32, grid, type GpuRuntime } from '../runtime';
import type { KernelSpec } from '../pipeline_cache';
import { expectSize, type Tensor } from '../tensor';

const FWD: KernelSpec = { name: 'dropout_forward', code: fwdCode, buffers: ['read', 'read_write'], hasParams: true };
const BWD: KernelSpec = { name: 'dropout_backward', code: bwdCode, buffers: ['read', 'read_write'], hasParams: true };

export interface DropoutMask {
  /** probability of dropping an element, in [0, 1) */
  p: number;
  /** Philox key word 0 (u32); key word 1 is fixed ("DROP") */
  seed: number;
  /** Philox counter words 1-3 (u32 each) that name this mask; word 0 is the element index. Masks that
   * must differ need different (seed, stream); equal ones give the same mask. */
  stream: readonly [number, number, number];
}

function check(m: DropoutMask): void {
  if (!(m.p >= 0 && m.p < 1)) throw new Error(`dropout probability must be in [0, 1), got ${m.p}`);
  for (const [k, v] of [['seed', m.seed], ['stream[0]', m.stream[0]], ['stream[1]', m.stream[1]], ['stream[2]', m.stream[2]]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`dropout ${k} must be a u32, got ${v}`);
  }
}

/** out = dropout(x) (overwrites). */
export function dropoutForward(gpu: GpuRuntime, out: Tensor, x: Tensor, mask: DropoutMask): void {
  check(mask);
  expectSize(out, x.size);
  gpu.dispatch(FWD, { buffers: [x, out], params: [x.size, f32(mask.p), mask.seed, ...mask.stream], workgroups: grid(Math.ceil(x.size / 256)) });
}

/** dx += mask * dout / (1 - p). */
export function dropoutBackward(gpu: GpuRuntime, dx: Tensor, dout: Tensor, mask: DropoutMask): void {
  check(mask);
  expectSize(dx, dout.size);
  gpu.dispatch(BWD, { buffers: [dout, dx], params: [dout.size, f32(mask.p), mask.seed, ...mask.stream], workgroups: grid(Math.ceil(dout.size / 256)) });
}
