// Host wrapper for entropy_backward.wgsl: the gradient of the per-token entropy that logprob_gather_forward
// (and logprob_chunk_forward) computes, added into dlogits (the entropy bonus, entropy_coef).
import code from '../../../shaders/entropy_backward.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import { shapeString, type Tensor } from '../tensor';
import { expectCount, rowsOfLogits } from './logprob_gather';

export const ENTROPY_BACKWARD = defineKernel({
  name: 'entropy_backward',
  source: code,
  params: { total: 'u32', v: 'u32', temperature: 'f32' },
  buffers: { dentropy: 'read', logits: 'read', lse: 'read', entropy: 'read', dlogits: 'read_write' },
});

/** dlogits[n, j] += dentropy[n] * d H_n / d logits[n, j] at the sampling temperature (accumulates). */
export function entropyBackward(gpu: GpuRuntime, dlogits: Tensor, dentropy: Tensor, logits: Tensor, lse: Tensor, entropy: Tensor, temperature: number): void {
  const { n, v } = rowsOfLogits(logits);
  if (!(temperature > 0) || !Number.isFinite(temperature)) throw new Error(`temperature must be a positive finite number, got ${temperature}`);
  expectCount(dentropy, n, 'dentropy');
  expectCount(lse, n, 'lse');
  expectCount(entropy, n, 'entropy');
  if (dlogits.size !== logits.size) throw new Error(`dlogits: expected the shape of logits ${shapeString(logits)}, got ${shapeString(dlogits)}`);
  const total = n * v;
  gpu.run(ENTROPY_BACKWARD, { dentropy, logits, lse, entropy, dlogits }, { total, v, temperature }, grid(Math.ceil(total / 256)));
}
