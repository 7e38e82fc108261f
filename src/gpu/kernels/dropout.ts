// Host wrappers for dropout_forward.wgsl / dropout_backward.wgsl (inverted dropout with a mask that is
// regenerated from (seed, stream) by Philox4x32-10, never stored).
import fwdCode from '../../../shaders/dropout_forward.wgsl?raw';
import bwdCode from '../../../shaders/dropout_backward.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import { expectSize, type Tensor } from '../tensor';
import { validateDropoutMask, type DropoutMask } from '../../ops/dropout';

export type { DropoutMask } from '../../ops/dropout';

const DROPOUT_PARAMS = { n: 'u32', p: 'f32', seed: 'u32', s0: 'u32', s1: 'u32', s2: 'u32' } as const;
export const DROPOUT_FORWARD = defineKernel({
  name: 'dropout_forward',
  source: fwdCode,
  params: DROPOUT_PARAMS,
  buffers: { x: 'read', out: 'read_write' },
});
export const DROPOUT_BACKWARD = defineKernel({
  name: 'dropout_backward',
  source: bwdCode,
  params: DROPOUT_PARAMS,
  buffers: { dout: 'read', dx: 'read_write' },
});

/** out = dropout(x) (overwrites). */
export function dropoutForward(gpu: GpuRuntime, out: Tensor, x: Tensor, mask: DropoutMask): void {
  validateDropoutMask(mask);
  expectSize(out, x.size);
  gpu.run(DROPOUT_FORWARD, { x, out }, { n: x.size, p: mask.p, seed: mask.seed, s0: mask.stream[0], s1: mask.stream[1], s2: mask.stream[2] }, grid(Math.ceil(x.size / 256)));
}

/** dx += mask * dout / (1 - p). */
export function dropoutBackward(gpu: GpuRuntime, dx: Tensor, dout: Tensor, mask: DropoutMask): void {
  validateDropoutMask(mask);
  expectSize(dx, dout.size);
  gpu.run(DROPOUT_BACKWARD, { dout, dx }, { n: dout.size, p: mask.p, seed: mask.seed, s0: mask.stream[0], s1: mask.stream[1], s2: mask.stream[2] }, grid(Math.ceil(dout.size / 256)));
}
