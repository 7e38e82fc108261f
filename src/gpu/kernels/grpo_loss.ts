// Host wrappers for grpo_loss_forward.wgsl / grpo_loss_backward.wgsl.
import fwdCode from '../../../shaders/grpo_loss_forward.wgsl?raw';
import bwdCode from '../../../shaders/grpo_loss_backward.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import { expectSize, type Tensor } from '../tensor';
import type { GrpoLossKind, GrpoLossParams } from '../../ops/grpo_loss';

export type { GrpoLossKind, GrpoLossParams } from '../../ops/grpo_loss';

// Params in the order of the shaders' struct Params (same for both directions).
const GRPO_LOSS_PARAMS = {
  n: 'u32', eps: 'f32', eps_high: 'f32', beta: 'f32',
  kind: 'u32', seq_level: 'u32', delta: 'f32', tau_pos: 'f32',
  tau_neg: 'f32', ent_threshold: 'f32', seq_sum: 'u32', _pad0: 'u32',
  k_pos: 'f32', lambda_pos: 'f32', k_neg: 'f32', lambda_neg: 'f32',
  opsm_threshold: 'f32', bias_kl: 'u32', _pad1: 'u32', _pad2: 'u32',
} as const;
export const GRPO_LOSS_FORWARD = defineKernel({
  name: 'grpo_loss_forward',
  source: fwdCode,
  params: GRPO_LOSS_PARAMS,
  buffers: { logp: 'read', old_logp: 'read', ref_logp: 'read', adv: 'read', entropy: 'read', seq: 'read', mask: 'read', out: 'read_write' },
});
export const GRPO_LOSS_BACKWARD = defineKernel({
  name: 'grpo_loss_backward',
  source: bwdCode,
  params: GRPO_LOSS_PARAMS,
  buffers: { logp: 'read', old_logp: 'read', ref_logp: 'read', adv: 'read', entropy: 'read', seq: 'read', weight: 'read', dlogp: 'read_write' },
});

/** Inputs that only some settings read: per-token entropy (the entropy threshold) and, per token, its
 * completion's {first index, extent} as u32 (2N; sequence level) with the tokens in the loss (N: 1 in, 0 out,
 * e.g. a tool's inserted tokens; sequence level). */
export interface GrpoLossAux {
  entropy?: Tensor | null;
  seq?: Tensor | null;
  mask?: Tensor | null;
}

const KIND_CODE: Record<GrpoLossKind, number> = { clip: 0, cispo: 1, sapo: 2, vespo: 3 };
const OFF = 3e38;

/** The values of the kernels' Params struct (same for both directions). */
export function grpoLossParamValues(n: number, hp: GrpoLossParams) {
  const thr = hp.entropyThreshold ?? null;
  return {
    n, eps: hp.epsilon, eps_high: hp.epsilonHigh, beta: hp.beta,
    kind: KIND_CODE[hp.kind ?? 'clip'], seq_level: hp.importanceSamplingLevel === 'sequence' ? 1 : 0, delta: hp.delta ?? OFF, tau_pos: hp.sapoTemperaturePos ?? 1.0,
    tau_neg: hp.sapoTemperatureNeg ?? 1.05, ent_threshold: thr === null ? -OFF : thr, seq_sum: hp.sequenceSum ? 1 : 0, _pad0: 0,
    k_pos: hp.vespo?.kPos ?? 2, lambda_pos: hp.vespo?.lambdaPos ?? 3, k_neg: hp.vespo?.kNeg ?? 3, lambda_neg: hp.vespo?.lambdaNeg ?? 2,
    opsm_threshold: hp.offPolicyMaskThreshold ?? OFF, bias_kl: hp.biasCorrectionKl ? 1 : 0, _pad1: 0, _pad2: 0,
  };
}

/** out (4, N) = [loss | kl | ratio | flag bits (1 low, 2 high, 4 entropy-masked)] per token. oldLogp null: rho = 1
 * (one iteration); refLogp null: beta must be 0. */
export function grpoLossForward(
  gpu: GpuRuntime, out: Tensor, logp: Tensor, oldLogp: Tensor | null, refLogp: Tensor | null, adv: Tensor, hp: GrpoLossParams,
  aux: GrpoLossAux = {},
): void {
  const n = logp.size;
  checkInputs(n, oldLogp, refLogp, adv, hp, aux);
  expectSize(out, 4 * n);
  gpu.run(
    GRPO_LOSS_FORWARD,
    { logp, old_logp: oldLogp ?? logp, ref_logp: refLogp ?? logp, adv, entropy: aux.entropy ?? logp, seq: aux.seq ?? logp, mask: aux.mask ?? logp, out },
    grpoLossParamValues(n, hp),
    grid(Math.ceil(n / 256)),
  );
}

/** dlogp (N) = d (sum_n weight[n] * loss[n]) / d logp (overwrites). At sequence level the tokens in the loss are
 * those with weight > 0 (aux.mask is the forward's; the two must agree). */
export function grpoLossBackward(
  gpu: GpuRuntime, dlogp: Tensor, logp: Tensor, oldLogp: Tensor | null, refLogp: Tensor | null, adv: Tensor, weight: Tensor, hp: GrpoLossParams,
  aux: GrpoLossAux = {},
): void {
  const n = logp.size;
  checkInputs(n, oldLogp, refLogp, adv, hp, aux);
  expectSize(weight, n);
  expectSize(dlogp, n);
  gpu.run(
    GRPO_LOSS_BACKWARD,
    { logp, old_logp: oldLogp ?? logp, ref_logp: refLogp ?? logp, adv, entropy: aux.entropy ?? logp, seq: aux.seq ?? logp, weight, dlogp },
    grpoLossParamValues(n, hp),
    grid(Math.ceil(n / 256)),
  );
}

function checkInputs(n: number, oldLogp: Tensor | null, refLogp: Tensor | null, adv: Tensor, hp: GrpoLossParams, aux: GrpoLossAux): void {
  if (oldLogp) expectSize(oldLogp, n);
  if (refLogp) expectSize(refLogp, n);
  else if (hp.beta !== 0) throw new Error('grpo loss: beta > 0 needs reference log-probs');
  expectSize(adv, n);
  if (aux.entropy) expectSize(aux.entropy, n);
  else if (hp.entropyThreshold !== undefined && hp.entropyThreshold !== null) throw new Error('grpo loss: an entropy threshold needs the per-token entropy');
  if (aux.seq) {
    if (aux.seq.dtype !== 'u32') throw new Error(`grpo loss: seq must be u32 {first, count} pairs, got ${aux.seq.dtype}`);
    expectSize(aux.seq, 2 * n);
  } else if (needsSequences(hp)) throw new Error('grpo loss: importance_sampling_level "sequence", vespo and the off-policy mask need each token\'s completion extent (seq)');
  if (aux.mask) expectSize(aux.mask, n);
  else if (needsSequences(hp)) throw new Error('grpo loss: importance_sampling_level "sequence", vespo and the off-policy mask need the mask of the tokens in the loss');
}

/** Whether the kernels read each token's completion (aux.seq, aux.mask). */
export function needsSequences(hp: GrpoLossParams): boolean {
  return hp.importanceSamplingLevel === 'sequence' || hp.kind === 'vespo' || (hp.offPolicyMaskThreshold ?? null) !== null;
}
