// Host wrappers for dropout_forward.wgsl / dropout_backward.wgsl (inverted dropout with a mask that is
// regenerated from (seed, counter), never stored).
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
  seed: number;
  counter: number;
}

function check(m: DropoutMask): void {
  if (!(m.p >= 0 && m.p < 1)) throw new Error(`dropout probability must be in [0, 1), got ${m.p}`);
  for (const [k, v] of [['seed', m.seed], ['counter', m.counter]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`dropout ${k} must be a u32, got ${v}`);
  }
}

/** out = dropout(x) (overwrites). */
export function dropoutForward(gpu: GpuRuntime, out: Tensor, x: Tensor, mask: DropoutMask): void {
  check(mask);
  expectSize(out, x.size);
  gpu.dispatch(FWD, { buffers: [x, out], params: [x.size, f32(mask.p), mask.seed, mask.counter], workgroups: grid(Math.ceil(x.size / 256)) });
}

/** dx += mask * dout / (1 - p). */
export function dropoutBackward(gpu: GpuRuntime, dx: Tensor, dout: Tensor, mask: DropoutMask): void {
  check(mask);
  expectSize(dx, dout.size);
  gpu.dispatch(BWD, { buffers: [dout, dx], params: [dout.size, f32(mask.p), mask.seed, mask.counter], workgroups: grid(Math.ceil(dout.size / 256)) });
}
