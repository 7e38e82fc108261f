// Host wrappers for grpo_loss_forward.wgsl / grpo_loss_backward.wgsl.
import fwdCode from '../../../shaders/grpo_loss_forward.wgsl?raw';
import bwdCode from '../../../shaders/grpo_loss_backward.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import { expectSize, type Tensor } from '../tensor';
import type { GrpoLossParams } from '../../ops/grpo_loss';

export type { GrpoLossParams } from '../../ops/grpo_loss';

const GRPO_LOSS_PARAMS = { n: 'u32', eps: 'f32', eps_high: 'f32', beta: 'f32' } as const;
export const GRPO_LOSS_FORWARD = defineKernel({
  name: 'grpo_loss_forward',
  source: fwdCode,
  params: GRPO_LOSS_PARAMS,
  buffers: { logp: 'read', old_logp: 'read', ref_logp: 'read', adv: 'read', out: 'read_write' },
});
export const GRPO_LOSS_BACKWARD = defineKernel({
  name: 'grpo_loss_backward',
  source: bwdCode,
  params: GRPO_LOSS_PARAMS,
  buffers: { logp: 'read', old_logp: 'read', ref_logp: 'read', adv: 'read', weight: 'read', dlogp: 'read_write' },
});

/** out (4, N) = [loss | kl | ratio | clip flag] per token. oldLogp null: rho = 1 (one iteration); refLogp null: beta must be 0. */
export function grpoLossForward(
  gpu: GpuRuntime, out: Tensor, logp: Tensor, oldLogp: Tensor | null, refLogp: Tensor | null, adv: Tensor, hp: GrpoLossParams,
): void {
  const n = logp.size;
  checkInputs(n, oldLogp, refLogp, adv, hp);
  expectSize(out, 4 * n);
  gpu.run(
    GRPO_LOSS_FORWARD,
    { logp, old_logp: oldLogp ?? logp, ref_logp: refLogp ?? logp, adv, out },
    { n, eps: hp.epsilon, eps_high: hp.epsilonHigh, beta: hp.beta },
    grid(Math.ceil(n / 256)),
  );
}

/** dlogp (N) = weight * d loss / d logp (overwrites). */
export function grpoLossBackward(
  gpu: GpuRuntime, dlogp: Tensor, logp: Tensor, oldLogp: Tensor | null, refLogp: Tensor | null, adv: Tensor, weight: Tensor, hp: GrpoLossParams,
): void {
  const n = logp.size;
  checkInputs(n, oldLogp, refLogp, adv, hp);
  expectSize(weight, n);
  expectSize(dlogp, n);
  gpu.run(
    GRPO_LOSS_BACKWARD,
    { logp, old_logp: oldLogp ?? logp, ref_logp: refLogp ?? logp, adv, weight, dlogp },
    { n, eps: hp.epsilon, eps_high: hp.epsilonHigh, beta: hp.beta },
    grid(Math.ceil(n / 256)),
  );
}

function checkInputs(n: number, oldLogp: Tensor | null, refLogp: Tensor | null, adv: Tensor, hp: GrpoLossParams): void {
  if (oldLogp) expectSize(oldLogp, n);
  if (refLogp) expectSize(refLogp, n);
  else if (hp.beta !== 0) throw new Error('grpo loss: beta > 0 needs reference log-probs');
  expectSize(adv, n);
}
