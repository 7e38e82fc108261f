// The config's enumerations, declared once: each is a list of its values (for menus, checks and docs)
// and the union type of those values. Other modules (schedule, advantages, loss weights, the UI) import
// them from here rather than restating them.

import { LORA_MODULES, type LoraModule } from '../../model/lora';
import { LINEAR_ATTN_MODULES } from '../../model/weights_qwen35';

export const LR_SCHEDULER_TYPES = ['constant', 'linear', 'cosine'] as const;
export type LrSchedulerType = (typeof LR_SCHEDULER_TYPES)[number];

export const LOSS_TYPES = ['grpo', 'bnpo', 'dr_grpo', 'dapo', 'cispo', 'sapo', 'luspo', 'vespo'] as const;
export type LossType = (typeof LOSS_TYPES)[number];

export const SCALE_REWARDS = ['group', 'batch', 'none'] as const;
export type ScaleRewards = (typeof SCALE_REWARDS)[number];

export const LONG_PROMPTS = ['truncate_left', 'skip'] as const;
export type LongPrompts = (typeof LONG_PROMPTS)[number];

/** The order prompts are trained in (src/grpo/curriculum.ts). */
export const CURRICULA = ['shuffle', 'easy_to_hard', 'by_column'] as const;
export type Curriculum = (typeof CURRICULA)[number];

/** How a multi-turn episode's reward reaches its tokens (src/grpo/step_credit.ts). */
export const STEP_ADVANTAGES = ['episode', 'per_turn_discounted'] as const;
export type StepAdvantage = (typeof STEP_ADVANTAGES)[number];

/** How a process reward's per-step scores are used (src/grpo/step_credit.ts). */
export const PROCESS_CREDITS = ['min', 'per_step'] as const;
export type ProcessCredit = (typeof PROCESS_CREDITS)[number];

/** PEFT target modules by the checkpoints' own names: the seven Llama projections (src/model/lora.ts) and
 * Qwen3.5's linear-attention projections (src/model/weights_qwen35.ts); which a model has: modelLoraModules. */
export const LORA_TARGET_MODULES: readonly LoraModule[] = [...LORA_MODULES, ...LINEAR_ATTN_MODULES];
export type LoraTargetModule = LoraModule;

export const IMPORTANCE_SAMPLING_LEVELS = ['token', 'sequence'] as const;
export type ImportanceSamplingLevel = (typeof IMPORTANCE_SAMPLING_LEVELS)[number];

export const MULTI_OBJECTIVE_AGGREGATIONS = ['sum_then_normalize', 'normalize_then_sum'] as const;
export type MultiObjectiveAggregation = (typeof MULTI_OBJECTIVE_AGGREGATIONS)[number];

export const ADVANTAGE_ESTIMATORS = ['grpo', 'rloo', 'reinforce_pp', 'reinforce_pp_verl'] as const;
export type AdvantageEstimator = (typeof ADVANTAGE_ESTIMATORS)[number];

export const ALGORITHMS = ['grpo', 'expert_iteration', 'dpo', 'simpo', 'orpo', 'kto', 'online_dpo', 'reward_model', 'sft'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

/** The offline preference algorithms: trained on a preference dataset by src/grpo/preference/trainer.ts
 * (reward_model: by src/grpo/reward_model/trainer.ts, a scalar head on the same pairs). */
export const PREFERENCE_ALGORITHMS = ['dpo', 'simpo', 'orpo', 'kto', 'reward_model'] as const;
export type PreferenceAlgorithm = (typeof PREFERENCE_ALGORITHMS)[number];
export function isPreferenceAlgorithm(a: Algorithm): a is PreferenceAlgorithm {
  return (PREFERENCE_ALGORITHMS as readonly string[]).includes(a);
}

/** DPOConfig's loss_type values offered (TRL v1.9 dpo_trainer.py _compute_loss). */
export const DPO_LOSS_TYPES = ['sigmoid', 'ipo', 'hinge', 'robust'] as const;
export type DpoLossType = (typeof DPO_LOSS_TYPES)[number];

/** Which prompts of a GRPO step the SFT term (sft_coef) covers: all of them (SRFT-style single-stage mix) or only
 * the groups whose rewards are all zero (ReLIFT-style: supervised learning on the questions RL cannot solve). */
export const SFT_ON = ['all', 'zero_reward_groups'] as const;
export type SftOn = (typeof SFT_ON)[number];

export const BASE_PRECISIONS = ['auto', 'f32', 'bf16', 'f16', 'q8_0', 'q4_k', 'nf4', 'nf4_dq'] as const;
export type BasePrecision = (typeof BASE_PRECISIONS)[number];

export const KV_PRECISIONS = ['auto', 'f32', 'bf16', 'f16'] as const;
export type KvPrecision = (typeof KV_PRECISIONS)[number];

/** share_prompt_prefix: prefill each prompt once per group of num_generations rows */
export const SHARE_PREFIX_MODES = ['auto', 'on', 'off'] as const;
export type SharePrefixMode = (typeof SHARE_PREFIX_MODES)[number];

export const RECOMPUTE_MODES = ['auto', 'on', 'off'] as const;
export type RecomputeMode = (typeof RECOMPUTE_MODES)[number];
