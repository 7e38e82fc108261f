// Reward functions: the built-ins and their registry, combining several into one reward, and the user's
// own JavaScript reward in a sandboxed worker.

export type { RewardFn, RewardFuncEntry, RewardInfo, RewardParams, RewardParamSpec, RewardParamType } from './types';
export {
  REWARD_FUNCS,
  BUILTIN_REWARD_NAMES,
  CUSTOM_REWARD,
  CUSTOM_REWARD_NAME,
  DEFAULT_CUSTOM_TIMEOUT_MS,
  checkParamsFor,
  isBuiltinReward,
  rewardParamSpecs,
  type BuiltinRewardName,
} from './registry';
export { checkRewardParams, withDefaults } from './params';
export { combineRewards, combineRewardsDetailed, type CombinedRewards } from './combine';
export { CustomReward, checkCustomRewardSource, checkCustomRewardSourceInSandbox, type CustomRewardOptions, type CustomRewardResult } from './custom';
export type { SandboxRow, SandboxFactory, SandboxHandle } from './sandbox_core';
export { referenceAnswer } from './match';
export { answerKey, majorityAnswers, type AnswerExtraction } from './majority';
export { DEFAULT_FORMAT_PATTERN } from './shape';
export { extractAnswerTag, extractBoxed, extractFinalAnswer, findNumbers, lastNumber, levenshtein, normalizeText } from './text';
