// The GRPO loss kernels' hyperparameters, shared by their wrappers (src/gpu/kernels/grpo_loss.ts) and their
// CPU reference (src/reference/grpo_loss.ts).

/** The policy loss of TRL v1.9 by loss_type: the clipped surrogate (grpo, bnpo, dr_grpo, dapo, luspo), cispo, sapo
 * or vespo (TRL 1.10's gamma-weighted sequence loss). */
export type GrpoLossKind = 'clip' | 'cispo' | 'sapo' | 'vespo';

/** VESPO's gamma weighting phi(w) = exp(lambda + k log w - lambda w), with (k, lambda) by the advantage's sign. */
export interface VespoParams {
  kPos: number;
  lambdaPos: number;
  kNeg: number;
  lambdaNeg: number;
}

export interface GrpoLossParams {
  epsilon: number;
  epsilonHigh: number;
  beta: number;
  /** default 'clip' */
  kind?: GrpoLossKind;
  /** 'sequence': GSPO's one ratio per completion (needs aux.seq); default 'token' */
  importanceSamplingLevel?: 'token' | 'sequence';
  /** at sequence level, the ratio is exp of the summed log-ratio instead of its mean (TRL's RLOOTrainer) */
  sequenceSum?: boolean;
  /** kind 'vespo' (default TRL's 2, 3, 3, 2); its weight needs aux.seq at either level */
  vespo?: VespoParams;
  /** upper cap of the unclipped ratio (two-sided clipping); null/undefined: none */
  delta?: number | null;
  /** SAPO's gate temperatures (default 1.0 and 1.05) */
  sapoTemperaturePos?: number;
  sapoTemperatureNeg?: number;
  /** tokens whose entropy is below this lose their policy loss (top_entropy_quantile; needs aux.entropy); null: none */
  entropyThreshold?: number | null;
  /** off_policy_mask_threshold: completions with A < 0 whose mean old_logp - logp exceeds it lose their policy loss
   * (DeepSeek-V3.2 eq. 9; needs aux.seq); null/undefined: off */
  offPolicyMaskThreshold?: number | null;
  /** use_bias_correction_kl: the k3 term times the importance ratio */
  biasCorrectionKl?: boolean;
}
