// Supervised fine-tuning: cross-entropy on the answer tokens (prompt tokens are ignored), into LoRA or
// into every weight. A warm start when the base model never earns a reward, and how the built-in model
// is pretrained from random initialisation.

import type { GpuRuntime } from '../gpu/runtime';
import type { Tensor } from '../gpu/tensor';
import { crossEntropyBackward, crossEntropyForward, IGNORE_INDEX } from '../gpu/kernels/cross_entropy';
import { GpuTransformer } from '../model/transformer';
import { trainForward, type PolicyModel } from '../model/policy_model';
import type { LoraSet } from '../model/lora';
import { packRows, releaseBatch } from '../model/logprobs';
import { headLogprobs, headLogprobsBackward, vocabChunkColumns } from '../model/lm_head';
import { AdamW, type OptimizerHyper } from './optimizer';
import { learningRate, type SchedulerType } from './schedule';
import { Rng } from '../util/random';

/** The models supervised training runs: the Llama-family engine, or Gemma 4's (LoRA only, through the chunked
 * head, which applies its soft-cap). */
export type SftModel = PolicyModel;

export interface SftExample {
  prompt: number[];
  /** answer ids, the stop token included when the model should learn to stop */
  answer: number[];
  /** per answer token: 0 for context only (e.g. a tool's result inserted into the text: the model reads it
   * but is not trained to write it), 1 (or absent) for trained */
  answerMask?: readonly number[];
}

/** Whether answer token j of r is trained on. */
function trained(r: SftExample, j: number): boolean {
  return r.answerMask === undefined || r.answerMask[j] !== 0;
}

export interface SftOptions extends OptimizerHyper {
  /** 'lora' trains the given LoRA set; 'full' trains every weight (biases stay frozen) */
  mode: 'lora' | 'full';
  learningRate: number;
  scheduler: SchedulerType;
  warmupRatio: number;
  maxSteps: number;
  batchSize: number;
  seed: number;
}

export interface SftStepReport {
  step: number;
  loss: number;
  grad_norm: number;
  learning_rate: number;
  num_tokens: number;
  step_time: number;
  skipped: boolean;
}

export class SftTrainer {
  readonly optimizer: AdamW;
  step = 0;
  numTokens = 0;
  private readonly fullGrads: Map<string, Tensor> | null;
  private order: number[] = [];
  private cursor = 0;
  private epoch = 0;

  constructor(
    private readonly gpu: GpuRuntime,
    private readonly model: SftModel,
    private readonly examples: SftExample[],
    readonly opts: SftOptions,
    private readonly lora: LoraSet | null,
  ) {
    if (examples.length === 0) throw new Error('supervised training needs at least one example');
    if (opts.mode === 'lora' && !lora) throw new Error('supervised LoRA training needs a LoRA set');
    if (opts.mode === 'full') {
      if (!(model instanceof GpuTransformer)) throw new Error(`${model.config.modelType}: full-weight training is not supported for this model; train a LoRA`);
      this.fullGrads = model.createFullGrads();
      const params = [...this.fullGrads].map(([name, grad]) => ({ name, param: model.w(name), grad }));
      this.optimizer = new AdamW(gpu, params, opts);
    } else {
      this.fullGrads = null;
      this.optimizer = new AdamW(gpu, lora!.parameters(), opts);
    }
  }

  private nextBatch(): SftExample[] {
    const out: SftExample[] = [];
    while (out.length < this.opts.batchSize) {
      if (this.cursor >= this.order.length) {
        const rng = new Rng((this.opts.seed ^ Math.imul(this.epoch + 1, 0x27d4eb2d)) >>> 0);
        this.order = Array.from({ length: this.examples.length }, (_, i) => i);
        for (let i = this.order.length - 1; i > 0; i--) {
          const j = rng.int(i + 1);
          [this.order[i], this.order[j]] = [this.order[j], this.order[i]];
        }
        this.cursor = 0;
        this.epoch++;
      }
      out.push(this.examples[this.order[this.cursor++]]);
    }
    return out;
  }

  async trainStep(): Promise<SftStepReport> {
    const { gpu, model, opts } = this;
    const t0 = performance.now();
    const rows = this.nextBatch();
    const lr = learningRate(opts.learningRate, opts.scheduler, opts.warmupRatio, this.step, opts.maxSteps);
    const up = await crossEntropyUpdate(gpu, model, opts.mode === 'lora' ? this.lora : null, this.optimizer, [rows], lr, () => this.step, this.fullGrads);
    this.step++;
    this.numTokens += up.tokens;
    return {
      step: this.step,
      loss: up.loss,
      grad_norm: up.gradNorm,
      learning_rate: lr,
      num_tokens: this.numTokens,
      step_time: (performance.now() - t0) / 1000,
      skipped: up.skipped,
    };
  }

  release(): void {
    this.optimizer.release();
    if (this.fullGrads) this.gpu.release(...this.fullGrads.values());
  }
}

export interface CrossEntropyUpdate {
  /** mean cross-entropy over every trained answer token of the step */
  loss: number;
  gradNorm: number;
  /** answer tokens trained on */
  tokens: number;
  /** the loss or gradient norm was not finite, so the optimizer did not step */
  skipped: boolean;
}

/** One optimizer step of supervised cross-entropy over micro-batches of examples (gradients accumulated,
 * the loss averaged over all their answer tokens), into `lora` (or, with fullGrads, into every weight).
 * Used by SftTrainer and by expert iteration. dropoutCounter(m) keys micro-batch m's LoRA dropout masks. */
export async function crossEntropyUpdate(
  gpu: GpuRuntime,
  model: SftModel,
  lora: LoraSet | null,
  optimizer: AdamW,
  microBatches: SftExample[][],
  lr: number,
  dropoutCounter: (m: number) => number,
  fullGrads: Map<string, Tensor> | null = null,
): Promise<CrossEntropyUpdate> {
  const mbs = microBatches.filter((mb) => mb.length > 0);
  for (const mb of mbs) {
    for (const r of mb) {
      if (r.answerMask !== undefined && r.answerMask.length !== r.answer.length) {
        throw new Error(`supervised example: answerMask has ${r.answerMask.length} entries for ${r.answer.length} answer tokens`);
      }
    }
  }
  const count = mbs.reduce((a, mb) => a + mb.reduce((x, r) => x + r.answer.filter((_, j) => trained(r, j)).length, 0), 0);
  if (count === 0) throw new Error('supervised batch has no answer tokens');
  optimizer.zeroGrads();
  let total = 0;
  for (let m = 0; m < mbs.length; m++) {
    const rows = mbs[m];
    const batch = packRows(gpu, rows.map((r) => ({ prompt: r.prompt, completion: r.answer })), model.config.maxPositionEmbeddings);
    const N = batch.B * batch.T;
    // targets only where the next token is a trained answer token
    const targets = new Uint32Array(N).fill(IGNORE_INDEX);
    rows.forEach((r, b) => {
      for (let j = 0; j < r.answer.length; j++) if (trained(r, j)) targets[b * batch.T + r.prompt.length + j - 1] = r.answer[j];
    });
    gpu.write(batch.targets, targets);
    let lossT: Tensor;
    let sign = 1;
    if (model instanceof GpuTransformer && vocabChunkColumns(N, model.config.vocabSize, model.lmHeadChunkBytes) === model.config.vocabSize) {
      const act = model.forward(batch.ids, batch.positions, batch.B, batch.T, lora, dropoutCounter(m));
      // small vocabulary: the (N, V) logits are small; the cross-entropy kernels as before chunking
      const dloss = gpu.upload(new Float32Array(N).fill(1 / count), [N], 'dloss');
      const loss = gpu.tensor([N], 'ce_loss');
      const lse = gpu.tensor([N], 'ce_lse');
      const logits = model.logits(act.f);
      crossEntropyForward(gpu, loss, lse, logits, batch.targets);
      const dlogits = gpu.tensor([N, model.config.vocabSize], 'dlogits');
      crossEntropyBackward(gpu, dlogits, dloss, logits, batch.targets, lse);
      gpu.release(logits);
      model.backward(act, dlogits, fullGrads);
      gpu.release(dlogits, dloss, lse);
      model.releaseActivations(act);
      lossT = loss;
    } else {
      // large vocabulary: cross-entropy = -logp at temperature 1 through the chunked LM head (lm_head.ts);
      // ignored rows' targets (IGNORE_INDEX >= V) give logp 0 and no gradient
      // (Gemma 4 always: the head applies its soft-cap)
      const { f, backward, release } = trainForward(model, batch.ids, batch.positions, batch.B, batch.T, lora, dropoutCounter(m), false, batch.hostIds);
      const { logp, entropy, lse } = headLogprobs(model, f, batch.targets, 1, 'ce_logp');
      const dlogp = gpu.upload(new Float32Array(N).fill(-1 / count), [N], 'ce_dlogp');
      const df = gpu.tensor([N, model.config.hiddenSize], 'd_final_norm');
      headLogprobsBackward(model, df, dlogp, f, batch.targets, lse, 1, fullGrads?.get(model.lmHeadName()) ?? null);
      backward(df, fullGrads);
      gpu.release(dlogp, entropy, lse);
      release();
      lossT = logp;
      sign = -1;
    }
    const losses = await gpu.read(lossT);
    gpu.release(lossT);
    releaseBatch(gpu, batch);
    for (let i = 0; i < N; i++) if (targets[i] !== IGNORE_INDEX) total += sign * losses[i];
  }
  optimizer.computeNorm();
  const [norm] = await gpu.read(optimizer.normOut, 1);
  const meanLoss = total / count;
  const skipped = !(Number.isFinite(norm) && Number.isFinite(meanLoss));
  if (!skipped) optimizer.applyUpdate(lr);
  return { loss: meanLoss, gradNorm: norm, tokens: count, skipped };
}
