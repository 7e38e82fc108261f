// The GRPO trainer: each step picks prompts, rolls out G completions per prompt, scores them, and
// updates the LoRA adapter (policy_update.ts). A step is one optimizer step, as in TRL. Under
// steps_per_generation k > 1 one rollout samples k optimizer steps' prompts (prompts_per_step x
// gradient_accumulation_steps each); with num_iterations mu it feeds k * mu steps in TRL's order (the k slices,
// then the cycle again, mu times), with old log-probs taken at generation. algorithm "expert_iteration"
// trains on the completions whose reward reaches expert_reward_threshold with cross-entropy (sft.ts); "online_dpo"
// trains each group's best and worst completion as a DPO pair (preference/online.ts). Reports TRL's metric names, keeps each step's rollouts
// for display, and evaluates pass@1 on the eval split. The same seed, config, data and adapter give
// identical metrics (every GPU reduction is deterministic; sampling is keyed by seed and step).
// Over 400 lines because one step (rollout reuse, the GRPO or expert-iteration update, the memory layout's
// trimming, TRL's metrics, the token traces) reads best in one place; evaluation is src/grpo/evaluate.ts.

import type { GpuRuntime } from '../gpu/runtime';
import type { GpuTransformer } from '../model/transformer';
import { asGemma4, policyLogprobs, type PolicyModel } from '../model/policy_model';
import type { Tokenizer } from '../model/tokenizer';
import { LoraSet, type LoraModule } from '../model/lora';
import type { GrpoConfig } from './config';
import { curriculumOrder } from './curriculum';
import { EpochOrder } from './epoch_order';
import { refillRollout, type RefillStats } from './dynamic_sampling';
import { PromptSchedule, parseMixture, parsePhases, type ScheduleState } from './prompt_schedule';
import { applyTurnCredit, perStepAdvantages, tokenSteps, tokenTextEnds } from './step_credit';
import { splitSteps } from './rewards_scorer';
import { ReplayBuffer, replayFromJson, replayToJson, type ReplayEntryJson } from './replay_buffer';
import { isPreferenceAlgorithm } from './config/enums';
import { AdamW } from './optimizer';
import { learningRate } from './schedule';
import { rollout, type Completion, type PromptExample, type Rollout, type RolloutGroup, type RolloutOptions, type RolloutTools } from './rollout';
import { dropoutForwardCounter, policyUpdate, sharesPrefixInTraining, type TokenTrace, type TrainSequence } from './policy_update';
import { crossEntropyGrads, crossEntropyUpdate, type SftExample } from './sft';
import { sftTermExamples, sftTermGroups } from './sft_term';
import { onlineDpoUpdate } from './preference/online';
import type { GrpoLossParams } from '../gpu/kernels/grpo_loss';
import type { RewardScorer } from './rewards_scorer';
import { unbiasedStd } from './advantages';
import { Rng } from '../util/random';
import { evaluatePrompts, type EvalReport } from './evaluate';

export { evaluatePrompts, type EvalReport, type EvalSample, type EvalSampling } from './evaluate';

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
  /** the LM head's vocabulary-chunk budget in bytes for this step (GpuTransformer.lmHeadChunkBytes; absent: the
   * model's own): the memory plan lowers it when a layout's peak is the head's chunk slice, logits and dlogits */
  lmHeadChunkBytes?: number;
}

/** A completion's per-token values from the optimizer step that trained on it (see TokenTrace). */
export interface StepTokenTrace extends TokenTrace {
  /** the optimizer step (1-based, as StepReport.step) */
  step: number;
}

/** A completion's trace with each token's text, as the token inspector shows it. */
export interface TokenTraceView extends StepTokenTrace {
  /** each trained token decoded on its own */
  tokens: string[];
  /** with tools or an environment: 1 the model's token, 0 inserted (a tool result, an observation: out of the loss) */
  modelMask?: number[];
  /** the advantage each token was trained with (per turn under step_advantage "per_turn_discounted"); absent in
   * traces kept from before it was recorded */
  advantage?: number[];
}

/** Traces go to the page for the first TRACE_GROUPS groups of a step, at most TRACE_TOKENS tokens each. */
export const TRACE_GROUPS = 4;
export const TRACE_TOKENS = 512;

export interface StepReport {
  step: number;
  metrics: Metrics;
  groups: RolloutGroup[];
  /** per group of `groups` (the first TRACE_GROUPS), per completion: its token trace from the step that trained on it */
  traces: (TokenTraceView | null)[][];
  rewardNames: string[];
  rewardErrors: string[];
}


export interface TrainerProgress {
  step: number;
  numTokens: number;
  /** completion tokens generated so far, refill rounds included (absent in older checkpoints) */
  numGeneratedTokens?: number;
  /** real tokens the training passes forwarded so far (num_train_tokens_computed; absent in older checkpoints) */
  numTrainTokensComputed?: number;
  skippedUpdates: number;
  /** epochs started over the training prompts, and the position in the current one */
  epoch: number;
  cursor: number;
  optimizerStep: number;
  /** skip_solved_epochs and replay_buffer_size state (absent in checkpoints of runs without them) */
  selection?: { skipUntil: [number, number][]; skippedPrompts: number; replay: ReplayEntryJson[]; schedule?: ScheduleState };
}

export interface TrainerInit {
  gpu: GpuRuntime;
  /** the Llama-family engine or Gemma 4's model (policy_model.ts) */
  model: PolicyModel;
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
  /** completion tokens generated (every rollout, refill rounds included): what sampling cost */
  numGeneratedTokens = 0;
  /** num_train_tokens_computed: real (non-padding) tokens forwarded by the training passes so far */
  numTrainTokensComputed = 0;
  skippedUpdates = 0;
  /** steps in a row whose every update was skipped for a non-finite loss or gradient norm */
  consecutiveSkips = 0;
  /** the training prompts' order: a seeded shuffle every epoch, or the curriculum's fixed order */
  private readonly epochs: EpochOrder;
  /** skip_solved_epochs: the epoch after which a prompt whose last group was all right or all wrong is drawn again */
  private readonly skipUntil = new Map<PromptExample, number>();
  private skippedPrompts = 0;
  /** replay_buffer_size > 0: TRL's buffer of high-variance groups (replay_buffer.ts) */
  private readonly replay: ReplayBuffer | null;
  /** curriculum_phases or mixture_weights: which prompt comes next (prompt_schedule.ts) */
  private readonly schedule: PromptSchedule | null;
  /** the rollout being trained on under steps_per_generation > 1, and the next slice of it */
  private pending: { ro: Rollout; next: number; old: Map<Completion, Float32Array> | null; batchTokens: number; selection: Metrics } | null = null;
  /** per-token values of the completions trained on, by the step that did (for the token inspector) */
  readonly traces = new WeakMap<Completion, StepTokenTrace>();
  /** sft_coef: each prompt's reference answer as target ids */
  private readonly sftTargets = new Map<PromptExample, number[]>();
  /** sharesPrefixInTraining for this run (model, share_prompt_prefix_training and num_generations do not change
   * during it), formed at its first use: "on" with an unsupported model throws there, as each use did */
  private sharedPrefixTraining: boolean | undefined;

  constructor(private init: TrainerInit) {
    const { gpu, model, config: c } = init;
    if (init.train.length === 0) throw new Error('the training split has no prompts');
    if (isPreferenceAlgorithm(c.algorithm)) throw new Error(`algorithm "${c.algorithm}" trains on preference data with PreferenceTrainer (src/grpo/preference/trainer.ts), not on rollouts`);
    if (asGemma4(model)) refuseForGemma4(c, !!init.tools);
    // before any GPU buffer: a curriculum the data cannot follow is an error naming why
    this.epochs = EpochOrder.range(init.train.length, c.seed, { fixed: curriculumOrder(init.train, c) });
    this.replay = c.replay_buffer_size > 0 ? new ReplayBuffer(c.replay_buffer_size) : null;
    this.schedule = promptScheduleFor(init.train, c);
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

  /** Whether the policy update packs each group's prompt once (sharesPrefixInTraining, formed once per run). */
  private sharesPrefix(): boolean {
    this.sharedPrefixTraining ??= sharesPrefixInTraining(this.init.model, this.config.share_prompt_prefix_training, this.config.num_generations);
    return this.sharedPrefixTraining;
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
    const p: TrainerProgress = { step: this.step, numTokens: this.numTokens, numGeneratedTokens: this.numGeneratedTokens, numTrainTokensComputed: this.numTrainTokensComputed, skippedUpdates: this.skippedUpdates, epoch: this.epochs.epoch, cursor: this.epochs.cursor, optimizerStep: this.optimizer.step };
    if (this.skipUntil.size || this.skippedPrompts || this.replay || this.schedule) {
      const index = new Map(this.init.train.map((e, i) => [e, i]));
      p.selection = {
        skipUntil: [...this.skipUntil].map(([e, until]) => [index.get(e) ?? -1, until]),
        skippedPrompts: this.skippedPrompts,
        replay: this.replay ? replayToJson(this.replay, this.init.train) : [],
        ...(this.schedule ? { schedule: this.schedule.state() } : {}),
      };
    }
    return p;
  }

  restoreProgress(p: TrainerProgress): void {
    this.step = p.step;
    this.numTokens = p.numTokens;
    this.numGeneratedTokens = Number.isInteger(p.numGeneratedTokens) && p.numGeneratedTokens! >= 0 ? p.numGeneratedTokens! : 0;
    this.numTrainTokensComputed = Number.isInteger(p.numTrainTokensComputed) && p.numTrainTokensComputed! >= 0 ? p.numTrainTokensComputed! : 0;
    this.skippedUpdates = p.skippedUpdates;
    this.optimizer.step = p.optimizerStep;
    // the epoch's order is a function of the seed and the epoch number
    this.epochs.restore(p.epoch, p.cursor);
    this.skipUntil.clear();
    this.skippedPrompts = 0;
    const sel = p.selection;
    if (sel === undefined) return;
    const where = 'the checkpoint';
    if (!sel || typeof sel !== 'object' || !Array.isArray(sel.skipUntil)) throw new Error(`${where}: its data-selection state is malformed`);
    const train = this.init.train;
    for (const pair of sel.skipUntil) {
      if (!Array.isArray(pair) || !Number.isInteger(pair[0]) || pair[0] < 0 || pair[0] >= train.length || !Number.isInteger(pair[1])) {
        throw new Error(`${where}: its skipped-prompt list names a prompt that is not among the ${train.length} training prompts`);
      }
      this.skipUntil.set(train[pair[0]], pair[1]);
    }
    this.skippedPrompts = Number.isInteger(sel.skippedPrompts) && sel.skippedPrompts >= 0 ? sel.skippedPrompts : 0;
    if (this.replay) replayFromJson(this.replay, sel.replay, train, this.init.model.config.vocabSize, where);
    if (this.schedule) {
      if (!sel.schedule) throw new Error(`${where}: it has no prompt-schedule state, and the run has curriculum_phases or mixture_weights`);
      this.schedule.restore(sel.schedule, where);
    }
  }

  /** The next prompts, epoch by epoch in a seeded order (or the curriculum's fixed order). */
  private nextPrompts(n: number): PromptExample[] {
    const rows = this.init.train;
    const out: PromptExample[] = [];
    // skip_solved_epochs: a prompt solved (or failed) by its whole last group waits; a whole epoch's worth of
    // draws all skipped means every prompt waits, and then none is skipped
    let skippedInARow = 0;
    while (out.length < n) {
      const ex = rows[this.schedule ? this.schedule.next(this.step) : this.epochs.next()];
      const until = this.skipUntil.get(ex);
      if (until !== undefined && this.epochs.epoch <= until && skippedInARow < rows.length) {
        skippedInARow++;
        this.skippedPrompts++;
        continue;
      }
      skippedInARow = 0;
      out.push(ex);
    }
    return out;
  }

  /** skip_solved_epochs: remember the prompts whose group all passed or all failed (first reward >= 1). */
  private noteSolved(groups: readonly RolloutGroup[]): void {
    const n = this.config.skip_solved_epochs;
    if (n <= 0) return;
    for (const g of groups) {
      const passed = g.completions.filter((x) => (x.rewards[0] ?? -Infinity) >= 1 - 1e-6).length;
      if (passed === 0 || passed === g.completions.length) this.skipUntil.set(g.prompt, this.epochs.epoch + n);
      else this.skipUntil.delete(g.prompt);
    }
  }

  /** The loss kernels' settings from the config (TRL v1.9's names). */
  lossParams(): GrpoLossParams {
    const c = this.config;
    // advantage_estimator "rloo" is TRL's RLOOTrainer: one summed-log-ratio per completion, clipped (loss_weights: grpo)
    const rloo = c.advantage_estimator === 'rloo';
    return {
      epsilon: c.epsilon,
      epsilonHigh: c.epsilon_high,
      beta: rloo ? 0 : c.beta, // TRL's RLOO puts beta on the reward (rlooKlAdvantages), not in the loss
      kind: rloo ? 'clip' : c.loss_type === 'cispo' ? 'cispo' : c.loss_type === 'sapo' ? 'sapo' : c.loss_type === 'vespo' ? 'vespo' : 'clip',
      importanceSamplingLevel: rloo ? 'sequence' : c.importance_sampling_level,
      ...(rloo ? { sequenceSum: true } : {}),
      ...(c.loss_type === 'vespo' && !rloo ? { vespo: { kPos: c.vespo_k_pos, lambdaPos: c.vespo_lambda_pos, kNeg: c.vespo_k_neg, lambdaNeg: c.vespo_lambda_neg } } : {}),
      delta: rloo ? null : c.delta,
      ...(rloo ? {} : { offPolicyMaskThreshold: c.off_policy_mask_threshold, biasCorrectionKl: c.use_bias_correction_kl }),
      sapoTemperaturePos: c.sapo_temperature_pos,
      sapoTemperatureNeg: c.sapo_temperature_neg,
    };
  }

  private async generate(): Promise<{ ro: Rollout; next: number; old: Map<Completion, Float32Array> | null; batchTokens: number; selection: Metrics }> {
    const c = this.config;
    const { model, tokenizer, scorer } = this.init;
    const P = c.prompts_per_step;
    // one rollout = steps_per_generation optimizer steps of prompts_per_step x gradient_accumulation_steps prompts
    const k = c.steps_per_generation;
    const tools = (await this.init.tools) ?? undefined;
    const prompts = this.nextPrompts(P * c.gradient_accumulation_steps * k);
    const opts: RolloutOptions = {
      numGenerations: c.num_generations,
      maxCompletionLength: c.max_completion_length,
      temperature: c.temperature,
      topK: c.top_k,
      topP: c.top_p,
      seed: (c.seed * 1000003 + this.step * 7919) >>> 0,
      scaleRewards: c.scale_rewards,
      promptsPerBatch: this.init.layout?.generationPrompts ?? P,
      kvPrecision: c.kv_precision,
      trimAfterPrefill: !!this.init.layout?.trimBetweenPhases,
      tools,
      sharePromptPrefix: c.share_prompt_prefix,
      advantage: { estimator: c.advantage_estimator, aggregation: c.multi_objective_aggregation },
    };
    let ro = await rollout(model, tokenizer, this.lora, scorer, prompts, opts);
    this.noteSolved(ro.groups);
    let refill: RefillStats | null = null;
    if (c.dynamic_sampling && c.max_resample_rounds > 0) {
      // DAPO: more prompts until every slot holds a group with signal (dynamic_sampling.ts)
      const r = await refillRollout(ro, c.max_resample_rounds, async (n, round) => {
        const more = await rollout(model, tokenizer, this.lora, scorer, this.nextPrompts(n), { ...opts, seed: (opts.seed ^ Math.imul(round, 0x27d4eb2f)) >>> 0 });
        this.noteSolved(more.groups);
        return more;
      });
      ro = r.rollout;
      refill = r.stats;
    }
    if (c.step_advantage === 'per_turn_discounted') {
      // each model turn its own advantage (step_credit.ts); the environment's column is the last
      const env = !!tools?.setup.env;
      const weights = [...scorer.weights, ...(env ? [tools!.envRewardWeight] : [])];
      const scale = c.scale_rewards === 'none' ? 'none' : 'group';
      for (const g of ro.groups) applyTurnCredit(g.completions, { gamma: c.step_gamma, scale, weights, envColumn: env ? weights.length - 1 : -1 });
    }
    if (c.process_credit === 'per_step' && c.step_separator !== null) {
      // DeepSeekMath's process supervision: each step's normalised score to its tokens and every earlier token
      const sep = c.step_separator;
      const scale = c.scale_rewards === 'none' ? 'none' : 'group';
      for (const g of ro.groups) {
        const tokenStep = g.completions.map((x) => tokenSteps(tokenTextEnds(tokenizer, x.ids), splitSteps(x.text, sep).map((st) => st.end), x.trainIds.length));
        const adv = perStepAdvantages(g.completions.map((x) => x.stepScores ?? null), tokenStep, scale);
        g.completions.forEach((x, i) => (x.tokenAdvantages = adv[i]));
      }
    }
    let old: Map<Completion, Float32Array> | null = null;
    if ((c.steps_per_generation > 1 || c.num_iterations > 1) && c.algorithm === 'grpo') {
      // the generating policy's log-probs, so that the later slices' ratios measure how far the policy moved
      old = new Map();
      const t = performance.now();
      // a micro-batch's rows at a time, or the memory layout's rows per pass
      const all = ro.groups.flatMap((g) => g.completions.map((x) => ({ g, x })));
      const rows = this.init.layout?.rowsPerPass ?? P * c.num_generations;
      // every pass packed to the rollout's longest row (one buffer size for all, as policyUpdate's passes)
      const longest = Math.max(...all.map(({ g, x }) => g.prompt.ids.length + x.trainIds.length));
      for (let r0 = 0; r0 < all.length; r0 += rows) {
        const comps = all.slice(r0, r0 + rows);
        const lp = await policyLogprobs(model, comps.map(({ g, x }) => ({ prompt: g.prompt.ids, completion: x.trainIds })), this.lora, c.temperature, longest, this.sharesPrefix());
        comps.forEach(({ x }, i) => old!.set(x, lp.logprobs[i]));
      }
      ro.generationMs += performance.now() - t;
    }
    if (c.algorithm === 'grpo' && c.advantage_estimator === 'rloo' && c.beta !== 0) {
      const t = performance.now();
      await this.rlooKlAdvantages(ro, old);
      ro.generationMs += performance.now() - t;
    }
    let replayed = 0;
    if (this.replay) {
      // TRL's replay buffer: this batch's varied groups go in, then its flat groups are swapped for draws
      this.replay.add(ro.groups, old);
      replayed = this.replay.replaceFlat(ro.groups, new Rng((opts.seed ^ 0x5bd1e995) >>> 0), old);
    }
    // the generation batch's trained tokens (TRL's num_items_in_batch): the dapo/cispo denominator of all its steps
    const batchTokens = ro.groups
      .filter((g) => !(c.dynamic_sampling && (g.flat ?? g.zeroStd)))
      .flatMap((g) => g.completions)
      .reduce((a, x) => a + (c.mask_truncated_completions && x.truncated ? 0 : x.modelMask ? x.modelMask.reduce((m, b) => m + b, 0) : x.trainIds.length), 0);
    this.numGeneratedTokens += ro.generatedTokens;
    const selection: Metrics = {
      ...(refill ? {
        'dynamic_sampling/rounds': refill.rounds,
        'dynamic_sampling/groups_generated': refill.groupsGenerated,
        'dynamic_sampling/zero_spread_before': refill.zeroSpreadBefore,
        'dynamic_sampling/zero_spread_after': refill.zeroSpreadAfter,
      } : {}),
      ...(this.replay ? { 'replay/groups_replaced': replayed, 'replay/buffer_size': this.replay.size } : {}),
    };
    return { ro, next: 0, old, batchTokens, selection };
  }

  /**
   * TRL's RLOO with beta > 0: beta times each completion's summed first-order KL, sum over its tokens of
   * old_logp - ref_logp (old: the generating policy; ref: LoRA off), is taken off its reward, and the
   * leave-one-out advantage is taken again over the group's scorable completions. The loss then has no KL term.
   */
  private async rlooKlAdvantages(ro: Rollout, old: Map<Completion, Float32Array> | null): Promise<void> {
    const c = this.config;
    const { model } = this.init;
    const all = ro.groups.flatMap((g) => g.completions.map((x) => ({ g, x })));
    const rows = this.init.layout?.rowsPerPass ?? c.prompts_per_step * c.num_generations;
    // every pass packed to the rollout's longest row (one buffer size for all, as policyUpdate's passes)
    const longest = Math.max(...all.map(({ g, x }) => g.prompt.ids.length + x.trainIds.length));
    for (let r0 = 0; r0 < all.length; r0 += rows) {
      const part = all.slice(r0, r0 + rows);
      const seqs = part.map(({ g, x }) => ({ prompt: g.prompt.ids, completion: x.trainIds }));
      // the packing of share_prompt_prefix_training (a group's prompt once), as the update's own log-probs
      const shared = this.sharesPrefix();
      const ref = await policyLogprobs(model, seqs, null, c.temperature, longest, shared);
      const pol = old ? null : await policyLogprobs(model, seqs, this.lora, c.temperature, longest, shared);
      part.forEach(({ x }, i) => {
        const o = old?.get(x) ?? pol!.logprobs[i];
        const active = c.mask_truncated_completions && x.truncated ? 0 : x.trainIds.length;
        let kl = 0;
        for (let t = 0; t < active; t++) kl += o[t] - ref.logprobs[i][t];
        x.klPenalty = kl;
      });
    }
    for (const g of ro.groups) {
      const scorable = g.completions.filter((x) => x.rewards.some((v) => v !== null && !Number.isNaN(v)));
      const penalised = (x: Completion) => x.reward - c.beta * x.klPenalty!;
      const sum = scorable.reduce((a, x) => a + penalised(x), 0);
      for (const x of scorable) x.advantage = scorable.length > 1 ? penalised(x) - (sum - penalised(x)) / (scorable.length - 1) : 0;
    }
  }

  async trainStep(): Promise<StepReport> {
    const { model } = this.init;
    const chunk = this.init.layout?.lmHeadChunkBytes;
    if (chunk === undefined) return this.trainStepInLayout();
    const chunkWas = model.lmHeadChunkBytes;
    model.lmHeadChunkBytes = chunk;
    try {
      return await this.trainStepInLayout();
    } finally {
      model.lmHeadChunkBytes = chunkWas;
    }
  }

  private async trainStepInLayout(): Promise<StepReport> {
    const c = this.config;
    const { gpu, model } = this.init;
    const t0 = performance.now();
    const tools = (await this.init.tools) ?? undefined;
    const P = c.prompts_per_step;
    const GA = c.gradient_accumulation_steps;
    const k = c.steps_per_generation;
    // one rollout feeds k x num_iterations optimizer steps: slices 0..k-1, then the cycle again (TRL's order)
    const passes = c.algorithm === 'grpo' ? c.num_iterations : 1;
    const generated = !this.pending || this.pending.next >= k * passes;
    if (generated) this.pending = await this.generate();
    const pend = this.pending!;
    const slice = pend.next++ % k;
    const ro = pend.ro;

    if (generated && this.init.layout?.trimBetweenPhases) {
      gpu.flush(); // nothing recorded may still name a buffer that trim destroys
      gpu.pool.trim();
    }
    // Micro-batches of P prompts (their groups), minus groups without signal under dynamic sampling. Under
    // steps_per_generation k the rollout holds k optimizer steps' prompts: this step trains on its slice of
    // P x GA of them.
    const sliceOf = (m: number) =>
      ro.groups.slice((slice * GA + m) * P, (slice * GA + m + 1) * P).flatMap((group) => group.completions.map((comp) => ({ group, comp })));
    const microBatches: TrainSequence[][] = [];
    const sequenceOwners: Completion[][] = [];
    const stepItems: { group: RolloutGroup; comp: Completion }[] = [];
    const droppedGroups = new Set<RolloutGroup>();
    for (let m = 0; m < GA; m++) {
      const seqs: TrainSequence[] = [];
      const owners: Completion[] = [];
      for (const { group, comp } of sliceOf(m)) {
        stepItems.push({ group, comp });
        if (c.dynamic_sampling && (group.flat ?? group.zeroStd)) {
          droppedGroups.add(group);
          continue;
        }
        const masked = c.mask_truncated_completions && comp.truncated;
        const oldLogp = pend.old?.get(comp);
        seqs.push({ prompt: group.prompt.ids, completion: comp.trainIds, advantage: comp.advantage, ...(comp.tokenAdvantages ? { tokenAdvantages: comp.tokenAdvantages } : {}), active: masked ? 0 : comp.trainIds.length, ...(oldLogp ? { oldLogp } : {}), ...(comp.modelMask ? { modelMask: comp.modelMask } : {}) });
        owners.push(comp);
      }
      microBatches.push(seqs);
      sequenceOwners.push(owners);
    }
    const dropped = droppedGroups.size;
    const lr = learningRate(c.learning_rate, c.lr_scheduler_type, c.warmup_ratio, this.step, c.max_steps);
    const t1 = performance.now();
    const profile: Record<string, number> | undefined = this.init.profile ? {} : undefined;
    const algo: Metrics = {};
    let up: { loss: number; gradNorm: number; skipped: number; trainTokens: number };
    /** real (non-padding) tokens this step's training passes forwarded: a group's prompt once with
     * share_prompt_prefix_training, the SFT term's rows included (log-prob-only forwards are not counted) */
    let computed = 0;
    // activation recomputation (the memory plan's choice, or the recompute setting) for this update only
    // (either model: GpuTransformer.recomputeLayers, or Gemma4Trainable's, which sets Gemma4Gpu's)
    const engine = asGemma4(model) ?? (model as GpuTransformer);
    const recomputeWas = engine.recomputeLayers;
    engine.recomputeLayers = c.recompute === 'on' || (c.recompute === 'auto' && !!this.init.layout?.recompute);
    try {
      if (c.algorithm === 'expert_iteration') {
        // rejection sampling: keep what reaches the threshold, and imitate it (the model's own tokens only:
        // inserted tool results and observations are context)
        const kept: SftExample[][] = microBatches.map((mb, m) =>
          mb.filter((seq, i) => seq.active > 0 && sequenceOwners[m][i].reward >= c.expert_reward_threshold).map((seq) => ({ prompt: seq.prompt, answer: seq.completion, ...(seq.modelMask ? { answerMask: seq.modelMask } : {}) })));
        const nKept = kept.reduce((a, mb) => a + mb.length, 0);
        algo['expert/kept_ratio'] = nKept / Math.max(stepItems.length, 1);
        if (nKept > 0) {
          const ce = await crossEntropyUpdate(gpu, model, this.lora, this.optimizer, kept, lr, (m) => dropoutForwardCounter(this.step, 0, m, 1, kept.length));
          up = { loss: ce.loss, gradNorm: ce.gradNorm, skipped: ce.skipped ? 1 : 0, trainTokens: ce.tokens };
          computed = kept.flat().reduce((a, x) => a + x.prompt.length + x.answer.length, 0);
        } else up = { loss: 0, gradNorm: 0, skipped: 0, trainTokens: 0 };
      } else if (c.algorithm === 'online_dpo') {
        // the best and worst completion of each group as a pair, trained with the DPO loss (preference/online.ts)
        const groupsOf = (m: number) => [...new Set(sliceOf(m).map((x) => x.group))].filter((g) => !droppedGroups.has(g));
        const od = await onlineDpoUpdate(gpu, model as GpuTransformer, this.lora, this.optimizer, Array.from({ length: GA }, (_, m) => groupsOf(m)), c, lr);
        up = od;
        computed = od.trainTokens; // the chosen and rejected rows' prompt + completion tokens
        Object.assign(algo, od.metrics);
      } else {
        // sft_coef: the reference answers of the step's prompts (sft_on picks which) join the same optimizer step
        const sftGroups = c.sft_coef > 0 ? sftTermGroups([...new Set(stepItems.map((x) => x.group))], c.sft_on) : [];
        if (c.sft_coef > 0) algo['sft/groups'] = sftGroups.length;
        const sftExamples = sftTermExamples(sftGroups, c.sft_column, this.init.tokenizer, this.sftTargets, c.max_completion_length);
        // passes of at most the memory plan's rows (a prompt + answer row is no longer than a prompt + completion one)
        const perPass = this.init.layout?.rowsPerPass ?? P;
        const sftPasses = Array.from({ length: Math.ceil(sftExamples.length / perPass) }, (_, i) => sftExamples.slice(i * perPass, (i + 1) * perPass));
        // every pass of the step (the policy update's and the SFT term's) packed to the step's longest row: one buffer
        // size for all of them, as in the memory plan's worst case
        const packLength = Math.max(0, ...microBatches.flat().map((s) => s.prompt.length + s.completion.length), ...sftExamples.map((x) => x.prompt.length + x.answer.length));
        const extraGradients = sftExamples.length === 0 ? undefined : async () => {
          const ce = await crossEntropyGrads(gpu, model, this.lora, sftPasses, () => dropoutForwardCounter(this.step, 0, GA, 1, GA + 1), null, c.sft_coef, false, packLength);
          algo['sft/loss'] = ce.loss;
          return c.sft_coef * ce.loss;
        };
        const pu = await policyUpdate(gpu, model, this.lora, this.optimizer, microBatches, {
          extraGradients,
          lossType: c.advantage_estimator === 'rloo' ? 'grpo' : c.loss_type, // RLOO: the mean of the per-completion losses
          maxCompletionLength: c.max_completion_length,
          numIterations: 1, // each pass over the rollout is its own optimizer step (trainStep)
          temperature: c.temperature,
          loss: this.lossParams(),
          topEntropyQuantile: c.top_entropy_quantile,
          entropyCoef: c.entropy_coef,
          batchTokens: pend.batchTokens,
          trace: c.log_completions,
          learningRate: lr,
          dropoutCounter: this.step,
          profile,
          rowsPerPass: this.init.layout?.rowsPerPass ?? null,
          sharedPrefix: this.sharesPrefix(),
          packLength,
        });
        up = pu;
        computed = pu.computedTokens + sftExamples.reduce((a, x) => a + x.prompt.length + x.answer.length, 0);
        algo.kl = pu.kl;
        if (c.advantage_estimator === 'rloo' && c.beta !== 0) {
          // TRL's RLOO logs the first-order KL it put on the rewards, per token
          const items = stepItems.filter((x) => x.comp.klPenalty !== undefined);
          const tokens = items.reduce((a, x) => a + (c.mask_truncated_completions && x.comp.truncated ? 0 : x.comp.trainIds.length), 0);
          algo.kl = items.reduce((a, x) => a + x.comp.klPenalty!, 0) / Math.max(tokens, 1);
        }
        algo.entropy = pu.entropy;
        // TRL logs clip_ratio/* for the clipped losses only, and cispo_clip_ratio for cispo (sapo: neither)
        if (c.loss_type === 'cispo' && c.advantage_estimator !== 'rloo') algo.cispo_clip_ratio = pu.clipHigh;
        else if ((c.loss_type !== 'sapo' && c.loss_type !== 'vespo') || c.advantage_estimator === 'rloo') {
          algo['clip_ratio/low_mean'] = pu.clipLow;
          algo['clip_ratio/high_mean'] = pu.clipHigh;
          algo['clip_ratio/region_mean'] = pu.clipRegion;
        }
        pu.traces?.forEach((mb, m) => mb.forEach((tr, i) => this.traces.set(sequenceOwners[m][i], { ...tr, step: this.step + 1 })));
      }
    } finally {
      engine.recomputeLayers = recomputeWas;
    }
    const trainMs = performance.now() - t1;
    const iterations = 1;
    // Every step ends with the pool's idle buffers freed, whatever the layout: the plan is one step's peak from an
    // empty pool, and a step whose rows pack to another length would otherwise add its buffer sizes to the last
    // step's idle ones (a run's peak creeping past the plan; test/grpo/memory_plan_steps.test.ts).
    gpu.flush(); // nothing recorded may still name a buffer that trim destroys
    gpu.pool.trim();
    this.skippedUpdates += up.skipped;
    this.numTrainTokensComputed += computed;
    if (up.skipped > 0 && up.skipped === iterations) this.consecutiveSkips++;
    else if (up.trainTokens > 0) this.consecutiveSkips = 0;

    const groups = [...new Set(stepItems.map((x) => x.group))];
    const completions = stepItems.map((x) => x.comp);
    const lengths = completions.map((x) => x.trainIds.length);
    const rewards = completions.map((x) => x.reward);
    const promptTokens = stepItems.reduce((a, x) => a + x.group.prompt.ids.length, 0);
    this.numTokens += promptTokens + lengths.reduce((a, b) => a + b, 0);
    const metrics: Metrics = {
      reward: mean(rewards),
      reward_std: mean(groups.map((g) => g.rewardStd)),
      frac_reward_zero_std: groups.filter((g) => g.loggedZeroStd ?? g.zeroStd).length / groups.length,
      'completions/mean_length': mean(lengths),
      'completions/min_length': Math.min(...lengths),
      'completions/max_length': Math.max(...lengths),
      'completions/clipped_ratio': completions.filter((x) => x.truncated).length / completions.length,
      ...(c.algorithm !== 'grpo' ? {} : { kl: algo.kl, entropy: algo.entropy }),
      ...(c.algorithm === 'grpo' && algo['clip_ratio/low_mean'] !== undefined ? { 'clip_ratio/low_mean': algo['clip_ratio/low_mean'], 'clip_ratio/high_mean': algo['clip_ratio/high_mean'], 'clip_ratio/region_mean': algo['clip_ratio/region_mean'] } : {}),
      loss: up.loss,
      grad_norm: up.gradNorm,
      learning_rate: lr,
      num_tokens: this.numTokens,
      num_generated_tokens: this.numGeneratedTokens,
      // ours, not TRL's: the tokens the training passes forwarded so far (share_prompt_prefix_training lowers it)
      num_train_tokens_computed: this.numTrainTokensComputed,
      step_time: (performance.now() - t0) / 1000,
      ...(generated ? { 'tokens_per_second/generation': ro.generatedTokens / Math.max(ro.generationMs / 1000, 1e-9) } : {}),
      // (trainTokens already counts every iteration's forward and backward)
      'tokens_per_second/training': up.trainTokens / Math.max(trainMs / 1000, 1e-9),
      dropped_groups: dropped,
      ...(generated ? pend.selection : {}),
      ...(c.skip_solved_epochs > 0 ? { 'data/skipped_prompts': this.skippedPrompts } : {}),
      ...(c.curriculum_phases !== null && this.schedule ? { 'curriculum/phase': this.schedule.phaseAt(this.step) } : {}),
      ...(usesDataSelection(c) ? passRateShares(groups) : {}),
      ...(c.mixture_column ? rewardsBySource(stepItems.map((x) => ({ source: x.group.prompt.raw[c.mixture_column!], reward: x.comp.reward }))) : {}),
      skipped_updates: this.skippedUpdates,
      reward_errors: generated ? ro.rewardErrors.length : 0,
      // GPU memory held by the engine's buffer pool: the most ever allocated, and now
      'gpu/peak_bytes': gpu.stats.peakBytesAllocated,
      'gpu/allocated_bytes': gpu.stats.bytesAllocated,
      ...(algo.cispo_clip_ratio !== undefined ? { cispo_clip_ratio: algo.cispo_clip_ratio } : {}),
      ...(algo['expert/kept_ratio'] !== undefined ? { 'expert/kept_ratio': algo['expert/kept_ratio'] } : {}),
      ...(c.algorithm === 'online_dpo' ? algo : {}),
      ...(algo['sft/groups'] !== undefined ? { 'sft/groups': algo['sft/groups'], 'sft/loss': algo['sft/loss'] ?? NaN } : {}),
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
    const traces = groups.slice(0, TRACE_GROUPS).map((g) => g.completions.map((comp) => this.traceView(comp)));
    return { step: this.step, metrics, groups, traces, rewardNames: ro.rewardNames, rewardErrors: generated ? ro.rewardErrors : [] };
  }

  private traceView(comp: Completion): TokenTraceView | null {
    const t = this.traces.get(comp);
    if (!t) return null;
    const n = Math.min(comp.trainIds.length, TRACE_TOKENS);
    const cut = (xs: number[]) => xs.slice(0, n);
    const { tokenizer } = this.init;
    return {
      step: t.step,
      active: Math.min(t.active, n),
      // a token that decodes to nothing (special: <|im_end|>, </s>, an unknown) shows its own text
      tokens: comp.trainIds.slice(0, n).map((id) => tokenizer.decode([id]) || tokenizer.tokenText(id)),
      logp: cut(t.logp),
      entropy: cut(t.entropy),
      ratio: cut(t.ratio),
      contribution: cut(t.contribution),
      flags: cut(t.flags),
      advantage: comp.tokenAdvantages ? cut(comp.tokenAdvantages) : new Array<number>(n).fill(comp.advantage),
      ...(comp.modelMask ? { modelMask: cut(comp.modelMask) } : {}),
    };
  }

  /** pass@1 and mean reward on the eval split (LoRA on), greedy or sampled at eval_temperature (with the
   * same seed at every evaluation). A completion passes when the first reward function gives it full marks (>= 1).
   * With tools or an environment, evaluation runs the same episodes as training; withTools false evaluates
   * the model without them (plain single-turn generation: what it does on its own). */
  async evaluate(maxSamples = this.config.eval_max_samples, temperature = this.config.eval_temperature, withTools = true): Promise<EvalReport> {
    const c = this.config;
    const tools = withTools ? (await this.init.tools) ?? null : null;
    return evaluatePrompts(this.init.model, this.init.tokenizer, this.lora, this.init.scorer, this.init.eval.slice(0, maxSamples),
      c.max_completion_length, this.step, 32, { temperature, topK: c.top_k, topP: c.top_p, seed: c.seed, kvPrecision: c.kv_precision }, c.num_generations_eval ?? 1, tools);
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

/** What a Gemma 4 run cannot do yet (its model, gemma4_gpu.ts, has LoRA gradients only), refused before any step
 * with the setting to change. */
function refuseForGemma4(c: GrpoConfig, tools: boolean): void {
  const no = (what: string, fix: string) => {
    throw new Error(`Gemma 4: ${what} is not supported yet; ${fix}`);
  };
  if (c.algorithm === 'online_dpo') no('algorithm "online_dpo"', 'use "grpo" or "expert_iteration"');
  if (tools) no('tools and environments (multi-turn rollouts)', 'leave tools_source and env_source empty');
  if (c.lora_dropout > 0) no(`LoRA dropout (lora_dropout ${c.lora_dropout})`, 'set lora_dropout to 0');
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

/** The run's prompt schedule (curriculum_phases or mixture_weights), checked against the data; null without one. */
function promptScheduleFor(train: readonly PromptExample[], c: GrpoConfig): PromptSchedule | null {
  if (c.curriculum_phases !== null) {
    const phases = parsePhases(c.curriculum_phases);
    if (typeof phases === 'string') throw new Error(`curriculum_phases ${phases}`);
    return PromptSchedule.phases(train, phases, c.seed);
  }
  if (c.mixture_weights !== null && c.mixture_column) {
    const w = parseMixture(c.mixture_weights);
    if (typeof w === 'string') throw new Error(`mixture_weights ${w}`);
    return PromptSchedule.mixture(train, c.mixture_column, w, c.seed);
  }
  return null;
}

/** rewards_by_source/<source>: the step's mean reward per value of mixture_column (names bounded). */
function rewardsBySource(items: { source: unknown; reward: number }[]): Metrics {
  const by = new Map<string, number[]>();
  for (const { source, reward } of items) {
    const k = typeof source === 'string' || typeof source === 'number' ? String(source).slice(0, 64) : '(none)';
    if (!by.has(k) && by.size >= 32) continue;
    by.set(k, [...(by.get(k) ?? []), reward]);
  }
  return Object.fromEntries([...by].map(([k, v]) => [`rewards_by_source/${k}`, v.reduce((a, b) => a + b, 0) / v.length]));
}

/** Whether the run chooses its prompts (issue 29's settings): then the step logs its groups' pass-rate shares. */
function usesDataSelection(c: GrpoConfig): boolean {
  return c.pass_rate_band !== null || c.curriculum !== 'shuffle' || c.curriculum_phases !== null || c.mixture_weights !== null ||
    c.skip_solved_epochs > 0 || c.max_resample_rounds > 0 || c.replay_buffer_size > 0;
}

/** pass_rate/none, /some, /all: the share of the step's groups whose completions all fail, partly pass or all pass
 * (first reward >= 1): the pass-rate histogram over time in three bins. */
function passRateShares(groups: readonly RolloutGroup[]): Metrics {
  let none = 0;
  let all = 0;
  for (const g of groups) {
    const passed = g.completions.filter((x) => (x.rewards[0] ?? -Infinity) >= 1 - 1e-6).length;
    if (passed === 0) none++;
    else if (passed === g.completions.length) all++;
  }
  const n = Math.max(groups.length, 1);
  return { 'pass_rate/none': none / n, 'pass_rate/some': (groups.length - none - all) / n, 'pass_rate/all': all / n };
}
