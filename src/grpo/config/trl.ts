// Export in TRL's names (TRL v1.9 GRPOConfig / RLOOConfig, transformers v5 TrainingArguments, PEFT
// LoraConfig), derived from each schema entry's export decision. A field whose decision is `computed`
// must have its mapping function in TRL_MAPPINGS (the record is typed over exactly those fields), and a
// field without a decision does not compile (schema.ts).

import type { TrlDecision } from './fields';
import { CONFIG_KEYS, FIELDS, type ConfigKey, type ConfigSchema, type GrpoConfig } from './schema';

type ComputedKey = { [K in ConfigKey]: ConfigSchema[K]['trl'] extends { computed: readonly string[] } ? K : never }[ConfigKey];

/** The mapping functions of the `computed` fields: each returns the TRL keywords it writes. */
const TRL_MAPPINGS: { [K in ComputedKey]: (c: GrpoConfig) => Record<string, unknown> } = {
  // Hugging Face's "constant" ignores warmup; ours warms up first, which HF calls constant_with_warmup.
  lr_scheduler_type: (c) => ({ lr_scheduler_type: c.lr_scheduler_type === 'constant' && c.warmup_ratio > 0 ? 'constant_with_warmup' : c.lr_scheduler_type }),
  // src/grpo/schedule.ts warms up for ceil(warmup_ratio * max_steps) steps; a whole number is never read as a ratio
  warmup_ratio: (c) => ({ warmup_steps: Math.ceil(c.warmup_ratio * c.max_steps) }),
  prompts_per_step: (c) => ({ per_device_train_batch_size: c.prompts_per_step * c.num_generations }),
  steps_per_generation: (c) => ({ steps_per_generation: c.steps_per_generation * c.gradient_accumulation_steps }),
  reward_funcs: (c) => ({ reward_weights: c.reward_funcs.map((r) => r.weight) }),
  eval_split: (c) => (c.eval_split > 0 ? { eval_strategy: 'steps', eval_on_start: true } : { eval_strategy: 'no' }),
  eval_interval: (c) => (c.eval_split > 0 ? { eval_steps: c.eval_interval > 0 ? c.eval_interval : c.max_steps } : {}),
  // TRL requires the eval batch to hold whole groups of num_generations_eval (or num_generations) completions
  num_generations_eval: (c) => ({
    ...(c.num_generations_eval !== null ? { num_generations_eval: c.num_generations_eval } : {}),
    ...(c.eval_split > 0 ? { per_device_eval_batch_size: c.prompts_per_step * (c.num_generations_eval ?? c.num_generations) } : {}),
  }),
  // a curriculum is an order: TRL must not shuffle it away (the script orders the training split, trl_script.ts)
  curriculum: (c) => (c.curriculum === 'shuffle' ? {} : { shuffle_dataset: false }),
  checkpoint_interval: (c) => (c.checkpoint_interval > 0 ? { save_strategy: 'steps', save_steps: c.checkpoint_interval } : { save_strategy: 'no' }),
};

/** GRPOConfig keywords that TRL v1.9's RLOOConfig does not have (its RLOO loss has no such options). */
export const NOT_IN_RLOO_CONFIG: readonly string[] = [
  'loss_type',
  'scale_rewards',
  'importance_sampling_level',
  'delta',
  'sapo_temperature_pos',
  'sapo_temperature_neg',
  'vespo_k_pos',
  'vespo_lambda_pos',
  'vespo_k_neg',
  'vespo_lambda_neg',
  'off_policy_mask_threshold',
  'use_bias_correction_kl',
  'top_entropy_quantile',
  'entropy_coef',
  'multi_objective_aggregation',
  'max_tool_calling_iterations',
];

export interface TrlExport {
  /** which TRL trainer continues the run: GRPO, or RLOO for advantage_estimator "rloo" */
  trainer: 'GRPOTrainer' | 'RLOOTrainer';
  config_class: 'GRPOConfig' | 'RLOOConfig';
  /** keyword arguments of trl.GRPOConfig (or trl.RLOOConfig when trainer is RLOOTrainer) */
  grpo_config: Record<string, unknown>;
  /** keyword arguments of peft.LoraConfig */
  lora_config: Record<string, unknown>;
  /** the reward functions in order (their weights are grpo_config.reward_weights) */
  reward_funcs: { name: string; params: Record<string, unknown> }[];
  /** settings of this playground that TRL does not have (or that the chosen trainer lacks), with their values */
  not_in_trl: Record<string, unknown>;
  /** for each key of not_in_trl: what TRL lacks and what the script does instead */
  not_in_trl_why: Record<string, string>;
}

export function configToTrlJson(c: GrpoConfig): TrlExport {
  const rloo = c.advantage_estimator === 'rloo';
  const grpo: Record<string, unknown> = {};
  const lora: Record<string, unknown> = { task_type: 'CAUSAL_LM' };
  const notIn: Record<string, unknown> = {};
  const why: Record<string, string> = {};
  for (const key of CONFIG_KEYS) {
    const decision: TrlDecision = FIELDS[key].trl;
    if ('trl' in decision) {
      if (rloo && NOT_IN_RLOO_CONFIG.includes(decision.trl)) {
        notIn[key] = c[key];
        why[key] = 'TRL\'s RLOOConfig has no such setting (the script runs RLOOTrainer for advantage_estimator "rloo")';
      } else grpo[decision.trl] = c[key];
    } else if ('peft' in decision) {
      const v = c[key];
      lora[decision.peft] = Array.isArray(v) ? [...v] : v;
    } else if ('computed' in decision) {
      Object.assign(grpo, TRL_MAPPINGS[key as ComputedKey](c));
    } else {
      notIn[key] = c[key];
      why[key] = decision.notInTrl;
    }
  }
  grpo.logging_steps = 1;
  lora.bias = 'none';
  return {
    trainer: rloo ? 'RLOOTrainer' : 'GRPOTrainer',
    config_class: rloo ? 'RLOOConfig' : 'GRPOConfig',
    grpo_config: grpo,
    lora_config: lora,
    reward_funcs: c.reward_funcs.map((r) => ({ name: r.name, params: structuredClone(r.params) })),
    not_in_trl: notIn,
    not_in_trl_why: why,
  };
}
