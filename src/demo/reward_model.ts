// The built-in reward-model (RLHF) demo: three reward models (algorithm "reward_model", each a LoRA and a
// scalar head on tiny-puzzles) trained on the preference demo's pairs (the right reversal against the habitual
// slipped one, src/demo/preference.ts), then GRPO on the main demo's prompts driven by them alone.
// `npm run demo:report -- --demo reward-model` measures it (scripts/demo_report_reward_model.ts).
//
// The GRPO configs list exact_match FIRST with weight 0 and the reward model second with weight 1: the
// training reward (combineRewards' weighted sum) is the reward model's score alone, while evaluation's pass
// (the first reward function's value >= 1, src/grpo/evaluate.ts) and rewards/exact_match/mean stay exact match,
// so the report can put the reward model's score beside the true accuracy and over-optimisation shows.

import type { GrpoConfig } from '../grpo/config';
import { demoConfig } from './builtin';

/** Where the report writes the reward adapters (PEFT SEQ_CLS folders), relative to the repository root. */
export const REWARD_DEMO_ADAPTER_DIRS = ['docs/demo/reward_model/rm1', 'docs/demo/reward_model/rm2', 'docs/demo/reward_model/rm3'] as const;

/** Seeds of the three reward models (LoRA and head initialisation, pair order). */
export const REWARD_DEMO_SEEDS = [1, 2, 3] as const;

/** A reward model's training config: the reverse demo's LoRA on tiny-puzzles, algorithm "reward_model". */
export function rewardModelTrainConfig(seed: number): GrpoConfig {
  const c = demoConfig('reverse');
  c.algorithm = 'reward_model';
  c.seed = seed;
  // 8 pairs per step, 240 steps (about 5 passes over the 392 training pairs), 5e-3 on a cosine schedule.
  // Measured (docs/demo/reward_model/report.json): held-out pair accuracy 85%, 95%, 72% for seeds 1-3 (120
  // steps gave 77%, 91%, 82%; 60 steps of 16 pairs at 1e-2 gave 56/53/64%); seed 3 peaked at 80% (step 160).
  // The pair differs only in the order of the last two letters, and the base model's last-token state holds
  // no linear trace of it (a logistic regression on the frozen states: 60% held-out), so the LoRA has to
  // build the comparison itself
  c.prompts_per_step = 8;
  c.gradient_accumulation_steps = 1;
  c.learning_rate = 5e-3;
  c.lr_scheduler_type = 'cosine';
  c.warmup_ratio = 0.05;
  c.max_steps = 240;
  c.eval_interval = 40;
  c.lora_target_modules = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
  return c;
}

/** The reward model the single-adapter GRPO run uses: the one with the best held-out pair accuracy (the first on
 * a tie), as an RLHF pipeline keeps its best reward-model checkpoint by validation accuracy. The held-out pairs are
 * the reward models' own validation set; GRPO's pass@1 is measured by exact match, which no reward model sees. */
export function bestRewardModel(pairAccuracies: readonly number[]): number {
  if (pairAccuracies.length === 0) throw new Error('bestRewardModel: no reward models');
  return pairAccuracies.reduce((best, a, k) => (a > pairAccuracies[best] ? k : best), 0);
}

/** The GRPO config driven by the reward adapters `adapters` (one: a single reward model; several: an ensemble
 * reduced by mean - std_coef x std). exact_match is first with weight 0: it judges pass@1, it does not train. */
export function rewardModelGrpoConfig(adapters: readonly string[], maxSteps = 200): GrpoConfig {
  const c = demoConfig('reverse');
  c.max_steps = maxSteps;
  // held-out pass@1 every 15 steps, so the report has the best point as well as the last: a learned reward is
  // over-optimised sooner or later (measured before at 3e-3: 39% -> 0% in 40 steps on reward models near 60%)
  c.eval_interval = 15;
  // 2e-3 (the main demo's 3e-3 follows a reward it cannot hack): a slower drift from the start
  c.learning_rate = 2e-3;
  c.reward_funcs = [
    { name: 'exact_match', weight: 0, params: {} },
    {
      name: 'reward_model',
      weight: 1,
      params: adapters.length > 1 ? { adapters: adapters.join(','), reduce: 'mean_minus_std', std_coef: 1 } : { adapters: adapters.join(','), reduce: 'mean' },
    },
  ];
  return c;
}
