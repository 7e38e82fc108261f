// Per-token weights that carry loss_type's aggregation, so that the total loss is sum_t w_t * loss_t over
// every token of every micro-batch of one optimizer step (GA = gradient accumulation steps):
//   grpo     w = 1 / (|o_i| * S_mb * GA)          mean over each sequence's tokens, then over sequences
//   bnpo     w = 1 / (tokens_mb * GA)             sum / active tokens of the micro-batch
//   dr_grpo  w = 1 / (S_mb * L_max * GA)          sum / (sequences * max_completion_length)
//   dapo     w = 1 / tokens_all                   sum / active tokens of the whole accumulated batch
//   luspo    w = 1 / (S_mb * GA)                  each completion's (sequence-level) loss times its length, mean
//   cispo, vespo as dapo; sapo as grpo (TRL 1.10)
// tokens_all is the whole generation batch's active tokens (TRL's num_items_in_batch): under steps_per_generation
// k > 1 it spans all k optimizer steps of the rollout, so each step's dapo/cispo loss is its share of one mean.
// The entropy bonus (entropy_coef) is normalised as TRL v1.9 does, over the tokens the policy loss keeps
// (mask x top_entropy_quantile's mask): by tokens_all for dapo and cispo, by the micro-batch's kept tokens (then
// / GA) for the others (entropyBonusWeight).
// |o_i|: active (unmasked) tokens of sequence i; a sequence with none contributes nothing.

export type { LossType } from './config/enums';
import type { LossType } from './config/enums';

/** Active token counts per sequence, grouped by micro-batch; batchTokens: the generation batch's active tokens
 * (default: these micro-batches'). Returns one weight per sequence (every active token of it). */
export function sequenceWeights(lossType: LossType, activeTokens: readonly (readonly number[])[], maxCompletionLength: number, batchTokens?: number): number[][] {
  const GA = activeTokens.length;
  const totalTokens = batchTokens ?? activeTokens.flat().reduce((a, b) => a + b, 0);
  return activeTokens.map((mb) => {
    const S = mb.length;
    const mbTokens = mb.reduce((a, b) => a + b, 0);
    return mb.map((n) => {
      if (n === 0) return 0;
      switch (lossType) {
        case 'grpo':
        case 'sapo': // TRL aggregates sapo as grpo
          return 1 / (n * S * GA);
        case 'bnpo':
          return 1 / (Math.max(mbTokens, 1) * GA);
        case 'dr_grpo':
          return 1 / (S * maxCompletionLength * GA);
        case 'luspo': // sum over its n tokens of the shared sequence loss = n x that loss; then / S / GA
          return 1 / (S * GA);
        case 'dapo':
        case 'cispo': // cispo and vespo as dapo
        case 'vespo':
          return 1 / Math.max(totalTokens, 1);
      }
    });
  });
}

/** The entropy bonus's weight on each kept token of a micro-batch: keptTokens are the micro-batch's tokens under
 * mask x entropy mask, GA the micro-batches of the step, batchTokens the generation batch's active tokens. */
export function entropyBonusWeight(lossType: LossType, keptTokens: number, GA: number, batchTokens: number): number {
  if (lossType === 'dapo' || lossType === 'cispo' || lossType === 'vespo') return 1 / Math.max(batchTokens, 1);
  return 1 / (Math.max(keptTokens, 1) * GA);
}

/** One weight per micro-batch for the entropy bonus of each of its active tokens, without an entropy mask. */
export function entropyWeights(lossType: LossType, activeTokens: readonly (readonly number[])[], batchTokens?: number): number[] {
  const GA = activeTokens.length;
  const totalTokens = batchTokens ?? activeTokens.flat().reduce((a, b) => a + b, 0);
  return activeTokens.map((mb) => entropyBonusWeight(lossType, mb.reduce((a, b) => a + b, 0), GA, totalTokens));
}
