// The SFT term inside an RL step (sft_coef, sft_column, sft_on): which prompts of the step get it and their
// reference answers as supervised examples. The step's loss becomes the policy loss + sft_coef × the mean NLL
// of those answers' tokens (crossEntropyGrads in sft.ts adds its gradient before the optimizer steps).
// sft_on "all" is a fixed-weight single-stage SFT + RL mix (SRFT, arXiv 2506.19767, weights it by entropy);
// "zero_reward_groups" trains only on the prompts whose completions all got reward 0, the questions RL has no
// signal on (ReLIFT, arXiv 2506.07527, fine-tunes on such "hardest" questions in separate interleaved steps).

import type { SftOn } from './config/enums';
import type { Tokenizer } from '../model/tokenizer';
import type { PromptExample, RolloutGroup } from './rollout';
import { sftTargetIds, type SftExample } from './sft';

/** The groups the term covers: every group, or those whose completions' rewards are all exactly 0. */
export function sftTermGroups<G extends { completions: readonly { reward: number }[] }>(groups: readonly G[], on: SftOn): G[] {
  if (on === 'all') return [...groups];
  return groups.filter((g) => g.completions.length > 0 && g.completions.every((c) => c.reward === 0));
}

/** A prompt's reference answer: its row's `column` (null: the dataset's answer column), as text. */
export function referenceAnswer(prompt: Pick<PromptExample, 'answer' | 'raw'>, column: string | null): string {
  if (column === null) return prompt.answer;
  const v = prompt.raw?.[column];
  if (v === undefined || v === null) throw new Error(`sft_column "${column}": the row has no such column (its columns: ${Object.keys(prompt.raw ?? {}).join(', ') || 'none'})`);
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new Error(`sft_column "${column}": expected text, got ${Array.isArray(v) ? 'a list' : typeof v}`);
}

/** The term's supervised examples for `groups` (one per prompt; an empty answer without a stop token gives none),
 * their target ids cached per prompt. */
export function sftTermExamples(
  groups: readonly Pick<RolloutGroup, 'prompt'>[],
  column: string | null,
  tokenizer: Tokenizer,
  cache: Map<PromptExample, number[]>,
  /** max_completion_length: longer answers keep their start */
  maxLength = Infinity,
): SftExample[] {
  return groups.flatMap((g) => {
    let ids = cache.get(g.prompt);
    if (!ids) {
      ids = sftTargetIds(tokenizer, referenceAnswer(g.prompt, column), maxLength);
      cache.set(g.prompt, ids);
    }
    return ids.length > 0 ? [{ prompt: g.prompt.ids, answer: ids }] : [];
  });
}
