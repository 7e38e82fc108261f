// One GRPO rollout: G completions for each prompt, generated together on the GPU; their rewards;
// group-relative advantages; and the sequences the policy update trains on.

import type { GpuTransformer } from '../model/transformer';
import type { LoraSet } from '../model/lora';
import type { Tokenizer } from '../model/tokenizer';
import { generate } from '../model/generate';
import { rewardAdvantages, type ScaleRewards, type AdvantageSettings } from './advantages';
import type { RewardScorer } from './rewards_scorer';

export interface PromptExample {
  /** the prompt as shown to the model (template applied) */
  text: string;
  /** its token ids (BOS included, truncated to max_prompt_length) */
  ids: number[];
  answer: string;
  raw: Record<string, unknown>;
}

export interface Completion {
  text: string;
  /** generated ids without the stop token */
  ids: number[];
  /** ids trained on: the generated ids plus the stop token when it stopped */
  trainIds: number[];
  truncated: boolean;
  rewards: (number | null)[];
  reward: number;
  advantage: number;
}

export interface RolloutGroup {
  prompt: PromptExample;
  completions: Completion[];
  rewardStd: number;
  /** every reward equal: no learning signal (dropped under dynamic sampling) */
  zeroStd: boolean;
}

export interface Rollout {
  groups: RolloutGroup[];
  rewardNames: string[];
  rewardErrors: string[];
  allNullRewards: number;
  generatedTokens: number;
  generationMs: number;
  rewardMs: number;
}

export interface RolloutOptions {
  numGenerations: number;
  maxCompletionLength: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  scaleRewards: ScaleRewards;
  /** prompts generated together in one batch */
  promptsPerBatch: number;
  /** advantage_estimator and multi_objective_aggregation (default: GRPO's, sum then normalise) */
  advantage?: Omit<AdvantageSettings, 'scale'>;
}

export async function rollout(
  model: GpuTransformer,
  tokenizer: Tokenizer,
  lora: LoraSet | null,
  scorer: RewardScorer,
  prompts: PromptExample[],
  opts: RolloutOptions,
): Promise<Rollout> {
  const G = opts.numGenerations;
  const t0 = performance.now();
  const generated: { ids: number[]; truncated: boolean }[] = [];
  let generatedTokens = 0;
  for (let start = 0; start < prompts.length; start += opts.promptsPerBatch) {
    const chunk = prompts.slice(start, start + opts.promptsPerBatch);
    const rows = chunk.flatMap((p) => Array.from({ length: G }, () => p.ids));
    const gen = await generate(model, rows, {
      maxNewTokens: opts.maxCompletionLength,
      temperature: opts.temperature,
      topK: opts.topK,
      topP: opts.topP,
      seed: (opts.seed + Math.imul(start + 1, 0x9e3779b1)) >>> 0,
      stopIds: tokenizer.eosIds,
      lora,
    });
    gen.tokens.forEach((ids, i) => {
      generated.push({ ids, truncated: gen.finish[i] === 'length' });
      generatedTokens += ids.length + (gen.finish[i] === 'stop' ? 1 : 0);
    });
  }
  const generationMs = performance.now() - t0;

  const t1 = performance.now();
  const texts = generated.map((g) => tokenizer.decode(g.ids));
  const items = generated.map((g, i) => {
    const p = prompts[Math.floor(i / G)];
    return { prompt: p.text, completion: texts[i], answer: p.answer, row: p.raw, completionTokens: g.ids.length };
  });
  const scores = await scorer.score(items);
  const adv = rewardAdvantages(scores.perFunc, scorer.weights, G, {
    scale: opts.scaleRewards,
    estimator: opts.advantage?.estimator ?? 'grpo',
    aggregation: opts.advantage?.aggregation ?? 'sum_then_normalize',
  });
  const total = adv.rewards;
  const allNull = adv.allNull.filter(Boolean).length;
  const rewardMs = performance.now() - t1;

  const eos = tokenizer.eosIds[0];
  const groups: RolloutGroup[] = prompts.map((prompt, g) => ({
    prompt,
    rewardStd: adv.groupStd[g],
    zeroStd: adv.zeroStd[g],
    completions: Array.from({ length: G }, (_, j) => {
      const i = g * G + j;
      const gen = generated[i];
      return {
        text: texts[i],
        ids: gen.ids,
        trainIds: gen.truncated || eos === undefined ? gen.ids : [...gen.ids, eos],
        truncated: gen.truncated,
        rewards: scores.perFunc.map((f) => f[i] ?? null),
        reward: total[i],
        advantage: adv.advantages[i],
      };
    }),
  }));
  return {
    groups,
    rewardNames: scorer.names,
    rewardErrors: scores.errors,
    allNullRewards: allNull,
    generatedTokens,
    generationMs,
    rewardMs,
  };
}
