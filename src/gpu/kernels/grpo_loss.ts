// Host wrappers for grpo_loss_forward.wgsl / grpo_loss_backward.wgsl.
import fwdCode from '../../../shaders/grpo_loss_forward.wgsl?raw';
import bwdCode from '../../../shaders/grpo_loss_backward.wgsl?raw';
import { f32, grid, type GpuRuntime } from '../runtime';
import type { KernelSpec } from '../pipeline_cache';
import { expectSize, type Tensor } from '../tensor';

const FWD: KernelSpec = { name: 'grpo_loss_forward', code: fwdCode, buffers: ['read', 'read', 'read', 'read', 'read_write'], hasParams: true };
const BWD: KernelSpec = {
  name: 'grpo_loss_backward',
  code: bwdCode,
  buffers: ['read', 'read', 'read', 'read', 'read', 'read_write'],
  hasParams: true,
};

export interface GrpoLossParams {
  epsilon: number;
  epsilonHigh: number;
  beta: number;
}

/** out (4, N) = [loss | kl | ratio | clip flag] per token. oldLogp null: rho = 1 (one iteration); refLogp null: beta must be 0. */
export function grpoLossForward(
  gpu: GpuRuntime, out: Tensor, logp: Tensor, oldLogp: Tensor | null, refLogp: Tensor | null, adv: Tensor, hp: GrpoLossParams,
): void {
  const n = logp.size;
  checkInputs(n, oldLogp, refLogp, adv, hp);
  expectSize(out, 4 * n);
  gpu.dispatch(FWD, {
    buffers: [logp, oldLogp ?? logp, refLogp ?? logp, adv, out],
    params: [n, f32(hp.epsilon), f32(hp.epsilonHigh), f32(hp.beta)],
    workgroups: grid(Math.ceil(n / 256)),
  });
}

/** dlogp (N) = weight * d loss / d logp (overwrites). */
export function grpoLossBackward(
  gpu: GpuRuntime, dlogp: Tensor, logp: Tensor, oldLogp: Tensor | null, refLogp: Tensor | null, adv: Tensor, weight: Tensor, hp: GrpoLossParams,
): void {
  const n = logp.size;
  checkInputs(n, oldLogp, refLogp, adv, hp);
  expectSize(weight, n);
  expectSize(dlogp, n);
  gpu.dispatch(BWD, {
    buffers: [logp, oldLogp ?? logp, refLogp ?? logp, adv, weight, dlogp],
    params: [n, f32(hp.epsilon), f32(hp.epsilonHigh), f32(hp.beta)],
    workgroups: grid(Math.ceil(n / 256)),
  });
}

function checkInputs(n: number, oldLogp: Tensor | null, refLogp: Tensor | null, adv: Tensor, hp: GrpoLossParams): void {
  if (oldLogp) expectSize(oldLogp, n);
  if (refLogp) expectSize(refLogp, n);
  else if (hp.beta !== 0) throw new Error('grpo loss: beta > 0 needs reference log-probs');
  expectSize(adv, n);
}
