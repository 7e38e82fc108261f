// Evaluation on held-out prompts: pass@1 (and pass@k with several samples per prompt), mean reward, and
// with tools or an environment the same multi-turn episodes as training (tool calls run, results inserted),
// so a tool-using model is measured the way it is trained. A completion passes when the first reward column
// gives it full marks (>= 1); with an environment its episode reward is a column after the reward functions.

import type { GpuTransformer } from '../model/transformer';
import { asGemma4, policyGenerate, type PolicyModel } from '../model/policy_model';
import type { Tokenizer } from '../model/tokenizer';
import type { LoraSet } from '../model/lora';
import type { RewardScorer } from './rewards_scorer';
import { combineRewardsDetailed } from './rewards';
import { passAtKTable } from '../experiments/pass_at_k';
import { majAtKTable } from '../experiments/maj_at_k';
import { answerKey } from './rewards';
import type { PromptExample, RolloutTools } from './rollout';
import { idsWithoutTrailingStop, runEpisodes, type TurnRecord } from './tools/episodes';
import type { KvPrecision } from '../model/kv_storage';

export interface EvalSample {
  prompt: string;
  completion: string;
  answer: string;
  reward: number;
  pass: boolean;
  /** with tools: the episode's turns and tool calls */
  turns?: TurnRecord[];
  toolCalls?: number;
}

export interface EvalReport {
  step: number;
  'pass@1': number;
  reward_mean: number;
  n: number;
  samples: EvalSample[];
  /** tokens the model sampled for every sample, counted as training's num_generated_tokens counts them (a
   * sampled stop token included; with tools, the model's tokens only, not the inserted results) */
  generatedTokens: number;
  /** with several samples per prompt (num_generations_eval): pass@k, mean@k and maj@k for k = 1..n
   * (src/experiments/pass_at_k.ts, maj_at_k.ts) */
  atK?: Record<string, number>;
  /** evaluated with tools or an environment: tool calls per completion (TRL's tools/call_frequency), failed
   * calls per call, and model turns per episode */
  tools?: { call_frequency: number; failure_frequency: number; turns_mean: number };
}

/** How evaluation decodes: temperature 0 is greedy (top-k/top-p unused). */
export interface EvalSampling {
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  /** the KV caches' storage (config kv_precision; default 'auto') */
  kvPrecision?: KvPrecision;
}

export async function evaluatePrompts(
  model: PolicyModel,
  tokenizer: Tokenizer,
  lora: LoraSet | null,
  scorer: RewardScorer,
  prompts: PromptExample[],
  maxCompletionLength: number,
  step = 0,
  batch = 32,
  sampling: EvalSampling = { temperature: 0, topK: 0, topP: 1, seed: 0 },
  samplesPerPrompt = 1,
  tools: RolloutTools | null = null,
  /** told the completions sampled so far and in all, after every batch (a difficulty scan's progress line) */
  onProgress?: (done: number, total: number) => void,
): Promise<EvalReport> {
  const samples: EvalSample[] = [];
  let generatedTokens = 0;
  let calls = 0;
  let failures = 0;
  let turns = 0;
  // sample j of every prompt: j = 0 draws exactly what a single-sample evaluation draws
  for (let j = 0; j < samplesPerPrompt; j++) {
    const seedJ = j === 0 ? sampling.seed : (sampling.seed ^ Math.imul(j, 0x2545f491)) >>> 0;
    for (let start = 0; start < prompts.length; start += batch) {
      const chunk = prompts.slice(start, start + batch);
      const decoding = {
        temperature: sampling.temperature,
        topK: sampling.temperature > 0 ? sampling.topK : 0,
        topP: sampling.temperature > 0 ? sampling.topP : 1,
        // the same draws at every evaluation: each chunk of prompts its own stream, keyed by its position
        seed: (seedJ + Math.imul(start + 1, 0x9e3779b1)) >>> 0,
        kvPrecision: sampling.kvPrecision,
      };
      let texts: string[];
      let lengths: number[];
      let completionIds: number[][] | null = null;
      let episodes: Awaited<ReturnType<typeof runEpisodes>> | null = null;
      // as rollout.ts counts num_generated_tokens: every token sampled, the stop token included
      let sampled: number;
      if (tools) {
        if (asGemma4(model)) throw new Error('Gemma 4: tools and environments (multi-turn episodes) do not run this model yet');
        episodes = await runEpisodes(model as GpuTransformer, tokenizer, lora, tools.setup, chunk.map((p) => ({ ids: p.ids, raw: p.raw })), {
          ...decoding,
          maxCompletionLength,
          maxToolCalls: tools.maxToolCalls,
          maxTurns: tools.maxTurns,
        });
        // as in training's rollout: a trailing stop token is not part of the text
        const ids = episodes.map((ep) => idsWithoutTrailingStop(ep, tokenizer.eosIds));
        texts = ids.map((x) => tokenizer.decode(x));
        lengths = ids.map((x) => x.length);
        sampled = episodes.reduce((a, ep) => a + ep.modelMask.reduce((m, b) => m + b, 0), 0);
        for (const ep of episodes) {
          calls += ep.toolCalls;
          failures += ep.toolFailures;
          turns += ep.turnCount;
        }
      } else {
        const gen = await policyGenerate(model, chunk.map((p) => p.ids), { ...decoding, maxNewTokens: maxCompletionLength, stopIds: tokenizer.eosIds, lora });
        texts = gen.tokens.map((t) => tokenizer.decode(t));
        lengths = gen.tokens.map((t) => t.length);
        sampled = gen.tokens.reduce((a, t, i) => a + t.length + (gen.finish[i] === 'stop' ? 1 : 0), 0);
        completionIds = gen.tokens.map((t, i) => (gen.finish[i] === 'stop' && tokenizer.eosIds.length > 0 ? [...t, tokenizer.eosIds[0]] : t));
      }
      generatedTokens += sampled;
      const items = chunk.map((p, i) => ({
        prompt: p.text, completion: texts[i], answer: p.answer, row: p.raw, completionTokens: lengths[i],
        ...(completionIds ? { promptIds: p.ids, completionIds: completionIds[i] } : {}),
      }));
      const scores = await scorer.score(items);
      const perFunc = [...scores.perFunc];
      const weights = [...scorer.weights];
      if (tools?.setup.env && episodes) {
        perFunc.push(episodes.map((ep) => ep.envReward));
        weights.push(tools.envRewardWeight);
      }
      const { rewards: total } = combineRewardsDetailed(perFunc, weights);
      items.forEach((it, i) => {
        const first = perFunc[0]?.[i] ?? null;
        const ep = episodes?.[i];
        samples.push({
          prompt: it.prompt,
          completion: it.completion,
          answer: it.answer,
          reward: total[i],
          pass: first !== null && first >= 1 - 1e-6,
          ...(ep ? { turns: ep.turns, toolCalls: ep.toolCalls } : {}),
        });
      });
      onProgress?.(samples.length, prompts.length * samplesPerPrompt);
    }
  }
  const total = samples.length;
  // samples are sample-major (all prompts' first samples, then their second, ...)
  const byPrompt = prompts.map((_, p) => Array.from({ length: samplesPerPrompt }, (_, j) => samples[j * prompts.length + p]));
  // maj@k votes with answers read as the passing reward reads them: numbers for numeric_match, else as exact_match
  const extract = scorer.names[0] === 'numeric_match' ? 'number' : 'auto';
  const atK = samplesPerPrompt > 1 && prompts.length > 0
    ? {
        ...passAtKTable(byPrompt.map((ss) => ss.map((s) => s.pass))),
        ...majAtKTable(byPrompt.map((ss) => ss.map((s) => ({ key: answerKey(s.completion, extract), pass: s.pass })))),
      }
    : undefined;
  return {
    step,
    'pass@1': total ? samples.filter((s) => s.pass).length / total : NaN,
    reward_mean: total ? samples.reduce((a, s) => a + s.reward, 0) / total : NaN,
    n: prompts.length,
    samples,
    generatedTokens,
    ...(atK ? { atK } : {}),
    ...(tools ? { tools: { call_frequency: total ? calls / total : 0, failure_frequency: calls ? failures / calls : 0, turns_mean: total ? turns / total : NaN } } : {}),
  };
}
