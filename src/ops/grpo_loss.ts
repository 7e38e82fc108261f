// The GRPO loss kernels' hyperparameters, shared by their wrappers (src/gpu/kernels/grpo_loss.ts) and their
// CPU reference (src/reference/grpo_loss.ts).

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
