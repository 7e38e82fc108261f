// The preference trainer as the page's engine worker drives a run (src/worker/run.ts): the same calls as
// GrpoTrainer (trainStep -> StepReport, evaluate -> EvalReport, progress for checkpoints). A step's report
// carries TRL's preference metrics and, when pairs are held out, their pair accuracy (eval_rewards/*,
// measured every step on at most eval_max_samples pairs); evaluate() answers the held-out prompts as GRPO's
// evaluation does, scored against the chosen (KTO: desirable) completion.

import type { GpuRuntime } from '../../gpu/runtime';
import type { GpuTransformer } from '../../model/transformer';
import type { Tokenizer } from '../../model/tokenizer';
import type { GrpoConfig } from '../config';
import type { RewardScorer } from '../rewards_scorer';
import { evaluatePrompts, type EvalReport } from '../evaluate';
import type { StepReport, TrainerProgress } from '../trainer';
import type { PreferenceExample } from './data';
import { PreferenceTrainer } from './trainer';
import { RewardModelTrainer } from '../reward_model/trainer';

export class PreferenceRunTrainer {
  /** algorithm reward_model: the reward-model trainer (LoRA + scalar head) on the same pairs */
  readonly inner: PreferenceTrainer | RewardModelTrainer;

  constructor(
    gpu: GpuRuntime,
    private readonly model: GpuTransformer,
    private readonly tokenizer: Tokenizer,
    config: GrpoConfig,
    train: PreferenceExample[],
    private readonly held: PreferenceExample[],
    private readonly scorer: RewardScorer,
  ) {
    const init = { gpu, model, config, train, eval: held.slice(0, config.eval_max_samples) };
    this.inner = config.algorithm === 'reward_model' ? new RewardModelTrainer(init) : new PreferenceTrainer(init);
  }

  get lora() {
    return this.inner.lora;
  }
  get optimizer() {
    return this.inner.optimizer;
  }
  get step(): number {
    return this.inner.step;
  }
  get config(): GrpoConfig {
    return this.inner.config;
  }
  get faulted(): string | null {
    return this.inner.faulted;
  }
  setRunLength(maxSteps: number, evalInterval: number): void {
    this.inner.setRunLength(maxSteps, evalInterval);
  }
  progress(): TrainerProgress {
    return this.inner.progress();
  }
  restoreProgress(p: TrainerProgress): void {
    this.inner.restoreProgress(p);
  }

  async trainStep(): Promise<StepReport> {
    const r = await this.inner.trainStep();
    const held = await this.inner.evaluatePairs();
    return { step: r.step, metrics: { ...r.metrics, ...held }, groups: [], traces: [], rewardNames: [], rewardErrors: [] };
  }

  async evaluate(maxSamples = this.config.eval_max_samples, temperature = this.config.eval_temperature): Promise<EvalReport> {
    const c = this.config;
    // a reward model does not change what the model writes: no generation to evaluate (its held-out pair
    // accuracy is in every step's report)
    if (this.inner instanceof RewardModelTrainer) maxSamples = 0;
    const prompts = this.held.filter((e) => e.desirable !== false).map((e) => e.prompt).slice(0, maxSamples);
    return evaluatePrompts(this.model, this.tokenizer, this.lora, this.scorer, prompts, c.max_completion_length, this.step, 32,
      { temperature, topK: c.top_k, topP: c.top_p, seed: c.seed, kvPrecision: c.kv_precision }, c.num_generations_eval ?? 1);
  }

  release(): void {
    this.inner.release();
  }

  /** (no tools: GRPO's sandbox worker does not exist here) */
  releaseTools(): void {}
}
