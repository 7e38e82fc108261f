// Supervised fine-tuning: cross-entropy on the answer tokens (prompt tokens are ignored), into LoRA or
// into every weight. A warm start when the base model never earns a reward, and how the built-in model
// is pretrained from random initialisation.

import type { GpuRuntime } from '../gpu/runtime';
import type { Tensor } from '../gpu/tensor';
import { crossEntropyBackward, crossEntropyForward, IGNORE_INDEX } from '../gpu/kernels/cross_entropy';
import { GpuTransformer } from '../model/transformer';
import { trainForward, type PolicyModel } from '../model/policy_model';
import type { LoraSet } from '../model/lora';
import type { Tokenizer } from '../model/tokenizer';
import { packRows, releaseBatch } from '../model/logprobs';
import { headLogprobs, headLogprobsBackward, vocabChunkColumns } from '../model/lm_head';
import { sample } from '../gpu/kernels/sample';
import { logprobGatherForward } from '../gpu/kernels/logprob_gather';
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

/** A prompt's reference answer as SFT's target ids: the answer text (no BOS), then the tokenizer's first stop
 * token (the model learns to stop), as `train --sft` and TRL's SFTTrainer (which appends eos_token); at most
 * maxLength ids. */
export function sftTargetIds(tokenizer: Tokenizer, answer: string, maxLength = Infinity): number[] {
  const eos = tokenizer.eosIds[0];
  // longer than maxLength (max_completion_length): its start is kept, without the stop token (TRL's truncation_mode
  // "keep_start" at max_length)
  return [...tokenizer.encode(answer, { addBos: false }), ...(eos !== undefined ? [eos] : [])].slice(0, maxLength);
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
 * Used by SftTrainer, the page's SFT runs (sft_run_trainer.ts) and expert iteration. dropoutCounter(m) keys
 * micro-batch m's LoRA dropout masks. With `stats`, also TRL SFTTrainer's token statistics (CrossEntropyStats). */
export async function crossEntropyUpdate(
  gpu: GpuRuntime,
  model: SftModel,
  lora: LoraSet | null,
  optimizer: AdamW,
  microBatches: SftExample[][],
  lr: number,
  dropoutCounter: (m: number) => number,
  fullGrads: Map<string, Tensor> | null = null,
  stats = false,
): Promise<CrossEntropyUpdate & { stats?: CrossEntropyStats }> {
  optimizer.zeroGrads();
  const g = await crossEntropyGrads(gpu, model, lora, microBatches, dropoutCounter, fullGrads, 1, stats);
  optimizer.computeNorm();
  const [norm] = await gpu.read(optimizer.normOut, 1);
  const skipped = !(Number.isFinite(norm) && Number.isFinite(g.loss));
  if (!skipped) optimizer.applyUpdate(lr);
  return { loss: g.loss, gradNorm: norm, tokens: g.tokens, skipped, ...(g.stats ? { stats: g.stats } : {}) };
}

/** TRL SFTTrainer's per-step statistics (sft_trainer.py compute_loss): mean_token_accuracy is the share of
 * trained tokens whose argmax prediction is the target; entropy the mean entropy of the predicted distribution
 * over every non-padding position (prompt and answer, as TRL's attention mask); seenTokens the non-padding
 * tokens of the batch (TRL's num_tokens adds them up). */
export interface CrossEntropyStats {
  /** null when the vocabulary is chunked (no whole logits row to take the argmax of) */
  accuracy: number | null;
  entropy: number;
  seenTokens: number;
}

/** Supervised cross-entropy gradients ADDED to the LoRA's (or fullGrads') current gradients, scaled by
 * `scale` / (trained answer tokens): d(scale × mean NLL). Nothing is zeroed and the optimizer does not step
 * (GRPO's sft_coef term adds its gradient to the policy loss's this way). Returns the mean NLL (unscaled). */
export async function crossEntropyGrads(
  gpu: GpuRuntime,
  model: SftModel,
  lora: LoraSet | null,
  microBatches: SftExample[][],
  dropoutCounter: (m: number) => number,
  fullGrads: Map<string, Tensor> | null = null,
  scale = 1,
  stats = false,
  /** pack every pass to at least this many tokens (sft_coef's term: the step's longest row, so that its passes reuse
   * the policy update's buffers, as in the memory plan) */
  packLength = 0,
): Promise<{ loss: number; tokens: number; stats?: CrossEntropyStats }> {
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
  let total = 0;
  let correct = 0;
  let accuracyKnown = stats;
  let entropySum = 0;
  let seen = 0;
  for (let m = 0; m < mbs.length; m++) {
    const rows = mbs[m];
    const batch = packRows(gpu, rows.map((r) => ({ prompt: r.prompt, completion: r.answer })), model.config.maxPositionEmbeddings, packLength);
    const N = batch.B * batch.T;
    // targets only where the next token is a trained answer token
    const targets = new Uint32Array(N).fill(IGNORE_INDEX);
    rows.forEach((r, b) => {
      for (let j = 0; j < r.answer.length; j++) if (trained(r, j)) targets[b * batch.T + r.prompt.length + j - 1] = r.answer[j];
    });
    gpu.write(batch.targets, targets);
    /** non-padding positions (row b's first prompt + answer tokens) */
    const real = (i: number) => i % batch.T < rows[Math.floor(i / batch.T)].prompt.length + rows[Math.floor(i / batch.T)].answer.length;
    let lossT: Tensor;
    let sign = 1;
    let entT: Tensor | null = null;
    let argT: Tensor | null = null;
    if (model instanceof GpuTransformer && vocabChunkColumns(N, model.config.vocabSize, model.lmHeadChunkBytes) === model.config.vocabSize) {
      const act = model.forward(batch.ids, batch.positions, batch.B, batch.T, lora, dropoutCounter(m));
      // small vocabulary: the (N, V) logits are small; the cross-entropy kernels as before chunking
      const dloss = gpu.upload(new Float32Array(N).fill(scale / count), [N], 'dloss');
      const loss = gpu.tensor([N], 'ce_loss');
      const lse = gpu.tensor([N], 'ce_lse');
      const logits = model.logits(act.f);
      crossEntropyForward(gpu, loss, lse, logits, batch.targets);
      if (stats) {
        // argmax (the greedy sampler, lowest index on ties as torch.argmax) and the entropy of every row
        argT = gpu.tensor([N], 'ce_argmax', 'u32');
        sample(gpu, argT, logits, { temperature: 0, topK: 0, topP: 1, seed: 0, counter: 0 });
        entT = gpu.tensor([N], 'ce_entropy');
        const lp = gpu.tensor([N], 'ce_logp');
        const lse2 = gpu.tensor([N], 'ce_lse2');
        const safeTargets = gpu.upload(new Uint32Array(N), [N], 'ce_targets0', 'u32');
        logprobGatherForward(gpu, lp, entT, lse2, logits, safeTargets, 1);
        gpu.release(lp, lse2, safeTargets);
      }
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
      const dlogp = gpu.upload(new Float32Array(N).fill(-scale / count), [N], 'ce_dlogp');
      const df = gpu.tensor([N, model.config.hiddenSize], 'd_final_norm');
      headLogprobsBackward(model, df, dlogp, f, batch.targets, lse, 1, fullGrads?.get(model.lmHeadName()) ?? null);
      backward(df, fullGrads);
      gpu.release(dlogp, lse);
      release();
      lossT = logp;
      sign = -1;
      entT = entropy;
      accuracyKnown = false;
    }
    const losses = await gpu.read(lossT);
    gpu.release(lossT);
    for (let i = 0; i < N; i++) if (targets[i] !== IGNORE_INDEX) total += sign * losses[i];
    if (stats && entT) {
      const ent = await gpu.read(entT);
      for (let i = 0; i < N; i++) {
        if (!real(i)) continue;
        entropySum += ent[i];
        seen++;
      }
    }
    if (entT) gpu.release(entT);
    if (argT) {
      const am = await gpu.readU32(argT);
      gpu.release(argT);
      for (let i = 0; i < N; i++) if (targets[i] !== IGNORE_INDEX && am[i] === targets[i]) correct++;
    }
    releaseBatch(gpu, batch);
  }
  const out = { loss: total / count, tokens: count };
  if (!stats) return out;
  return { ...out, stats: { accuracy: accuracyKnown ? correct / count : null, entropy: seen > 0 ? entropySum / seen : NaN, seenTokens: seen } };
}
