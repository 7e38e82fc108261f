// The reward-model trainer (algorithm "reward_model", TRL's RewardTrainer with a PEFT SEQ_CLS LoRA): each
// optimizer step takes prompts_per_step pairs per micro-batch, gradient_accumulation_steps micro-batches, runs
// the model with the LoRA over prompt + chosen and prompt + rejected (right-padded rows), reads each row's
// reward from the scalar head on its last token (src/model/score_head.ts), computes the Bradley-Terry loss on
// the CPU (loss.ts) and sends d loss / d r back through the head into the transformer backward (LoRA) and the
// head's weight. Dropout is off (RewardConfig's disable_dropout, default true). Per micro-batch the loss is
// the batch mean, and micro-batches are averaged; metrics are TRL's (accuracy, margin, min/mean/max_reward),
// averaged over micro-batches as TRL averages its logged lists.

import type { GpuRuntime } from '../../gpu/runtime';
import type { GpuTransformer } from '../../model/transformer';
import { LoraSet, type LoraModule } from '../../model/lora';
import { packRows, releaseBatch, type SequenceRow } from '../../model/logprobs';
import { gatherLastHidden, scatterLastHidden, scoreHeadBackward, scoreHeadForward, ScoreHead } from '../../model/score_head';
import type { GrpoConfig } from '../config';
import { AdamW } from '../optimizer';
import { learningRate } from '../schedule';
import { EpochTrainer } from '../epoch_trainer';
import type { PreferenceExample } from '../preference/data';
import { bradleyTerryLoss } from './loss';

export type Metrics = Record<string, number>;

/** Rows per forward pass when rewards are only read. */
const READ_ROWS = 16;

/** Each row's reward (no gradient) under `lora` and head weights `w` (C): the inference forward, one layer's
 * activations at a time. The base weights are the model's own: a reward adapter is only its LoRA and head. */
export async function sequenceRewards(model: GpuTransformer, rows: SequenceRow[], lora: LoraSet | null, w: Float32Array): Promise<number[]> {
  const { gpu } = model;
  const C = model.config.hiddenSize;
  const out: number[] = [];
  for (let i = 0; i < rows.length; i += READ_ROWS) {
    const batch = packRows(gpu, rows.slice(i, i + READ_ROWS), model.config.maxPositionEmbeddings);
    const act = model.forward(batch.ids, batch.positions, batch.B, batch.T, lora, null, {});
    try {
      const h = await gatherLastHidden(gpu, act.f, batch, C);
      out.push(...scoreHeadForward(h, w, batch.B, C));
    } finally {
      model.releaseActivations(act);
      releaseBatch(gpu, batch);
    }
  }
  return out;
}

/** One forward and backward over `rows` (LoRA on, no dropout): reads each row's reward, asks `grad` for
 * d loss / d r per row, accumulates the gradient into the LoRA grads and returns it for the head's weight
 * (dw, C) with the rewards. */
export async function rewardsBackward(
  model: GpuTransformer, lora: LoraSet, w: Float32Array, rows: SequenceRow[], grad: (r: number[]) => number[],
): Promise<{ rewards: number[]; dw: Float64Array }> {
  const { gpu } = model;
  const C = model.config.hiddenSize;
  const batch = packRows(gpu, rows, model.config.maxPositionEmbeddings);
  const act = model.forward(batch.ids, batch.positions, batch.B, batch.T, lora, null);
  try {
    const h = await gatherLastHidden(gpu, act.f, batch, C);
    const rewards = scoreHeadForward(h, w, batch.B, C);
    const { dh, dw } = scoreHeadBackward(grad(rewards), h, w, C);
    const df = scatterLastHidden(gpu, batch, dh, C);
    model.backwardFromHead(act, df, null);
    return { rewards, dw };
  } finally {
    model.releaseActivations(act);
    releaseBatch(gpu, batch);
  }
}

export interface RewardModelTrainerInit {
  gpu: GpuRuntime;
  model: GpuTransformer;
  config: GrpoConfig;
  train: PreferenceExample[];
  eval: PreferenceExample[];
}

/** A pair's margin: the dataset row's numeric "margin" column (TRL's optional margin), else 0. */
export function pairMargin(e: PreferenceExample): number | null {
  const m = e.prompt.raw?.margin;
  if (m === undefined || m === null || m === '') return null;
  const x = typeof m === 'number' ? m : Number(m);
  if (!Number.isFinite(x)) throw new Error(`line ${e.line}: the "margin" column must hold a number, got ${JSON.stringify(m)}`);
  return x;
}

export class RewardModelTrainer extends EpochTrainer<PreferenceExample> {
  readonly lora: LoraSet;
  readonly head: ScoreHead;
  readonly optimizer: AdamW;
  /** whether the training pairs carry a margin column (all of them, or none) */
  private readonly margins: boolean;

  constructor(private readonly init: RewardModelTrainerInit) {
    super(init.config, init.train, 'lower learning_rate');
    const { gpu, model, config: c } = init;
    if (c.algorithm !== 'reward_model') throw new Error(`the reward-model trainer runs algorithm "reward_model", not "${c.algorithm}"`);
    if (init.train.length === 0) throw new Error('the training split has no preference pairs');
    for (const e of [...init.train, ...init.eval]) {
      if (e.rejected === undefined) throw new Error(`line ${e.line}: algorithm "reward_model" needs pairs (prompt, chosen, rejected); load the dataset as preference data`);
    }
    const withMargin = init.train.filter((e) => pairMargin(e) !== null);
    if (withMargin.length > 0 && withMargin.length < init.train.length) {
      const missing = init.train.find((e) => pairMargin(e) === null)!;
      throw new Error(`line ${missing.line}: no "margin" although other pairs have one; give every pair a margin or none`);
    }
    this.margins = withMargin.length > 0;
    this.lora = new LoraSet(gpu, model.config, {
      r: c.lora_r, alpha: c.lora_alpha, targetModules: c.lora_target_modules as LoraModule[], useRslora: c.use_rslora, dropout: c.lora_dropout,
    });
    this.lora.initialize(c.seed);
    this.head = new ScoreHead(gpu, model.config.hiddenSize);
    this.head.initialize(c.seed);
    this.optimizer = new AdamW(gpu, [...this.lora.parameters(), this.head.parameter()], {
      beta1: c.adam_beta1, beta2: c.adam_beta2, eps: c.adam_epsilon, weightDecay: c.weight_decay, maxGradNorm: c.max_grad_norm,
    });
  }

  /** The chosen rows then the rejected rows of a batch (TRL's torch.chunk into chosen and rejected). */
  private rows(batch: PreferenceExample[]): SequenceRow[] {
    return [...batch.map((e) => ({ prompt: e.prompt.ids, completion: e.chosen })), ...batch.map((e) => ({ prompt: e.prompt.ids, completion: e.rejected! }))];
  }

  private marginsOf(batch: PreferenceExample[]): number[] | null {
    return this.margins ? batch.map((e) => pairMargin(e) ?? 0) : null;
  }

  async trainStep(): Promise<{ step: number; metrics: Metrics }> {
    const c = this.config;
    const { gpu, model } = this.init;
    const t0 = performance.now();
    const lr = learningRate(c.learning_rate, c.lr_scheduler_type, c.warmup_ratio, this.step, c.max_steps);
    const GA = c.gradient_accumulation_steps;
    this.optimizer.zeroGrads();
    const w = await this.head.read();
    const dw = new Float64Array(w.length);
    const sum: Metrics = {};
    let loss = 0;
    let tokens = 0;
    for (let m = 0; m < GA; m++) {
      const batch = this.next(c.prompts_per_step);
      const rows = this.rows(batch);
      tokens += rows.reduce((a, r) => a + r.prompt.length + r.completion.length, 0);
      const B = batch.length;
      let metrics: Metrics = {};
      const r = await rewardsBackward(model, this.lora, w, rows, (s) => {
        const bt = bradleyTerryLoss(s.slice(0, B), s.slice(B), this.marginsOf(batch), c.center_rewards_coefficient);
        loss += bt.loss / GA;
        metrics = bt.metrics;
        return [...bt.dChosen, ...bt.dRejected].map((x) => x / GA);
      });
      for (let i = 0; i < dw.length; i++) dw[i] += r.dw[i];
      for (const [k, v] of Object.entries(metrics)) sum[k] = (sum[k] ?? 0) + v / GA;
    }
    gpu.write(this.head.grad, Float32Array.from(dw));
    this.optimizer.computeNorm();
    const [norm] = await gpu.read(this.optimizer.normOut, 1);
    const skipped = !(Number.isFinite(norm) && Number.isFinite(loss));
    if (!skipped) this.optimizer.applyUpdate(lr);
    this.countUpdate(skipped);
    this.step++;
    this.numTokens += tokens;
    return {
      step: this.step,
      metrics: {
        loss, ...sum, grad_norm: norm, learning_rate: lr, num_tokens: this.numTokens, step_time: (performance.now() - t0) / 1000,
        skipped_updates: this.skippedUpdates,
      },
    };
  }

  /** Held-out metrics under TRL's eval_ names (eval_loss, eval_accuracy, eval_margin, eval_min/mean/max_reward),
   * over all held-out pairs at once. */
  async evaluatePairs(examples: PreferenceExample[] = this.init.eval): Promise<Metrics> {
    if (examples.length === 0) return {};
    const w = await this.head.read();
    const r = await sequenceRewards(this.init.model, this.rows(examples), this.lora, w);
    const B = examples.length;
    const margins = this.margins ? examples.map((e) => pairMargin(e) ?? 0) : null;
    const bt = bradleyTerryLoss(r.slice(0, B), r.slice(B), margins, this.config.center_rewards_coefficient);
    return Object.fromEntries(Object.entries({ loss: bt.loss, ...bt.metrics }).map(([k, v]) => [`eval_${k}`, v]));
  }

  release(): void {
    this.optimizer.release();
    this.lora.release();
    this.head.release();
  }
}
