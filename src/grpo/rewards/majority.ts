// Rewards that look at the whole group: majority_vote gives a completion 1 when its extracted answer is the
// group's most common extracted answer (self-consistency as a reward: Wang et al. 2022, "Self-Consistency
// Improves Chain of Thought Reasoning", arXiv 2203.11171; TTRL, Zuo et al. 2025, arXiv 2504.16084, which
// trains on majority-vote pseudo-labels). It needs no reference answer. The group is every completion of
// the same prompt in the step (RewardInfo.group_completions, the completion itself included).

import { defineReward } from './params';
import { extractAnswerTag, extractBoxed, extractFinalAnswer, lastNumber, normalizeText } from './text';
import type { RewardParams } from './types';

export type AnswerExtraction = 'auto' | 'tag' | 'number';

/**
 * The answer a completion gives, as a key that equal answers share; null when it gives none.
 * "auto": the last \boxed{} or <answer></answer>, else the whole completion (as exact_match reads it),
 * normalised like exact_match; "tag": only a \boxed{} or <answer></answer> counts; "number": the last number
 * of the \boxed{}, else of the <answer></answer>, else of the whole completion (as numeric_match reads it).
 */
export function answerKey(completion: string, extract: AnswerExtraction = 'auto', caseSensitive = false): string | null {
  if (extract === 'number') {
    const n = lastNumber(extractBoxed(completion) ?? extractAnswerTag(completion) ?? completion);
    return n === null ? null : String(n);
  }
  const final = extractFinalAnswer(completion);
  if (final === null && extract === 'tag') return null;
  const key = normalizeText(final ?? completion, { caseInsensitive: !caseSensitive, stripTrailingPunctuation: true });
  return key === '' ? null : key;
}

/** The answers given most often (every answer tied for the most votes); empty when no key is an answer. */
export function majorityAnswers(keys: readonly (string | null)[]): Set<string> {
  const counts = new Map<string, number>();
  for (const k of keys) if (k !== null) counts.set(k, (counts.get(k) ?? 0) + 1);
  const top = Math.max(0, ...counts.values());
  return new Set([...counts].filter(([, c]) => c === top).map(([k]) => k));
}

export const majorityVote = defineReward(
  'majority_vote',
  'Gives 1 when the completion\'s extracted answer is the most common extracted answer of its group (the ' +
    'num_generations completions of the same prompt), else 0; no reference answer is needed (self-consistency, ' +
    'TTRL). A completion that gives no answer scores 0 and does not vote. Ties: every answer tied for the most ' +
    'votes counts as the majority, so when all answers differ each answered completion scores 1 (and the group ' +
    'teaches nothing). In evaluation each completion is its own group.',
  [
    {
      name: 'extract',
      type: 'choice',
      choices: ['auto', 'tag', 'number'],
      default: 'auto',
      doc:
        '"auto": the content of the last \\boxed{...} or <answer>...</answer>, else the whole completion, normalised ' +
        'as exact_match does; "tag": only a \\boxed{} or <answer> counts (without one there is no answer); ' +
        '"number": the last number, read as numeric_match reads it (so "1,000" and "1000" agree).',
    },
    { name: 'case_sensitive', type: 'boolean', default: false, doc: 'Compare letters with their case; off by default.' },
  ],
  (completion, _answer, _prompt, p: RewardParams, info) => {
    const extract = p.extract as AnswerExtraction;
    const caseSensitive = p.case_sensitive as boolean;
    const own = answerKey(completion, extract, caseSensitive);
    if (own === null) return 0;
    const group = info.group_completions ?? [completion];
    return majorityAnswers(group.map((c) => answerKey(c, extract, caseSensitive))).has(own) ? 1 : 0;
  },
);
