// The preference algorithms' charts (DPO, SimPO, ORPO, KTO, online DPO), in TRL's metric names: the
// chosen and rejected completions' log-probs side by side (when both fall the model is only pushing the
// rejected down faster: the margin grows while the chosen answer gets less likely, a known DPO failure),
// the implicit rewards with their margin, and the pair accuracy in training and on held-out pairs.

import type { ChartSpec } from './MetricChart';

const CHOSEN = '#2b8a3e';
const REJECTED = '#d9480f';

export const PREFERENCE_SPECS: ChartSpec[] = [
  {
    id: 'pref-logps',
    title: 'Log-probs: chosen vs rejected',
    unit: 'summed log-prob per completion',
    series: [
      { key: 'logps/chosen', name: 'logps/chosen', color: CHOSEN },
      { key: 'logps/rejected', name: 'logps/rejected', color: REJECTED },
    ],
    note: 'Both falling means the margin grows only because the rejected completion falls faster: the chosen answer gets less likely too.',
  },
  {
    id: 'pref-rewards',
    title: 'Implicit rewards',
    unit: 'beta x log-ratio',
    series: [
      { key: 'rewards/chosen', name: 'rewards/chosen', color: CHOSEN },
      { key: 'rewards/rejected', name: 'rewards/rejected', color: REJECTED },
      { key: 'rewards/margins', name: 'rewards/margins', color: '#1f5fbf' },
    ],
  },
  {
    id: 'pref-accuracy',
    title: 'Pair accuracy',
    unit: 'chosen reward above rejected',
    percent: true,
    series: [
      { key: 'eval_rewards/accuracies', name: 'held-out pairs', color: CHOSEN },
      { key: 'rewards/accuracies', name: 'train batch', color: '#7048e8' },
    ],
  },
];

/** A reward model's training (algorithm reward_model, TRL's RewardTrainer metrics): how often the chosen
 * completion out-scores the rejected one, and the rewards' margin and spread. */
export const REWARD_MODEL_SPECS: ChartSpec[] = [
  {
    id: 'rm-accuracy',
    title: 'Reward model: pair accuracy',
    unit: 'r(chosen) above r(rejected)',
    percent: true,
    series: [
      { key: 'eval_accuracy', name: 'held-out pairs', color: CHOSEN },
      { key: 'accuracy', name: 'train batch', color: '#7048e8' },
    ],
  },
  {
    id: 'rm-rewards',
    title: 'Reward model: rewards',
    unit: 'scalar reward',
    series: [
      { key: 'margin', name: 'margin', color: '#1f5fbf' },
      { key: 'mean_reward', name: 'mean_reward', color: CHOSEN },
      { key: 'min_reward', name: 'min_reward', color: REJECTED },
      { key: 'max_reward', name: 'max_reward', color: '#7048e8' },
    ],
    note: 'A reward model is its ranking of pairs: its scale is free (center_rewards_coefficient pulls the mean towards 0).',
  },
];
