// Named algorithm recipes. Each sets the same loss-related fields (RECIPE_FIELDS), so picking one after
// another never leaves a setting of the previous recipe behind; sizes (G, lengths, learning rate) stay
// the user's, since the papers' values are for large models on many GPUs (except the TRL default's group size
// and learning rate, which track TRL's GRPOConfig).

import { cloneConfig, type GrpoConfig } from './config';

export interface Preset {
  id: string;
  name: string;
  description: string;
  overrides: Partial<GrpoConfig>;
}

/** The loss-related settings every preset sets (the issue-15 fields at their defaults unless the recipe changes them). */
const BASE: Partial<GrpoConfig> = {
  importance_sampling_level: 'token',
  delta: null,
  top_entropy_quantile: 1.0,
  entropy_coef: 0,
  sapo_temperature_pos: 1.0,
  sapo_temperature_neg: 1.05,
  vespo_k_pos: 2.0,
  vespo_lambda_pos: 3.0,
  vespo_k_neg: 3.0,
  vespo_lambda_neg: 2.0,
  off_policy_mask_threshold: null,
  use_bias_correction_kl: false,
  steps_per_generation: 1,
  advantage_estimator: 'grpo',
  algorithm: 'grpo',
  expert_reward_threshold: 1.0,
};

const PRESETS_LIST: Preset[] = [
  {
    id: 'grpo',
    name: 'GRPO (DeepSeekMath)',
    description:
      'The original GRPO of DeepSeekMath (Shao et al. 2024, arXiv 2402.03300): advantages scaled by each group\'s ' +
      'standard deviation, each completion\'s loss averaged over its own tokens, and a KL penalty with ' +
      'coefficient 0.04 towards the starting model (the paper\'s value; it costs a reference forward pass). ' +
      'Symmetric clipping with epsilon 0.2 (TRL\'s default).',
    overrides: {
      loss_type: 'grpo',
      scale_rewards: 'group',
      beta: 0.04,
      epsilon: 0.2,
      epsilon_high: 0.2,
      mask_truncated_completions: false,
      dynamic_sampling: false,
    },
  },
  {
    id: 'dr_grpo',
    name: 'Dr. GRPO',
    description:
      'GRPO "done right" (Liu et al. 2025, "Understanding R1-Zero-Like Training: A Critical Perspective", arXiv ' +
      '2503.20783): it removes two biases. Per-token losses are summed and divided by a constant ' +
      '(completions × max_completion_length) instead of each completion\'s length, so long wrong answers are not ' +
      'punished less per token; and advantages are not divided by the group\'s standard deviation, which ' +
      'over-weights questions that are almost always right or wrong. No KL penalty (beta 0), as in TRL\'s ' +
      'reproduction of the paper.',
    overrides: {
      loss_type: 'dr_grpo',
      scale_rewards: 'none',
      beta: 0,
      epsilon: 0.2,
      epsilon_high: 0.2,
      mask_truncated_completions: false,
      dynamic_sampling: false,
    },
  },
  {
    id: 'dapo',
    name: 'DAPO',
    description:
      'DAPO (Yu et al. 2025, arXiv 2503.14476): clip-higher (epsilon 0.2 below, epsilon_high 0.28 above) to keep ' +
      'exploring; dynamic sampling, dropping groups whose rewards are all equal; a token-level loss over the whole ' +
      'batch; overlong filtering (truncated completions left out of the loss); no KL penalty (beta 0). The paper ' +
      'also adds a soft overlong punishment reward: add soft_overlong to the rewards for the full recipe.',
    overrides: {
      loss_type: 'dapo',
      scale_rewards: 'group',
      beta: 0,
      epsilon: 0.2,
      epsilon_high: 0.28,
      mask_truncated_completions: true,
      dynamic_sampling: true,
    },
  },
  {
    id: 'trl_default',
    name: 'TRL default (v1.9)',
    description:
      'What TRL\'s GRPOTrainer does out of the box (GRPOConfig\'s defaults, v1.9 / 1.10.dev, July 2026): the DAPO token-level loss ' +
      '(loss_type "dapo", normalised by the whole batch\'s active tokens, from DAPO, Yu et al. 2025, arXiv 2503.14476), no KL ' +
      'penalty (beta 0), symmetric clipping at 0.2, advantages scaled by the group\'s standard deviation (DeepSeekMath, Shao et ' +
      'al. 2024, arXiv 2402.03300), 8 completions per prompt, no overlong filtering and no dynamic sampling. The learning rate ' +
      'is 1e-5, not TRL\'s 1e-6: that default is for full fine-tuning, and LoRA\'s best learning rate is about 10 times full ' +
      'fine-tuning\'s ("LoRA Without Regret", Schulman et al., Thinking Machines 2025, which TRL\'s LoRA guide follows). ' +
      'Lengths stay yours.',
    overrides: {
      num_generations: 8,
      learning_rate: 1e-5,
      loss_type: 'dapo',
      scale_rewards: 'group',
      beta: 0,
      epsilon: 0.2,
      epsilon_high: 0.2,
      mask_truncated_completions: false,
      dynamic_sampling: false,
    },
  },
  {
    id: 'gspo',
    name: 'GSPO',
    description:
      'Group Sequence Policy Optimization (Zheng et al. 2025, Qwen team, arXiv 2507.18071): one importance ratio per ' +
      'completion (the geometric mean of its token ratios) instead of one per token, clipped very tightly (epsilon 3e-4, ' +
      'epsilon_high 4e-4), so whole completions are kept or dropped; no KL penalty. TRL\'s paper-index recipe: loss_type ' +
      '"grpo", importance_sampling_level "sequence", and steps_per_generation 4 so that each rollout feeds four optimizer ' +
      'steps and the ratios move away from 1.',
    overrides: {
      loss_type: 'grpo',
      importance_sampling_level: 'sequence',
      scale_rewards: 'group',
      beta: 0,
      epsilon: 3e-4,
      epsilon_high: 4e-4,
      steps_per_generation: 4,
      mask_truncated_completions: false,
      dynamic_sampling: false,
    },
  },
  {
    id: 'cispo',
    name: 'CISPO',
    description:
      'Clipped IS-weight Policy Optimization from MiniMax-M1 (MiniMax 2025, arXiv 2506.13585): instead of dropping the ' +
      'gradient of tokens whose ratio left the clip range, it keeps every token\'s gradient and clips the (detached) ' +
      'importance weight itself, min(rho, epsilon_high) with epsilon_high 5.0 (TRL\'s recommendation, after ScaleRL), so rare ' +
      '"fork" tokens still learn. Token-level loss over the batch, advantages scaled by the batch\'s standard deviation ' +
      '(scale_rewards "batch", as TRL\'s ScaleRL recipe), no KL; steps_per_generation 4 so the weights are live.',
    overrides: {
      loss_type: 'cispo',
      scale_rewards: 'batch',
      beta: 0,
      epsilon: 0.2,
      epsilon_high: 5.0,
      steps_per_generation: 4,
      mask_truncated_completions: false,
      dynamic_sampling: false,
    },
  },
  {
    id: 'sapo',
    name: 'SAPO',
    description:
      'Soft Adaptive Policy Optimization (Gao et al. 2025, Qwen team, arXiv 2511.20347): a smooth sigmoid gate ' +
      'sigmoid(tau (rho - 1)) 4 / tau replaces hard clipping, fading a token\'s gradient as its ratio leaves 1 rather than ' +
      'cutting it, with a slightly higher temperature for negative advantages (1.05 against 1.0). Per-sequence mean loss, no ' +
      'KL; steps_per_generation 4 so the gate acts.',
    overrides: {
      loss_type: 'sapo',
      scale_rewards: 'group',
      beta: 0,
      epsilon: 0.2,
      epsilon_high: 0.2,
      sapo_temperature_pos: 1.0,
      sapo_temperature_neg: 1.05,
      steps_per_generation: 4,
      mask_truncated_completions: false,
      dynamic_sampling: false,
    },
  },
  {
    id: 'rloo',
    name: 'RLOO',
    description:
      'REINFORCE Leave-One-Out (Ahmadian et al. 2024, "Back to Basics", arXiv 2402.14740; TRL has it as its own RLOOTrainer): ' +
      'each completion\'s baseline is the mean reward of the other G - 1 completions of its prompt, with no division by a ' +
      'standard deviation. It trains as TRL\'s RLOOTrainer (which the export runs): one ratio per completion, the exp of its ' +
      'summed log-ratio, clipped at 1 ± 0.2, and the mean of the per-completion losses; beta 0 here (with beta > 0, as in TRL, ' +
      'beta times the completion\'s summed KL to the starting model is taken off its reward).',
    overrides: {
      loss_type: 'grpo',
      advantage_estimator: 'rloo',
      scale_rewards: 'none',
      beta: 0,
      epsilon: 0.2,
      epsilon_high: 0.2,
      mask_truncated_completions: false,
      dynamic_sampling: false,
    },
  },
  {
    id: 'reinforce_pp',
    name: 'REINFORCE++',
    description:
      'REINFORCE++ with baseline (Hu 2025, arXiv 2501.03262; OpenRLHF and verl\'s "reinforce_plus_plus_baseline"): the ' +
      'group mean is subtracted from each reward and the result is divided by the standard deviation over the whole batch, ' +
      'not per group, which the paper finds more stable across prompts of different difficulty. Token-level loss, PPO ' +
      'clipping at 0.2, no KL term in the loss.',
    overrides: {
      loss_type: 'dapo',
      advantage_estimator: 'reinforce_pp',
      scale_rewards: 'batch',
      beta: 0,
      epsilon: 0.2,
      epsilon_high: 0.2,
      mask_truncated_completions: false,
      dynamic_sampling: false,
    },
  },
  {
    id: 'expert_iteration',
    name: 'Expert iteration',
    description:
      'Expert iteration, or rejection-sampling fine-tuning (Anthony et al. 2017; compared with PPO-style GRPO in "Echo ' +
      'Chamber: RL Post-training Amplifies Behaviors Learned in Pretraining", Zhao et al. 2025, arXiv 2504.07912): sample ' +
      'num_generations completions per prompt, keep those whose reward reaches expert_reward_threshold (1.0: fully correct), ' +
      'and train on them with the supervised cross-entropy. No advantages, ratios or clipping.',
    overrides: {
      algorithm: 'expert_iteration',
      expert_reward_threshold: 1.0,
      loss_type: 'dapo',
      scale_rewards: 'group',
      beta: 0,
      epsilon: 0.2,
      epsilon_high: 0.2,
      mask_truncated_completions: false,
      dynamic_sampling: false,
    },
  },
];

// every preset sets every issue-15 field, so switching recipes leaves nothing behind
export const PRESETS: readonly Preset[] = PRESETS_LIST.map((p) => ({ ...p, overrides: { ...BASE, ...p.overrides } }));

export function findPreset(id: string): Preset | undefined {
  return PRESETS.find((p) => p.id === id);
}

/** A copy of `config` with the preset's settings applied. */
export function applyPreset(config: Readonly<GrpoConfig>, id: string): GrpoConfig {
  const preset = findPreset(id);
  if (!preset) throw new Error(`unknown preset ${JSON.stringify(id)}; the presets are ${PRESETS.map((p) => p.id).join(', ')}`);
  return cloneConfig({ ...config, ...preset.overrides });
}

/** The preset whose settings the config has exactly, if any (for showing which recipe is active). */
export function matchingPreset(config: Readonly<GrpoConfig>): Preset | undefined {
  return PRESETS.find((p) => (Object.keys(p.overrides) as (keyof GrpoConfig)[]).every((k) => config[k] === p.overrides[k]));
}
