// Host wrappers for cross_entropy_forward.wgsl / cross_entropy_backward.wgsl: per-row cross-entropy of the
// logits against target tokens, with an ignore index. Logits may have any leading dimensions: N is the
// product of all but the last (V).
import forwardCode from '../../../shaders/cross_entropy_forward.wgsl?raw';
import backwardCode from '../../../shaders/cross_entropy_backward.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import { shapeString, type Tensor } from '../tensor';
import { expectCount, expectTargets, rowWorkgroupSize, rowsOfLogits } from './logprob_gather';

/** A target that contributes no loss and no gradient (any target >= V is treated the same way). */
export const IGNORE_INDEX = 0xffffffff;

export const CROSS_ENTROPY_FORWARD = defineKernel({
  name: 'cross_entropy_forward',
  source: forwardCode,
  params: { n: 'u32', v: 'u32' },
  buffers: { logits: 'read', targets: 'read', loss: 'read_write', lse: 'read_write' },
});
export const CROSS_ENTROPY_BACKWARD = defineKernel({
  name: 'cross_entropy_backward',
  source: backwardCode,
  params: { total: 'u32', v: 'u32' },
  buffers: { dloss: 'read', logits: 'read', targets: 'read', lse: 'read', dlogits: 'read_write' },
});

/** loss[n] = lse(logits[n]) - logits[n, target] (0 for IGNORE_INDEX); lse[n] saved for backward. Overwrites both. */
export function crossEntropyForward(gpu: GpuRuntime, loss: Tensor, lse: Tensor, logits: Tensor, targets: Tensor): void {
  const { n, v } = rowsOfLogits(logits);
  expectTargets(targets, n);
  expectCount(loss, n, 'loss');
  expectCount(lse, n, 'lse');
  gpu.run(CROSS_ENTROPY_FORWARD, { logits, targets, loss, lse }, { n, v }, grid(n), { WG: rowWorkgroupSize(v, gpu) });
}

/** dlogits[n, j] = dloss[n] * (softmax_j - 1[j == target]) (overwrites; zero rows for ignored targets) */
export function crossEntropyBackward(gpu: GpuRuntime, dlogits: Tensor, dloss: Tensor, logits: Tensor, targets: Tensor, lse: Tensor): void {
  const { n, v } = rowsOfLogits(logits);
  expectTargets(targets, n);
  expectCount(dloss, n, 'dloss');
  expectCount(lse, n, 'lse');
  if (dlogits.size !== logits.size || dlogits.shape[dlogits.shape.length - 1] !== v) {
    throw new Error(`dlogits: expected the shape of logits ${shapeString(logits)}, got ${shapeString(dlogits)}`);
  }
  const total = n * v;
  gpu.run(CROSS_ENTROPY_BACKWARD, { dloss, logits, targets, lse, dlogits }, { total, v }, grid(Math.ceil(total / 256)));
}
