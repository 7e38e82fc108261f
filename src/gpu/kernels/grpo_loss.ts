// Host wrappers for grpo_loss_forward.wgsl / grpo_loss_backward.wgsl.
import fwdCode from '../../../shaders/grpo_loss_forward.wgsl?raw';
import bwdCode from '../../../shaders/grpo_loss_backward.wgsl?raw';
import { f32, grid, type GpuRuntime } from '../runtime';
import type { KernelSpec } from '../pipeline_cache';
import { expectSize, type Tensor } from '../tensor';

const FWD: KernelSpec = {
  name: 'grpo_loss_forward',
  code: fwdCode,
  buffers: ['read', 'read', 'read', 'read', 'read', 'read', 'read_write'],
  hasParams: true,
};
const BWD: KernelSpec = {
  name: 'grpo_loss_backward',
  code: bwdCode,
  buffers: ['read', 'read', 'read', 'read', 'read', 'read', 'read', 'read_write'],
  hasParams: true,
};

/** The policy loss of TRL v1.9 by loss_type: the clipped surrogate (grpo, bnpo, dr_grpo, dapo), cispo or sapo. */
export type GrpoLossKind = 'clip' | 'cispo' | 'sapo';

export interface GrpoLossParams {
  epsilon: number;
  epsilonHigh: number;
  beta: number;
  /** default 'clip' */
  kind?: GrpoLossKind;
  /** 'sequence': GSPO's one ratio per completion (needs aux.seq); default 'token' */
  importanceSamplingLevel?: 'token' | 'sequence';
  /** upper cap of the unclipped ratio (two-sided clipping); null/undefined: none */
  delta?: number | null;
  /** SAPO's gate temperatures (default 1.0 and 1.05) */
  sapoTemperaturePos?: number;
  sapoTemperatureNeg?: number;
  /** tokens whose entropy is below this lose their policy loss (top_entropy_quantile; needs aux.entropy); null: none */
  entropyThreshold?: number | null;
}

/** Inputs that only some settings read: per-token entropy (the entropy threshold) and, per token, its
 * completion's {first index, active count} as u32 (2N; sequence level). */
export interface GrpoLossAux {
  entropy?: Tensor | null;
  seq?: Tensor | null;
}

const KIND_CODE: Record<GrpoLossKind, number> = { clip: 0, cispo: 1, sapo: 2 };
const OFF = 3e38;

/** The uniform words of the kernels' Params struct (same for both directions). */
export function grpoLossParamWords(n: number, hp: GrpoLossParams) {
  const thr = hp.entropyThreshold ?? null;
  return [
    n, f32(hp.epsilon), f32(hp.epsilonHigh), f32(hp.beta),
    KIND_CODE[hp.kind ?? 'clip'], hp.importanceSamplingLevel === 'sequence' ? 1 : 0, f32(hp.delta ?? OFF), f32(hp.sapoTemperaturePos ?? 1.0),
    f32(hp.sapoTemperatureNeg ?? 1.05), f32(thr === null ? -OFF : thr), 0, 0,
  ];
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
  gpu.dispatch(FWD, {
    buffers: [logp, oldLogp ?? logp, refLogp ?? logp, adv, aux.entropy ?? logp, aux.seq ?? logp, out],
    params: grpoLossParamWords(n, hp),
    workgroups: grid(Math.ceil(n / 256)),
  });
}

/** dlogp (N) = d (sum_n weight[n] * loss[n]) / d logp (overwrites). */
export function grpoLossBackward(
  gpu: GpuRuntime, dlogp: Tensor, logp: Tensor, oldLogp: Tensor | null, refLogp: Tensor | null, adv: Tensor, weight: Tensor, hp: GrpoLossParams,
  aux: GrpoLossAux = {},
): void {
  const n = logp.size;
  checkInputs(n, oldLogp, refLogp, adv, hp, aux);
  expectSize(weight, n);
  expectSize(dlogp, n);
  gpu.dispatch(BWD, {
    buffers: [logp, oldLogp ?? logp, refLogp ?? logp, adv, aux.entropy ?? logp, aux.seq ?? logp, weight, dlogp],
    params: grpoLossParamWords(n, hp),
    workgroups: grid(Math.ceil(n / 256)),
  });
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
  } else if (hp.importanceSamplingLevel === 'sequence') throw new Error('grpo loss: importance_sampling_level "sequence" needs each token\'s completion extent (seq)');
}
