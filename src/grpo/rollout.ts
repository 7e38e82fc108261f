// One GRPO rollout: G completions for each prompt, generated together on the GPU; their rewards;
// group-relative advantages; and the sequences the policy update trains on.

import { asGemma4, policyGenerate, type PolicyModel } from '../model/policy_model';
import type { GpuTransformer } from '../model/transformer';
import { generateContinuous } from '../model/generate_continuous';
import type { GenerateOptions, Generation } from '../model/generate';
import type { LoraSet } from '../model/lora';
import type { Tokenizer } from '../model/tokenizer';
import type { KvPrecision } from '../model/kv_storage';
import type { SharePrefixMode } from './config/enums';
import { rewardAdvantages, type ScaleRewards, type AdvantageSettings } from './advantages';
import type { RewardScorer } from './rewards_scorer';
import { idsWithoutTrailingStop, runEpisodes, type Episode, type EpisodeEnv, type TurnRecord } from './tools/episodes';

export interface PromptExample {
  /** the prompt as shown to the model (template applied) */
  text: string;
  /** its token ids (BOS included, truncated to max_prompt_length) */
  ids: number[];
  answer: string;
  raw: Record<string, unknown>;
  /** its pass rate in a difficulty scan, when one was joined to the dataset (curriculum easy_to_hard) */
  passRate?: number;
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
  /** with tools or an environment: per trainIds token, 1 for the model's own tokens, 0 for inserted ones */
  modelMask?: number[];
  /** advantage_estimator "rloo" with beta > 0: the completion's summed first-order KL, sum of old_logp - ref_logp
   * over its tokens, of which beta times was taken off its reward before the leave-one-out advantage (TRL's RLOO) */
  klPenalty?: number;
  /** with tools or an environment: the episode's turns, for display */
  turns?: TurnRecord[];
  episode?: Pick<Episode, 'toolCalls' | 'toolFailures' | 'toolTimeouts' | 'turnCount' | 'envReward' | 'envDone' | 'turnTokens' | 'turnRewards'>;
  /** step_advantage "per_turn_discounted": the advantage of each trainIds token (step_credit.ts); else every
   * token carries `advantage` */
  tokenAdvantages?: number[];
  /** a process reward's per-step scores (step_separator), from the first reward function that gave them */
  stepScores?: number[];
}

export interface RolloutGroup {
  prompt: PromptExample;
  completions: Completion[];
  rewardStd: number;
  /** every reward equal */
  zeroStd: boolean;
  /** every advantage equal: no learning signal in the advantages used (dropped under dynamic sampling) */
  flat?: boolean;
  /** TRL's is_std_zero for frac_reward_zero_std (the batch's std under scale_rewards "batch" and normalize_then_sum) */
  loggedZeroStd?: boolean;
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
  /** the KV caches' storage (config kv_precision; default 'auto') */
  kvPrecision?: KvPrecision;
  /** free idle buffers between each batch's prefill and its decode (GenerateOptions.trimAfterPrefill) */
  trimAfterPrefill?: boolean;
  /** tools and/or an environment: multi-turn episodes instead of single completions */
  tools?: RolloutTools;
  /** config share_prompt_prefix: prefill each prompt once for its G rows (GenerateOptions.groupSize); default 'auto' */
  sharePromptPrefix?: SharePrefixMode;
  /** advantage_estimator and multi_objective_aggregation (default: GRPO's, sum then normalise) */
  advantage?: Omit<AdvantageSettings, 'scale'>;
  /** when the prompts take several generation batches (promptsPerBatch < prompts), run them as one continuous batch
   * of promptsPerBatch x G slots, the next prompts' rows joining as rows finish (generate_continuous.ts; the same
   * tokens; default true; false: the batches one after another, for comparison) */
  continuousBatching?: boolean;
}

/** Whether a rollout's single-turn generation runs its batches as one continuous batch (generate_continuous.ts):
 * several batches, no Gemma 4 (its own generation), every completion's room in the context counted from the longest
 * prompt (the batches' own clipping would otherwise differ). Also without stop ids (rows then finish together at
 * max_completion_length, as the batches do), so that the memory plan's dry run (a planning tokenizer without stop
 * ids) takes the path a real step takes, with a group's prefill beside the decode state. */
export function continuousBatching(model: PolicyModel, prompts: readonly PromptExample[], opts: Pick<RolloutOptions, 'continuousBatching' | 'promptsPerBatch' | 'tools' | 'maxCompletionLength'>): boolean {
  if (opts.continuousBatching === false || opts.tools || asGemma4(model) || prompts.length <= opts.promptsPerBatch) return false;
  const longest = Math.max(...prompts.map((p) => p.ids.length));
  return longest + opts.maxCompletionLength <= (model as GpuTransformer).config.maxPositionEmbeddings;
}

export interface RolloutTools {
  setup: EpisodeEnv;
  maxToolCalls: number | null;
  maxTurns: number;
  /** weight of the environment's reward, which joins the reward functions as the "environment" column */
  envRewardWeight: number;
}

/** Whether a rollout's single-turn generation prefills each prompt once for its G rows (share_prompt_prefix):
 * 'auto' wherever supported, 'on' refuses where it is not (Gemma 4, whose generation prefills every row, and
 * multi-turn episodes). */
export function sharesPromptPrefix(model: PolicyModel, opts: Pick<RolloutOptions, 'sharePromptPrefix' | 'numGenerations' | 'tools'>): boolean {
  const mode = opts.sharePromptPrefix ?? 'auto';
  if (mode === 'off' || opts.numGenerations < 2) return false;
  if (opts.tools) {
    if (mode === 'on') throw new Error('share_prompt_prefix "on": multi-turn tool and environment rollouts prefill every row (use "auto" or "off")');
    return false;
  }
  if (asGemma4(model)) {
    if (mode === 'on') throw new Error('share_prompt_prefix "on": Gemma 4 prefills every row (use "auto" or "off")');
    return false;
  }
  return true;
}

/** The name of the environment's reward among the reward columns. */
export const ENV_REWARD_NAME = 'environment';

export async function rollout(
  model: PolicyModel,
  tokenizer: Tokenizer,
  lora: LoraSet | null,
  scorer: RewardScorer,
  prompts: PromptExample[],
  opts: RolloutOptions,
): Promise<Rollout> {
  const G = opts.numGenerations;
  const t0 = performance.now();
  const generated: { ids: number[]; truncated: boolean; episode?: Episode }[] = [];
  let generatedTokens = 0;
  // every row draws with (seed, its row in the rollout: prompt * G + generation, its token position), whatever the
  // batches: the first batch's key and the batch's first row as row base (with one batch, the draws of before row
  // bases). Gemma 4 generates each prompt length's rows apart (policyGenerate) and keeps a key per batch.
  const g4 = asGemma4(model) !== null;
  const generateOptions = (start: number): GenerateOptions => ({
    groupSize: sharesPromptPrefix(model, opts) ? G : 1,
    maxNewTokens: opts.maxCompletionLength,
    temperature: opts.temperature,
    topK: opts.topK,
    topP: opts.topP,
    seed: (opts.seed + Math.imul(g4 ? start + 1 : 1, 0x9e3779b1)) >>> 0,
    ...(g4 ? {} : { rowBase: start * G }),
    stopIds: tokenizer.eosIds,
    lora,
    kvPrecision: opts.kvPrecision,
    trimAfterPrefill: opts.trimAfterPrefill,
  });
  const take = (gen: Generation) => gen.tokens.forEach((ids, i) => {
    generated.push({ ids, truncated: gen.finish[i] === 'length' });
    generatedTokens += ids.length + (gen.finish[i] === 'stop' ? 1 : 0);
  });
  const rowsOf = (chunk: PromptExample[]) => chunk.flatMap((p) => Array.from({ length: G }, () => p.ids));
  const continuous = continuousBatching(model, prompts, opts);
  // the batches as one: slots for promptsPerBatch prompts' rows, the next prompts joining as rows finish
  if (continuous) take(await generateContinuous(model as GpuTransformer, rowsOf(prompts), { ...generateOptions(0), capacity: opts.promptsPerBatch * G }));
  for (let start = 0; start < prompts.length && !continuous; start += opts.promptsPerBatch) {
    const chunk = prompts.slice(start, start + opts.promptsPerBatch);
    if (opts.tools) {
      if (g4) throw new Error('Gemma 4: tools and environments (multi-turn rollouts) do not run this model yet');
      const eps = await runEpisodes(model as GpuTransformer, tokenizer, lora, opts.tools.setup, chunk.flatMap((p) => Array.from({ length: G }, () => p)), {
        maxCompletionLength: opts.maxCompletionLength,
        temperature: opts.temperature,
        topK: opts.topK,
        topP: opts.topP,
        seed: (opts.seed + Math.imul(start + 1, 0x9e3779b1)) >>> 0,
        maxToolCalls: opts.tools.maxToolCalls,
        maxTurns: opts.tools.maxTurns,
        kvPrecision: opts.kvPrecision,
      }, start * G);
      for (const ep of eps) {
        // the row's trailing stop token (its last model token) is kept only in trainIds, as below
        generated.push({ ids: idsWithoutTrailingStop(ep, tokenizer.eosIds), truncated: ep.truncated, episode: ep });
        generatedTokens += ep.modelMask.reduce((a, m) => a + m, 0);
      }
      continue;
    }
    take(await policyGenerate(model, rowsOf(chunk), generateOptions(start)));
  }
  const generationMs = performance.now() - t0;

  const t1 = performance.now();
  const texts = generated.map((g) => tokenizer.decode(g.ids));
  const items = generated.map((g, i) => {
    const p = prompts[Math.floor(i / G)];
    const first = Math.floor(i / G) * G;
    const stop = !g.truncated && tokenizer.eosIds.length > 0 ? [tokenizer.eosIds[0]] : [];
    return {
      prompt: p.text, completion: texts[i], answer: p.answer, row: p.raw, completionTokens: g.ids.length, group: texts.slice(first, first + G),
      promptIds: p.ids, completionIds: [...g.ids, ...stop],
    };
  });
  const scores = await scorer.score(items);
  const rewardNames = [...scorer.names];
  const weights = [...scorer.weights];
  if (opts.tools?.setup.env) {
    scores.perFunc.push(generated.map((g) => g.episode?.envReward ?? null));
    rewardNames.push(ENV_REWARD_NAME);
    weights.push(opts.tools.envRewardWeight);
  }
  const eos = tokenizer.eosIds[0];
  const trainIdsOf = (gen: (typeof generated)[number]) => gen.episode ? gen.episode.ids : gen.truncated || eos === undefined ? gen.ids : [...gen.ids, eos];
  // the tokens each completion trains on (the model's own): REINFORCE++ whitens over them
  const modelTokens = generated.map((gen) => (gen.episode ? gen.episode.modelMask.reduce((a, b) => a + b, 0) : trainIdsOf(gen).length));
  const adv = rewardAdvantages(scores.perFunc, weights, G, {
    scale: opts.scaleRewards,
    estimator: opts.advantage?.estimator ?? 'grpo',
    aggregation: opts.advantage?.aggregation ?? 'sum_then_normalize',
  }, modelTokens);
  const total = adv.rewards;
  const allNull = adv.allNull.filter(Boolean).length;
  const rewardMs = performance.now() - t1;

  const groups: RolloutGroup[] = prompts.map((prompt, g) => ({
    prompt,
    rewardStd: adv.groupStd[g],
    zeroStd: adv.zeroStd[g],
    flat: adv.flat[g],
    loggedZeroStd: adv.loggedZeroStd[g],
    completions: Array.from({ length: G }, (_, j) => {
      const i = g * G + j;
      const gen = generated[i];
      return {
        text: texts[i],
        ids: gen.ids,
        trainIds: trainIdsOf(gen),
        truncated: gen.truncated,
        rewards: scores.perFunc.map((f) => f[i] ?? null),
        reward: total[i],
        advantage: adv.advantages[i],
        ...(gen.episode ? episodeFields(gen.episode) : {}),
        ...(stepsOf(scores.stepScores, i) ? { stepScores: stepsOf(scores.stepScores, i)! } : {}),
      };
    }),
  }));
  return {
    groups,
    rewardNames,
    rewardErrors: scores.errors,
    allNullRewards: allNull,
    generatedTokens,
    generationMs,
    rewardMs,
  };
}

/** Item i's per-step scores from the first reward function that returned a list for it. */
function stepsOf(steps: (number[] | null)[][] | undefined, i: number): number[] | null {
  for (const f of steps ?? []) if (f[i]) return f[i];
  return null;
}

function episodeFields(ep: Episode): Pick<Completion, 'modelMask' | 'turns' | 'episode' | 'trainIds'> {
  const { toolCalls, toolFailures, toolTimeouts, turnCount, envReward, envDone, turnTokens, turnRewards } = ep;
  // trainIds are the episode's tokens as generated (the model's stop tokens included, as it sampled them)
  return { trainIds: ep.ids, modelMask: ep.modelMask, turns: ep.turns, episode: { toolCalls, toolFailures, toolTimeouts, turnCount, envReward, envDone, turnTokens, turnRewards } };
}
