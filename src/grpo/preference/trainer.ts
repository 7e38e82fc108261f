// The offline preference trainer (algorithm "dpo", "simpo", "orpo", "kto"): each optimizer step takes
// prompts_per_step pairs (KTO: examples) per micro-batch, gradient_accumulation_steps micro-batches, runs
// the policy (LoRA on) over the chosen and rejected completions, reads each completion's summed log-prob,
// computes the loss on the CPU (losses.ts) and sends d loss / d logp back through the same fused LM head
// and transformer backward as SFT (src/model/lm_head.ts). The reference is the same model with the
// adapter off: its log-probs are computed once per example before training (TRL's
// precompute_ref_log_probs). LoRA dropout is off, as TRL's disable_dropout (default true) makes it.
// Per micro-batch the loss is TRL's batch mean, and micro-batches are averaged (gradient accumulation).

import type { GpuRuntime } from '../../gpu/runtime';
import type { GpuTransformer } from '../../model/transformer';
import { LoraSet, type LoraModule } from '../../model/lora';
import { completionIndex, completionLogprobs, packRows, releaseBatch, type SequenceRow } from '../../model/logprobs';
import { headLogprobs, headLogprobsBackward } from '../../model/lm_head';
import type { GrpoConfig } from '../config';
import { isPreferenceAlgorithm } from '../config/enums';
import { AdamW } from '../optimizer';
import { learningRate } from '../schedule';
import { EpochTrainer } from '../epoch_trainer';
import { ktoLoss, pairLoss, type PairLogps, type PairLossSettings } from './losses';
import type { PreferenceExample } from './data';

export type Metrics = Record<string, number>;

export interface PreferenceTrainerInit {
  gpu: GpuRuntime;
  model: GpuTransformer;
  config: GrpoConfig;
  train: PreferenceExample[];
  eval: PreferenceExample[];
}

/** Rows per forward pass when only log-probs are read (reference, evaluation, KTO's KL sequences). */
const READ_ROWS = 16;

/** Each row's summed completion log-prob (no gradient); lora null is the reference model. */
export async function sequenceLogps(model: GpuTransformer, rows: SequenceRow[], lora: LoraSet | null): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < rows.length; i += READ_ROWS) {
    const lp = await completionLogprobs(model, rows.slice(i, i + READ_ROWS), lora);
    for (const x of lp.logprobs) out.push(x.reduce((a, b) => a + b, 0));
  }
  return out;
}

/** One forward and backward over `rows` (LoRA on, no dropout): reads each row's summed completion log-prob,
 * asks `grad` for d loss / d sum per row, and accumulates that gradient into the LoRA grads (every token of
 * a row's completion gets its row's value). Returns the sums. */
export async function logpSumsBackward(gpu: GpuRuntime, model: GpuTransformer, lora: LoraSet, rows: SequenceRow[], grad: (sums: number[]) => number[]): Promise<number[]> {
  const batch = packRows(gpu, rows, model.config.maxPositionEmbeddings);
  const N = batch.B * batch.T;
  const act = model.forward(batch.ids, batch.positions, batch.B, batch.T, lora, null);
  const { logp, entropy, lse } = headLogprobs(model, act.f, batch.targets, 1, 'pref_logp');
  try {
    const lp = await gpu.read(logp);
    const sums = rows.map((r, b) => {
      let s = 0;
      for (let j = 0; j < r.completion.length; j++) s += lp[completionIndex(batch, b, j)];
      return s;
    });
    const g = grad(sums);
    const d = new Float32Array(N);
    rows.forEach((r, b) => {
      for (let j = 0; j < r.completion.length; j++) d[completionIndex(batch, b, j)] = g[b];
    });
    const dlogp = gpu.upload(d, [N], 'pref_dlogp');
    const df = gpu.tensor([N, model.config.hiddenSize], 'd_final_norm');
    headLogprobsBackward(model, df, dlogp, act.f, batch.targets, lse, 1);
    model.backwardFromHead(act, df, null);
    gpu.release(dlogp);
    return sums;
  } finally {
    model.releaseActivations(act);
    gpu.release(logp, entropy, lse);
    releaseBatch(gpu, batch);
  }
}

export class PreferenceTrainer extends EpochTrainer<PreferenceExample> {
  readonly lora: LoraSet;
  readonly optimizer: AdamW;
  /** reference log-prob sums per example: [chosen, rejected] (KTO: [completion]) */
  private readonly ref = new Map<PreferenceExample, number[]>();

  constructor(private readonly init: PreferenceTrainerInit) {
    super(init.config, init.train, 'lower learning_rate or beta');
    const { gpu, model, config: c } = init;
    if (!isPreferenceAlgorithm(c.algorithm)) throw new Error(`the preference trainer runs algorithm dpo, simpo, orpo or kto, not "${c.algorithm}"`);
    if (init.train.length === 0) throw new Error('the training split has no preference examples');
    const kto = c.algorithm === 'kto';
    for (const e of [...init.train, ...init.eval]) {
      if (kto ? e.desirable === undefined : e.rejected === undefined) {
        throw new Error(`line ${e.line}: algorithm "${c.algorithm}" needs ${kto ? 'unpaired examples (prompt, completion, label)' : 'pairs (prompt, chosen, rejected)'}; load the dataset as ${kto ? 'unpaired' : 'preference'} data`);
      }
    }
    if (kto && c.prompts_per_step < 2) throw new Error('KTO estimates its KL baseline from the other examples of a batch: prompts_per_step must be at least 2');
    this.lora = new LoraSet(gpu, model.config, {
      r: c.lora_r, alpha: c.lora_alpha, targetModules: c.lora_target_modules as LoraModule[], useRslora: c.use_rslora, dropout: c.lora_dropout,
    });
    this.lora.initialize(c.seed);
    this.optimizer = new AdamW(gpu, this.lora.parameters().map((p) => ({ name: p.name, param: p.param, grad: p.grad })), {
      beta1: c.adam_beta1, beta2: c.adam_beta2, eps: c.adam_epsilon, weightDecay: c.weight_decay, maxGradNorm: c.max_grad_norm,
    });
  }

  private rows(e: PreferenceExample): SequenceRow[] {
    return e.rejected ? [{ prompt: e.prompt.ids, completion: e.chosen }, { prompt: e.prompt.ids, completion: e.rejected }] : [{ prompt: e.prompt.ids, completion: e.chosen }];
  }

  /** The reference model's (adapter off) log-probs of every example, once (a resumed run recomputes them:
   * they depend only on the base model and the data). */
  async prepareReference(): Promise<void> {
    if (this.config.algorithm === 'simpo' || this.config.algorithm === 'orpo') return; // reference-free
    const todo = [...this.init.train, ...this.init.eval].filter((e) => !this.ref.has(e));
    const rows = todo.flatMap((e) => this.rows(e));
    const sums = await sequenceLogps(this.init.model, rows, null);
    let k = 0;
    for (const e of todo) this.ref.set(e, e.rejected ? [sums[k++], sums[k++]] : [sums[k++]]);
  }

  private pairSettings(): PairLossSettings {
    const c = this.config;
    if (c.algorithm === 'simpo') return { kind: 'simpo', beta: c.beta, labelSmoothing: c.label_smoothing, simpoGamma: c.simpo_gamma, cpoAlpha: c.cpo_alpha };
    if (c.algorithm === 'orpo') return { kind: 'orpo', beta: c.beta };
    return { kind: 'dpo', lossType: c.dpo_loss_type, beta: c.beta, labelSmoothing: c.label_smoothing, dpoWeight: 1, sftWeight: c.sft_loss_weight };
  }

  private pairs(batch: PreferenceExample[], chosen: number[], rejected: number[]): PairLogps[] {
    return batch.map((e, i) => {
      const ref = this.ref.get(e) ?? [0, 0];
      return { chosen: chosen[i], rejected: rejected[i], refChosen: ref[0], refRejected: ref[1], chosenLen: e.chosen.length, rejectedLen: e.rejected!.length };
    });
  }

  async trainStep(): Promise<{ step: number; metrics: Metrics }> {
    const c = this.config;
    const { gpu, model } = this.init;
    const t0 = performance.now();
    if (c.algorithm !== 'simpo' && c.algorithm !== 'orpo' && this.ref.size === 0) await this.prepareReference();
    const lr = learningRate(c.learning_rate, c.lr_scheduler_type, c.warmup_ratio, this.step, c.max_steps);
    const GA = c.gradient_accumulation_steps;
    this.optimizer.zeroGrads();
    const sum: Metrics = {};
    let loss = 0;
    let tokens = 0;
    for (let m = 0; m < GA; m++) {
      const batch = this.next(c.prompts_per_step);
      const rows = c.algorithm === 'kto' ? batch.map((e) => this.rows(e)[0]) : [...batch.map((e) => this.rows(e)[0]), ...batch.map((e) => this.rows(e)[1])];
      tokens += rows.reduce((a, r) => a + r.prompt.length + r.completion.length, 0);
      let metrics: Metrics = {};
      if (c.algorithm === 'kto') {
        // KL sequences: each prompt with the completion of the example before it in the batch (TRL shifts by one)
        const kl = batch.map((e, i) => ({ prompt: e.prompt.ids, completion: batch[(i + batch.length - 1) % batch.length].chosen }));
        const klPolicy = await sequenceLogps(model, kl, this.lora);
        const klRef = await sequenceLogps(model, kl, null);
        await logpSumsBackward(gpu, model, this.lora, rows, (s) => {
          const r = ktoLoss(batch.map((e, i) => ({ logp: s[i], ref: this.ref.get(e)![0], desirable: e.desirable! })), klPolicy, klRef, {
            beta: c.beta, desirableWeight: c.desirable_weight, undesirableWeight: c.undesirable_weight,
          });
          loss += r.loss / GA;
          metrics = r.metrics;
          return r.dLogp.map((x) => x / GA);
        });
      } else {
        const B = batch.length;
        await logpSumsBackward(gpu, model, this.lora, rows, (s) => {
          const r = pairLoss(this.pairs(batch, s.slice(0, B), s.slice(B)), this.pairSettings());
          loss += r.loss / GA;
          metrics = r.metrics;
          return [...r.dChosen, ...r.dRejected].map((x) => x / GA);
        });
      }
      for (const [k, v] of Object.entries(metrics)) sum[k] = (sum[k] ?? 0) + v / GA;
    }
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

  /** Held-out metrics under TRL's eval_ names: the pair loss's rewards, accuracies (the pair accuracy: how
   * often the chosen completion's implicit reward beats the rejected one's) and log-probs; KTO: the mean
   * rewards of desirable and undesirable completions. */
  async evaluatePairs(examples: PreferenceExample[] = this.init.eval): Promise<Metrics> {
    if (examples.length === 0) return {};
    await this.prepareReference();
    const c = this.config;
    const sums = await sequenceLogps(this.init.model, examples.flatMap((e) => this.rows(e)), this.lora);
    let m: Metrics;
    if (c.algorithm === 'kto') {
      const items = examples.map((e, i) => ({ logp: sums[i], ref: this.ref.get(e)![0], desirable: e.desirable! }));
      m = ktoLoss(items, [], [], { beta: c.beta, desirableWeight: c.desirable_weight, undesirableWeight: c.undesirable_weight }).metrics;
      delete m.kl;
    } else {
      const pairs = this.pairs(examples, examples.map((_, i) => sums[2 * i]), examples.map((_, i) => sums[2 * i + 1]));
      const r = pairLoss(pairs, this.pairSettings());
      m = { loss: r.loss, ...r.metrics };
    }
    return Object.fromEntries(Object.entries(m).map(([k, v]) => [`eval_${k}`, v]));
  }

  release(): void {
    this.optimizer.release();
    this.lora.release();
  }
}
