// Supervised fine-tuning as a run (algorithm "sft"): the page's worker (src/worker/run.ts) and the CLI drive it
// with the same calls as GrpoTrainer (trainStep -> StepReport, evaluate -> EvalReport, progress for
// checkpoints). A step is one optimizer step over gradient_accumulation_steps micro-batches of prompts_per_step
// prompt/answer rows (TRL SFTTrainer's per_device_train_batch_size and gradient_accumulation_steps), the loss the
// mean cross-entropy of the answer tokens and the stop token (prompt tokens ignored: TRL's completion_only_loss);
// an answer longer than max_completion_length tokens keeps its start (prompts are cut as GRPO's, max_prompt_length).
// It logs TRL SFTTrainer's metrics: loss, mean_token_accuracy, entropy, num_tokens, grad_norm, learning_rate.
// Its LoRA can then start a GRPO or DPO run (the run controller copies it: "Continue with GRPO").

import type { GpuRuntime } from '../gpu/runtime';
import type { GpuTransformer } from '../model/transformer';
import type { Tokenizer } from '../model/tokenizer';
import { LoraSet, type LoraModule } from '../model/lora';
import type { GrpoConfig } from './config';
import { AdamW } from './optimizer';
import { learningRate } from './schedule';
import { crossEntropyUpdate, sftTargetIds, type SftExample } from './sft';
import { evaluatePrompts, type EvalReport } from './evaluate';
import type { RewardScorer } from './rewards_scorer';
import type { Metrics, StepReport } from './trainer';
import type { PromptExample } from './rollout';
import { dropoutForwardCounter } from './policy_update';
import { EpochTrainer } from './epoch_trainer';

export class SftRunTrainer extends EpochTrainer<SftExample> {
  readonly lora: LoraSet;
  readonly optimizer: AdamW;

  constructor(
    private readonly gpu: GpuRuntime,
    private readonly model: GpuTransformer,
    private readonly tokenizer: Tokenizer,
    config: GrpoConfig,
    train: readonly PromptExample[],
    private readonly held: readonly PromptExample[],
    private readonly scorer: RewardScorer,
  ) {
    if (config.algorithm !== 'sft') throw new Error(`the SFT trainer runs algorithm "sft", not "${config.algorithm}"`);
    if (train.length === 0) throw new Error('supervised training needs at least one prompt/answer row');
    const examples = train.map((e) => ({ prompt: e.ids, answer: sftTargetIds(tokenizer, e.answer, config.max_completion_length) }));
    super(config, examples, 'lower learning_rate');
    const c = config;
    this.lora = new LoraSet(gpu, model.config, {
      r: c.lora_r, alpha: c.lora_alpha, targetModules: c.lora_target_modules as LoraModule[], useRslora: c.use_rslora, dropout: c.lora_dropout,
    });
    this.lora.initialize(c.seed);
    this.optimizer = new AdamW(gpu, this.lora.parameters().map((p) => ({ name: p.name, param: p.param, grad: p.grad })), {
      beta1: c.adam_beta1, beta2: c.adam_beta2, eps: c.adam_epsilon, weightDecay: c.weight_decay, maxGradNorm: c.max_grad_norm,
    });
  }

  async trainStep(): Promise<StepReport> {
    const c = this.config;
    const t0 = performance.now();
    const GA = c.gradient_accumulation_steps;
    const mbs = Array.from({ length: GA }, () => this.next(c.prompts_per_step));
    const lr = learningRate(c.learning_rate, c.lr_scheduler_type, c.warmup_ratio, this.step, c.max_steps);
    const up = await crossEntropyUpdate(this.gpu, this.model, this.lora, this.optimizer, mbs, lr, (m) => dropoutForwardCounter(this.step, 0, m, 1, GA), null, true);
    this.step++;
    this.countUpdate(up.skipped);
    const st = up.stats!;
    this.numTokens += st.seenTokens;
    const metrics: Metrics = {
      loss: up.loss,
      grad_norm: up.gradNorm,
      learning_rate: lr,
      entropy: st.entropy,
      num_tokens: this.numTokens,
      ...(st.accuracy !== null ? { mean_token_accuracy: st.accuracy } : {}),
      'sft/answer_tokens': up.tokens,
      skipped_updates: this.skippedUpdates,
      step_time: (performance.now() - t0) / 1000,
    };
    return { step: this.step, metrics, groups: [], traces: [], rewardNames: [], rewardErrors: [] };
  }

  /** The held-out prompts answered by the tuned model and scored by the run's rewards against their answers
   * (as GRPO's evaluation: pass@1 shows what SFT taught before RL starts). */
  async evaluate(maxSamples = this.config.eval_max_samples, temperature = this.config.eval_temperature): Promise<EvalReport> {
    const c = this.config;
    return evaluatePrompts(this.model, this.tokenizer, this.lora, this.scorer, [...this.held.slice(0, maxSamples)], c.max_completion_length, this.step, 32,
      { temperature, topK: c.top_k, topP: c.top_p, seed: c.seed, kvPrecision: c.kv_precision }, c.num_generations_eval ?? 1);
  }

  release(): void {
    this.optimizer.release();
    this.lora.release();
  }

  /** (no tools: SFT has no rollouts) */
  releaseTools(): void {}
}
