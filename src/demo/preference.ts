// The built-in preference demo: the reverse demo's prompts (never in the pretraining corpus) as pairs of the
// right reversal (chosen) against the slipped one the corpus taught tiny-puzzles as a habit, its last two
// letters swapped (rejected). `npm run demo:report -- --demo dpo` measures it (scripts/demo_report_dpo.ts);
// the page offers the same pairs as public/datasets/reverse_pairs.jsonl with dpoDemoConfig().

import type { GrpoConfig } from '../grpo/config';

export interface PreferencePair {
  prompt: string;
  chosen: string;
  rejected: string;
}

/** The slipped reversal the corpus taught (its last two letters swapped). */
export function slipped(answer: string): string {
  return answer.length < 2 ? answer : answer.slice(0, -2) + answer[answer.length - 1] + answer[answer.length - 2];
}

/** The demo's pairs of prompt/answer rows; a row whose slip is the same string (its last two letters equal)
 * gives no pair and is left out. */
export function reversePairs(rows: readonly { prompt: string; answer: string }[]): PreferencePair[] {
  return rows.filter((r) => slipped(r.answer) !== r.answer).map((r) => ({ prompt: r.prompt, chosen: r.answer, rejected: slipped(r.answer) }));
}

/** JSONL text of pairs: one {"prompt", "chosen", "rejected"} object per line (TRL's preference format). */
export function pairsJsonl(pairs: readonly PreferencePair[]): string {
  return pairs.map((p) => JSON.stringify({ prompt: p.prompt, chosen: p.chosen, rejected: p.rejected })).join('\n') + '\n';
}

/** The demo's preference config: the reverse demo's (`base`), with DPO's loss. */
export function dpoDemoConfig(base: GrpoConfig): GrpoConfig {
  // the sft term (RPO: DPO plus the chosen completions' NLL) keeps the right reversal likely: with DPO alone both
  // log-probs fall and greedy accuracy collapses while the pair accuracy reaches 100% (measured: 59% at step 25, 3% at 75)
  return { ...base, algorithm: 'dpo', beta: 0.1, dpo_loss_type: 'sigmoid', sft_loss_weight: 1, max_steps: 200, eval_interval: 25, eval_temperature: 0 };
}
