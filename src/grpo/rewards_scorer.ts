// The trainer's view of reward functions: score a batch of completions with every configured function
// (built-ins in place, a custom JavaScript reward in its sandbox worker). null means "not applicable"
// (TRL): it is skipped in the weighted sum (rewards/combine.ts).

import type { RewardFuncConfig } from './config';
import { CUSTOM_REWARD_NAME, CustomReward, REWARD_FUNCS, isBuiltinReward, withDefaults, rewardParamSpecs } from './rewards';
import { REWARD_MODEL_NAME } from './rewards/registry';

/** A reward_model entry's scorer (src/grpo/reward_model/scorer.ts), by the entry's index in reward_funcs: it
 * needs the GPU and the model, so the caller that holds them builds it. */
export type RewardModelScorers = ReadonlyMap<number, (items: RewardItem[]) => Promise<(number | null)[]>>;

export interface RewardItem {
  prompt: string;
  completion: string;
  answer: string;
  row: Record<string, unknown>;
  completionTokens: number;
  /** the prompt's and the completion's token ids (the completion with its stop token when it stopped), for
   * rewards that read tokens (a reward model); absent where a caller has none */
  promptIds?: readonly number[];
  completionIds?: readonly number[];
  /** the completions of this item's group (the same prompt's samples in this step, this one included);
   * absent: the item is its own group */
  group?: readonly string[];
}

export interface RewardScores {
  /** [function][item] */
  perFunc: (number | null)[][];
  /** [function][item]: a process reward's per-step scores (step_separator; the column's value is their minimum),
   * null where the function returned one number */
  stepScores?: (number[] | null)[][];
  /** what failed: custom code that threw, returned a non-number or timed out; a built-in that threw */
  errors: string[];
}

export interface RewardScorer {
  readonly names: string[];
  readonly weights: number[];
  score(items: RewardItem[]): Promise<RewardScores>;
  dispose(): void;
}

type Scorer = (items: RewardItem[]) => Promise<{ values: (number | null)[]; errors: string[]; steps?: (number[] | null)[] }>;

/** The steps of a completion for a process reward: its text cut after each step_separator, a trailing empty
 * piece dropped; each step's [start, end) in characters (the separator belongs to the step it ends). */
export function splitSteps(text: string, separator: string): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  let start = 0;
  for (;;) {
    const at = separator ? text.indexOf(separator, start) : -1;
    if (at < 0) break;
    out.push({ start, end: at + separator.length });
    start = at + separator.length;
  }
  if (start < text.length || out.length === 0) out.push({ start, end: text.length });
  return out;
}

export interface RewardScorerOptions {
  /** the config's max_completion_length (the built-in rewards that read it, a custom reward's context) */
  maxCompletionLength: number;
  /** reward_model entries' scorers by their index in reward_funcs (none: a reward_model entry is an error) */
  rewardModels?: RewardModelScorers;
  /** the config's step_separator: a custom reward may then return one score per step (null: one score) */
  stepSeparator?: string | null;
}

/** Builds the scorer for a config's reward_funcs (names are made unique: numeric_match, numeric_match_2, ...).
 * With stepSeparator, a custom reward may return a list with one score per step of the completion (process
 * rewards); the column's value is the list's minimum and the list is kept in stepScores. */
export function createRewardScorer(funcs: readonly RewardFuncConfig[], opts: RewardScorerOptions): RewardScorer {
  const { maxCompletionLength, rewardModels = new Map(), stepSeparator = null } = opts;
  if (funcs.length === 0) throw new Error('reward_funcs is empty: add at least one reward function');
  const names: string[] = [];
  const scorers: Scorer[] = [];
  const customs: CustomReward[] = [];
  for (const [index, f] of funcs.entries()) {
    let name = f.name;
    for (let k = 2; names.includes(name); k++) name = `${f.name}_${k}`;
    names.push(name);
    if (f.name === REWARD_MODEL_NAME) {
      const rm = rewardModels.get(index);
      if (!rm) throw new Error(`reward_funcs[${index}] (reward_model): its reward adapters were not loaded (this caller cannot run a reward model)`);
      scorers.push(async (items) => {
        try {
          return { values: await rm(items), errors: [] };
        } catch (e) {
          return { values: items.map(() => null), errors: [`${name}: ${(e as Error).message}`] };
        }
      });
    } else if (f.name === CUSTOM_REWARD_NAME) {
      const p = withDefaults(f.name, rewardParamSpecs(f.name)!, f.params);
      const custom = new CustomReward(String(p.source), { timeoutMs: Number(p.timeout_ms) });
      customs.push(custom);
      scorers.push(async (items) => {
        const r = await custom.evaluate(
          items.map((it) => ({ prompt: it.prompt, completion: it.completion, answer: it.answer, row: it.row, group_completions: [...(it.group ?? [it.completion])] })),
        );
        const errors = r.errors.map((e) => `${name}: ${e}`);
        const steps: (number[] | null)[] = items.map(() => null);
        const values = r.values.map((v, i) => {
          if (!Array.isArray(v)) return v;
          if (stepSeparator === null) {
            errors.push(`${name}: row ${i}: returned a list of ${v.length} numbers; per-step scores need step_separator set (else return one number)`);
            return null;
          }
          const n = splitSteps(items[i].completion, stepSeparator).length;
          if (v.length !== n) {
            errors.push(`${name}: row ${i}: returned ${v.length} step scores for a completion of ${n} steps (cut at step_separator)`);
            return null;
          }
          steps[i] = v;
          return Math.min(...v);
        });
        return { values, errors, steps };
      });
    } else if (isBuiltinReward(f.name)) {
      const entry = REWARD_FUNCS[f.name];
      const params = withDefaults(f.name, entry.params, f.params); // throws on bad params, before training starts
      scorers.push(async (items) => {
        const errors: string[] = [];
        const values = items.map((it) => {
          try {
            const v = entry.fn(it.completion, it.answer, it.prompt, params, {
              completion_tokens: it.completionTokens,
              max_completion_length: maxCompletionLength,
              group_completions: it.group ?? [it.completion],
            });
            return v === null || Number.isFinite(v) ? v : null;
          } catch (e) {
            if (errors.length < 5) errors.push(`${name}: ${(e as Error).message}`);
            return null;
          }
        });
        return { values, errors };
      });
    } else {
      throw new Error(`unknown reward function "${f.name}": use one of ${[...Object.keys(REWARD_FUNCS), CUSTOM_REWARD_NAME].join(', ')}`);
    }
  }
  return {
    names,
    weights: funcs.map((f) => f.weight),
    async score(items) {
      const results = await Promise.all(scorers.map((s) => s(items)));
      return { perFunc: results.map((r) => r.values), stepScores: results.map((r) => r.steps ?? items.map(() => null)), errors: results.flatMap((r) => r.errors) };
    },
    dispose() {
      for (const c of customs) c.dispose();
    },
  };
}
