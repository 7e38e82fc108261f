// Named algorithm recipes. Each sets the same loss-related fields, so picking one after another never
// leaves a setting of the previous recipe behind; sizes (G, lengths, learning rate) stay the user's,
// since the papers' values are for large models on many GPUs.

import { cloneConfig, type GrpoConfig } from './config';

export interface Preset {
  id: string;
  name: string;
  description: string;
  overrides: Partial<GrpoConfig>;
}

export const PRESETS: readonly Preset[] = [
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
];

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
