// Every built-in reward by name, with its documentation and parameters (the UI renders both), plus the
// parameters of the user's own JavaScript reward ('custom'). A config's reward_funcs entries name these.

import { contains, exactMatch, numericMatch, partialCredit } from './match';
import { format, lengthPenalty, softOverlong } from './shape';
import { majorityVote } from './majority';
import { checkRewardParams } from './params';
import type { RewardFuncEntry, RewardParamSpec } from './types';

export const REWARD_FUNCS = {
  exact_match: exactMatch,
  numeric_match: numericMatch,
  contains,
  format,
  length_penalty: lengthPenalty,
  soft_overlong: softOverlong,
  partial_credit: partialCredit,
  majority_vote: majorityVote,
} satisfies Record<string, RewardFuncEntry>;

export type BuiltinRewardName = keyof typeof REWARD_FUNCS;
export const BUILTIN_REWARD_NAMES = Object.keys(REWARD_FUNCS) as BuiltinRewardName[];

export const CUSTOM_REWARD_NAME = 'custom';
export const DEFAULT_CUSTOM_TIMEOUT_MS = 2000;

export const CUSTOM_REWARD: { doc: string; params: readonly RewardParamSpec[] } = {
  doc:
    'Your own JavaScript: a function (prompt, completion, answer, row, group) => number | null, where row is the ' +
    'dataset row with all its columns and group is the list of the completions of the same prompt in this step ' +
    '(this one included; in evaluation just this one), so a reward can compare a completion with its group. It runs in a separate worker with no network or storage access; a ' +
    'call that throws, returns something other than a finite number or null, or does not finish in time ' +
    'scores null (not applicable) for that batch and is reported, without stopping the run.',
  params: [
    {
      name: 'source',
      type: 'string',
      default: '(prompt, completion, answer, row) => (completion.includes(answer) ? 1 : 0)',
      doc: 'A JavaScript function expression, e.g. (prompt, completion, answer) => completion.length < 200 ? 1 : 0',
    },
    { name: 'timeout_ms', type: 'integer', min: 1, default: DEFAULT_CUSTOM_TIMEOUT_MS, doc: 'Time allowed for one batch of completions before the worker is stopped and restarted.' },
  ],
};

/** A trained reward model (algorithm "reward_model") as a reward: src/grpo/reward_model/scorer.ts scores
 * completions with the policy's own frozen base weights and the reward adapter's LoRA + head. */
export const REWARD_MODEL_NAME = 'reward_model';
export const REWARD_MODEL_REWARD: { doc: string; params: readonly RewardParamSpec[] } = {
  doc:
    'A trained reward model: the adapter of a run with algorithm "reward_model" (its LoRA and scalar head), run over ' +
    'prompt + completion with the same frozen base weights as the policy (no second copy of the model). Several ' +
    'adapters make an ensemble, reduced by their mean, their min, or mean - std_coef x std (penalising disagreement, ' +
    'which guards against over-optimising one reward model).',
  params: [
    { name: 'adapters', type: 'string', default: '', doc: 'The reward adapters, separated by commas: adapter folders (command line) or saved runs (page).' },
    { name: 'reduce', type: 'choice', choices: ['mean', 'min', 'mean_minus_std'], default: 'mean', doc: 'How an ensemble\'s scores become one reward.' },
    { name: 'std_coef', type: 'number', min: 0, default: 1, doc: 'lambda of "mean_minus_std": reward = mean - lambda x std over the ensemble.' },
  ],
};

/** The adapters a reward_model entry names (its comma-separated `adapters` parameter). */
export function rewardModelAdapters(params: Record<string, unknown>): string[] {
  const a = params.adapters;
  return typeof a === 'string' ? a.split(',').map((s) => s.trim()).filter(Boolean) : [];
}

export function isBuiltinReward(name: string): name is BuiltinRewardName {
  return Object.prototype.hasOwnProperty.call(REWARD_FUNCS, name);
}

/** Parameter list of a built-in or 'custom' reward; undefined for an unknown name. */
export function rewardParamSpecs(name: string): readonly RewardParamSpec[] | undefined {
  if (isBuiltinReward(name)) return REWARD_FUNCS[name].params;
  if (name === CUSTOM_REWARD_NAME) return CUSTOM_REWARD.params;
  if (name === REWARD_MODEL_NAME) return REWARD_MODEL_REWARD.params;
  return undefined;
}

/** Problems with the params of a reward named `name` (which must exist). */
export function checkParamsFor(name: string, params: unknown): string[] {
  const specs = rewardParamSpecs(name);
  if (!specs) return [];
  return checkRewardParams(name, specs, params);
}
