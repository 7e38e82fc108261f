// The GRPO trainer: each step picks prompts, rolls out G completions per prompt, scores them, and
// updates the LoRA adapter (policy_update.ts). Reports TRL's metric names, keeps each step's rollouts
// for display, and evaluates pass@1 on the eval split. The same seed, config, data and adapter give
// identical metrics (every GPU reduction is deterministic; sampling is keyed by seed and step).

import type { GpuRuntime } from '../gpu/runtime';
import type { GpuTransformer } from '../model/transformer';
import type { Tokenizer } from '../model/tokenizer';
import { LoraSet, type LoraModule } from '../model/lora';
import { generate } from '../model/generate';
import type { GrpoConfig } from './config';
import { AdamW } from './optimizer';
import { learningRate } from './schedule';
import { rollout, type PromptExample, type RolloutGroup, type RolloutTools } from './rollout';
import { policyUpdate, type TrainSequence } from './policy_update';
import type { RewardScorer } from './rewards_scorer';
import { combineRewardsDetailed } from './rewards';
import { unbiasedStd } from './advantages';
import { Rng } from '../util/random';
import { passAtKTable } from '../experiments/pass_at_k';

export type Metrics = Record<string, number>;

/** How a step is cut to fit GPU memory: prompts whose G completions are generated together, and rows per
 * forward/backward pass of the policy update (null: a whole micro-batch of prompts_per_step groups). */
export interface StepLayout {
  generationPrompts: number;
  rowsPerPass: number | null;
  /** free the pool's idle buffers after generation and after the update, so that the KV caches and the
   * training activations are never held at once (costs re-allocating them every step) */
  trimBetweenPhases?: boolean;
  /** activation recomputation in the policy update (GpuTransformer.recomputeLayers) under recompute "auto"
   * (the memory plan sets it when no layout fits without); "on" and "off" override it */
  recompute?: boolean;
}

export interface StepReport {
  step: number;
  metrics: Metrics;
  groups: RolloutGroup[];
  rewardNames: string[];
  rewardErrors: string[];
}

export interface EvalReport {
  step: number;
  'pass@1': number;
  reward_mean: number;
  n: number;
  samples: { prompt: string; completion: string; answer: string; reward: number; pass: boolean }[];
  /** with several samples per prompt (num_generations_eval): pass@k and mean@k for k = 1..n (src/experiments/pass_at_k.ts) */
  atK?: Record<string, number>;
}

export interface TrainerProgress {
  step: number;
  numTokens: number;
  skippedUpdates: number;
  /** epochs started over the training prompts, and the position in the current one */
  epoch: number;
  cursor: number;
  optimizerStep: number;
}

export interface TrainerInit {
  gpu: GpuRuntime;
  model: GpuTransformer;
  tokenizer: Tokenizer;
  config: GrpoConfig;
  train: PromptExample[];
  eval: PromptExample[];
  scorer: RewardScorer;
  /** synchronise between phases and report each phase's time as time/<phase> metrics (slower; for profiling) */
  profile?: boolean;
  /** how a step is cut to fit GPU memory (memory_plan.ts chooses it; absent: as the config says) */
  layout?: StepLayout;
  /** tools and/or an environment (tools_source, env_source): multi-turn rollouts. A promise (still loading
   * in the sandbox) is awaited by the first step, which fails with its message if it does not load. The
   * trainer owns them: release() stops their worker. */
  tools?: RolloutTools | null | Promise<RolloutTools | null>;
}

export class GrpoTrainer {
  readonly lora: LoraSet;
  readonly optimizer: AdamW;
  /** optimizer steps done */
  step = 0;
  numTokens = 0;
  skippedUpdates = 0;
  /** steps in a row whose every update was skipped for a non-finite loss or gradient norm */
  consecutiveSkips = 0;
  private order: number[] = [];
  private cursor = 0;
  private epoch = 0;

  constructor(private init: TrainerInit) {
    const { gpu, model, config: c } = init;
    if (init.train.length === 0) throw new Error('the training split has no prompts');
    this.lora = new LoraSet(gpu, model.config, {
      r: c.lora_r,
      alpha: c.lora_alpha,
      targetModules: c.lora_target_modules as LoraModule[],
      useRslora: c.use_rslora,
      dropout: c.lora_dropout,
    });
    this.lora.initialize(c.seed);
    this.optimizer = new AdamW(
      gpu,
      this.lora.parameters().map((p) => ({ name: p.name, param: p.param, grad: p.grad })),
      { beta1: c.adam_beta1, beta2: c.adam_beta2, eps: c.adam_epsilon, weightDecay: c.weight_decay, maxGradNorm: c.max_grad_norm },
    );
  }

  get config(): GrpoConfig {
    return this.init.config;
  }

  /** max_consecutive_skips steps in a row could not update (non-finite loss or gradient norm): the run
   * should pause; weights and optimizer state are those of the last good update. */
  get faulted(): string | null {
    const k = this.consecutiveSkips;
    if (k < this.config.max_consecutive_skips) return null;
    return `${k} steps in a row had a non-finite loss or gradient norm (the last at step ${this.step}), so their updates were skipped; ` +
      `the run is paused with the weights and optimizer state of step ${this.step - k}. Lower learning_rate or max_grad_norm, or check the rewards, before resuming`;
  }

  /** A resumed run may be lengthened or shortened and evaluated at another interval; nothing else changes. */
  setRunLength(maxSteps: number, evalInterval: number): void {
    this.init = { ...this.init, config: { ...this.init.config, max_steps: maxSteps, eval_interval: evalInterval } };
  }

  /** Where the run is, besides its tensors (for checkpoints): with the same seed this resumes exactly. */
  progress(): TrainerProgress {
    return { step: this.step, numTokens: this.numTokens, skippedUpdates: this.skippedUpdates, epoch: this.epoch, cursor: this.cursor, optimizerStep: this.optimizer.step };
  }

  restoreProgress(p: TrainerProgress): void {
    this.step = p.step;
    this.numTokens = p.numTokens;
    this.skippedUpdates = p.skippedUpdates;
    this.optimizer.step = p.optimizerStep;
    // the epoch's order is a function of the seed and the epoch number
    this.epoch = p.epoch;
    this.order = p.epoch > 0 ? shuffled(this.init.train.length, this.epochRng(p.epoch - 1)) : [];
    this.cursor = p.cursor;
  }

  private epochRng(epoch: number): Rng {
    return new Rng((this.config.seed ^ Math.imul(epoch + 1, 0x85ebca6b)) >>> 0);
  }

  /** The next prompts, epoch by epoch in a seeded order. */
  private nextPrompts(n: number): PromptExample[] {
    const rows = this.init.train;
    const out: PromptExample[] = [];
    while (out.length < n) {
      if (this.cursor >= this.order.length) {
        this.order = shuffled(rows.length, this.epochRng(this.epoch));
        this.cursor = 0;
        this.epoch++;
      }
      out.push(rows[this.order[this.cursor++]]);
    }
    return out;
  }

  async trainStep(): Promise<StepReport> {
    const c = this.config;
    const { gpu, model, tokenizer, scorer } = this.init;
    const t0 = performance.now();
    const P = c.prompts_per_step;
    const GA = c.gradient_accumulation_steps;
    const G = c.num_generations;
    const tools = (await this.init.tools) ?? undefined;
    const prompts = this.nextPrompts(P * GA);
    const ro = await rollout(model, tokenizer, this.lora, scorer, prompts, {
      numGenerations: G,
      maxCompletionLength: c.max_completion_length,
      temperature: c.temperature,
      topK: c.top_k,
      topP: c.top_p,
      seed: (c.seed * 1000003 + this.step * 7919) >>> 0,
      scaleRewards: c.scale_rewards,
      promptsPerBatch: this.init.layout?.generationPrompts ?? P,
      tools,
    });

    if (this.init.layout?.trimBetweenPhases) {
      gpu.flush(); // nothing recorded may still name a buffer that trim destroys
      gpu.pool.trim();
    }
    // Micro-batches of P prompts (their groups), minus groups without signal under dynamic sampling.
    const microBatches: TrainSequence[][] = [];
    let dropped = 0;
    for (let m = 0; m < GA; m++) {
      const seqs: TrainSequence[] = [];
      for (const group of ro.groups.slice(m * P, (m + 1) * P)) {
        if (c.dynamic_sampling && group.zeroStd) {
          dropped++;
          continue;
        }
        for (const comp of group.completions) {
          const masked = c.mask_truncated_completions && comp.truncated;
          seqs.push({ prompt: group.prompt.ids, completion: comp.trainIds, advantage: comp.advantage, active: masked ? 0 : comp.trainIds.length, ...(comp.modelMask ? { modelMask: comp.modelMask } : {}) });
        }
      }
      microBatches.push(seqs);
    }
    const lr = learningRate(c.learning_rate, c.lr_scheduler_type, c.warmup_ratio, this.step, c.max_steps);
    const t1 = performance.now();
    const profile: Record<string, number> | undefined = this.init.profile ? {} : undefined;
    const recomputeWas = model.recomputeLayers;
    model.recomputeLayers = c.recompute === 'on' || (c.recompute === 'auto' && !!this.init.layout?.recompute);
    const up = await policyUpdate(gpu, model, this.lora, this.optimizer, microBatches, {
      lossType: c.loss_type,
      maxCompletionLength: c.max_completion_length,
      numIterations: c.num_iterations,
      temperature: c.temperature,
      loss: { epsilon: c.epsilon, epsilonHigh: c.epsilon_high, beta: c.beta },
      learningRate: lr,
      dropoutCounter: this.step,
      profile,
      rowsPerPass: this.init.layout?.rowsPerPass ?? null,
    }).finally(() => {
      model.recomputeLayers = recomputeWas;
    });
    const trainMs = performance.now() - t1;
    if (this.init.layout?.trimBetweenPhases) {
      gpu.flush(); // nothing recorded may still name a buffer that trim destroys
      gpu.pool.trim();
    }
    this.skippedUpdates += up.skipped;
    if (up.skipped > 0 && up.skipped === c.num_iterations) this.consecutiveSkips++;
    else if (up.trainTokens > 0) this.consecutiveSkips = 0;

    const completions = ro.groups.flatMap((g) => g.completions);
    const lengths = completions.map((x) => x.trainIds.length);
    const rewards = completions.map((x) => x.reward);
    const promptTokens = ro.groups.reduce((a, g) => a + g.prompt.ids.length * G, 0);
    this.numTokens += promptTokens + lengths.reduce((a, b) => a + b, 0);
    const metrics: Metrics = {
      reward: mean(rewards),
      reward_std: mean(ro.groups.map((g) => g.rewardStd)),
      frac_reward_zero_std: ro.groups.filter((g) => g.zeroStd).length / ro.groups.length,
      'completions/mean_length': mean(lengths),
      'completions/min_length': Math.min(...lengths),
      'completions/max_length': Math.max(...lengths),
      'completions/clipped_ratio': completions.filter((x) => x.truncated).length / completions.length,
      kl: up.kl,
      entropy: up.entropy,
      'clip_ratio/low_mean': up.clipLow,
      'clip_ratio/high_mean': up.clipHigh,
      'clip_ratio/region_mean': up.clipRegion,
      loss: up.loss,
      grad_norm: up.gradNorm,
      learning_rate: lr,
      num_tokens: this.numTokens,
      step_time: (performance.now() - t0) / 1000,
      'tokens_per_second/generation': ro.generatedTokens / Math.max(ro.generationMs / 1000, 1e-9),
      // (trainTokens already counts every iteration's forward and backward)
      'tokens_per_second/training': up.trainTokens / Math.max(trainMs / 1000, 1e-9),
      dropped_groups: dropped,
      skipped_updates: this.skippedUpdates,
      reward_errors: ro.rewardErrors.length,
      // GPU memory held by the engine's buffer pool: the most ever allocated, and now
      'gpu/peak_bytes': gpu.stats.peakBytesAllocated,
      'gpu/allocated_bytes': gpu.stats.bytesAllocated,
    };
    if (tools) Object.assign(metrics, episodeMetrics(completions, tools.setup.env));
    if (profile) {
      metrics['time/generation'] = ro.generationMs / 1000;
      metrics['time/rewards'] = ro.rewardMs / 1000;
      for (const [phase, ms] of Object.entries(profile)) metrics[`time/${phase}`] = ms / 1000;
    }
    ro.rewardNames.forEach((name, f) => {
      const vals = completions.map((x) => x.rewards[f]).filter((v): v is number => v !== null && Number.isFinite(v));
      metrics[`rewards/${name}/mean`] = vals.length ? mean(vals) : NaN;
      metrics[`rewards/${name}/std`] = vals.length > 1 ? unbiasedStd(vals) : 0;
    });
    this.step++;
    return { step: this.step, metrics, groups: ro.groups, rewardNames: ro.rewardNames, rewardErrors: ro.rewardErrors };
  }

  /** pass@1 and mean reward on the eval split (LoRA on), greedy or sampled at eval_temperature (with the
   * same seed at every evaluation). A completion passes when the first reward function gives it full marks (>= 1). */
  async evaluate(maxSamples = this.config.eval_max_samples, temperature = this.config.eval_temperature): Promise<EvalReport> {
    const c = this.config;
    return evaluatePrompts(this.init.model, this.init.tokenizer, this.lora, this.init.scorer, this.init.eval.slice(0, maxSamples),
      c.max_completion_length, this.step, 32, { temperature, topK: c.top_k, topP: c.top_p, seed: c.seed }, c.num_generations_eval ?? 1);
  }

  release(): void {
    this.optimizer.release();
    this.lora.release();
    this.releaseTools();
  }

  /** Stops the tools' sandbox worker (also when the device was lost and the buffers went with it). */
  releaseTools(): void {
    const t = this.init.tools;
    if (t) void Promise.resolve(t).then((x) => x?.setup.runner.dispose(), () => undefined);
  }
}

/** How evaluation decodes: temperature 0 is greedy (top-k/top-p unused). */
export interface EvalSampling {
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
}

export async function evaluatePrompts(
  model: GpuTransformer,
  tokenizer: Tokenizer,
  lora: LoraSet | null,
  scorer: RewardScorer,
  prompts: PromptExample[],
  maxCompletionLength: number,
  step = 0,
  batch = 32,
  sampling: EvalSampling = { temperature: 0, topK: 0, topP: 1, seed: 0 },
  samplesPerPrompt = 1,
): Promise<EvalReport> {
  const samples: EvalReport['samples'] = [];
  // sample j of every prompt: j = 0 draws exactly what a single-sample evaluation draws
  for (let j = 0; j < samplesPerPrompt; j++) {
  const seedJ = j === 0 ? sampling.seed : (sampling.seed ^ Math.imul(j, 0x2545f491)) >>> 0;
  for (let start = 0; start < prompts.length; start += batch) {
    const chunk = prompts.slice(start, start + batch);
    const gen = await generate(model, chunk.map((p) => p.ids), {
      maxNewTokens: maxCompletionLength,
      temperature: sampling.temperature,
      topK: sampling.temperature > 0 ? sampling.topK : 0,
      topP: sampling.temperature > 0 ? sampling.topP : 1,
      // the same draws at every evaluation: each chunk of prompts its own stream, keyed by its position
      seed: (seedJ + Math.imul(start + 1, 0x9e3779b1)) >>> 0,
      stopIds: tokenizer.eosIds,
      lora,
    });
    const items = chunk.map((p, i) => ({
      prompt: p.text,
      completion: tokenizer.decode(gen.tokens[i]),
      answer: p.answer,
      row: p.raw,
      completionTokens: gen.tokens[i].length,
    }));
    const scores = await scorer.score(items);
    const { rewards: total } = combineRewardsDetailed(scores.perFunc, scorer.weights);
    items.forEach((it, i) => {
      const first = scores.perFunc[0]?.[i] ?? null;
      samples.push({ prompt: it.prompt, completion: it.completion, answer: it.answer, reward: total[i], pass: first !== null && first >= 1 - 1e-6 });
    });
  }
  }
  const total = samples.length;
  // samples are sample-major (all prompts' first samples, then their second, ...)
  const atK = samplesPerPrompt > 1 && prompts.length > 0
    ? passAtKTable(prompts.map((_, p) => Array.from({ length: samplesPerPrompt }, (_, j) => samples[j * prompts.length + p].pass)))
    : undefined;
  return {
    step,
    'pass@1': total ? samples.filter((s) => s.pass).length / total : NaN,
    reward_mean: total ? mean(samples.map((s) => s.reward)) : NaN,
    n: prompts.length,
    samples,
    ...(atK ? { atK } : {}),
  };
}

/** Tool and environment metrics of a step: TRL's tools/call_frequency (calls per completion) and
 * tools/failure_frequency (failed calls per call), plus timeouts, turns per episode and environment outcomes. */
export function episodeMetrics(completions: { episode?: { toolCalls: number; toolFailures: number; toolTimeouts: number; turnCount: number; envReward: number | null; envDone: boolean } }[], hasEnv: boolean): Metrics {
  const eps = completions.map((c) => c.episode).filter((e) => e !== undefined);
  const calls = eps.reduce((a, e) => a + e.toolCalls, 0);
  const failures = eps.reduce((a, e) => a + e.toolFailures, 0);
  const env = eps.filter((e) => e.envReward !== null);
  const out: Metrics = {
    'tools/call_frequency': eps.length ? calls / eps.length : 0,
    'tools/failure_frequency': calls ? failures / calls : 0,
    'tools/failures': failures,
    'tools/timeouts': eps.reduce((a, e) => a + e.toolTimeouts, 0),
    'turns/mean': mean(eps.map((e) => e.turnCount)),
  };
  if (!hasEnv) return out;
  return {
    ...out,
    'env/done_ratio': eps.length ? eps.filter((e) => e.envDone).length / eps.length : 0,
    'env/reward_mean': env.length ? mean(env.map((e) => e.envReward!)) : NaN,
    'env/errors': eps.length - env.length,
  };
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

function shuffled(n: number, rng: Rng): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx;
}
