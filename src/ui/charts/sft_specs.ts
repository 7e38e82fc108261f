// The supervised run's charts (algorithm "sft"), in TRL SFTTrainer's metric names: the loss (mean cross-entropy
// of the answer tokens), mean_token_accuracy (share of answer tokens the model's argmax predicts), entropy and
// num_tokens (tokens seen so far, prompt and answer); and, in a GRPO run with sft_coef, the SFT term's own curve.

import type { ChartSpec } from './MetricChart';

export const SFT_SPECS: ChartSpec[] = [
  { id: 'sft-loss', title: 'SFT loss', unit: 'nats / answer token', series: [{ key: 'loss', name: 'loss', color: '#c2255c' }] },
  {
    id: 'sft-accuracy',
    title: 'Mean token accuracy',
    unit: 'share of answer tokens',
    percent: true,
    series: [{ key: 'mean_token_accuracy', name: 'mean_token_accuracy', color: '#2b8a3e' }],
  },
  { id: 'sft-entropy', title: 'Entropy', unit: 'nats / token', series: [{ key: 'entropy', name: 'entropy', color: '#0b7285' }] },
  { id: 'sft-tokens', title: 'Tokens seen', unit: 'num_tokens', series: [{ key: 'num_tokens', name: 'num_tokens', color: '#1f5fbf' }] },
  { id: 'grad-norm', title: 'Gradient norm', unit: 'L2 norm', series: [{ key: 'grad_norm', name: 'grad_norm', color: '#c2255c' }] },
  { id: 'lr', title: 'Learning rate', unit: 'learning rate', series: [{ key: 'learning_rate', name: 'learning_rate', color: '#7048e8' }] },
];

/** GRPO with sft_coef > 0: the reference answers' NLL (before the coefficient) and how many prompts got it. */
export const SFT_TERM_SPEC: ChartSpec = {
  id: 'sft-term',
  title: 'SFT term (sft_coef)',
  unit: 'NLL / prompts',
  series: [
    { key: 'sft/loss', name: 'sft/loss', color: '#c2255c' },
    { key: 'sft/groups', name: 'sft/groups', color: '#e67700' },
  ],
};
