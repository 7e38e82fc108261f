// The GRPO policy update for one rollout: per micro-batch, old log-probs (num_iterations > 1) and
// reference log-probs (beta > 0, LoRA off); then num_iterations times: forward, per-token loss,
// backward into LoRA, global-norm clipping and AdamW. Loss aggregation follows loss_type through
// per-token weights (loss_weights.ts).

import type { GpuRuntime } from '../gpu/runtime';
import type { Tensor } from '../gpu/tensor';
import { grpoLossBackward, grpoLossForward, type GrpoLossParams } from '../gpu/kernels/grpo_loss';
import type { GpuTransformer } from '../model/transformer';
import type { LoraSet } from '../model/lora';
import { headLogprobs, headLogprobsBackward } from '../model/lm_head';
import { completionIndex, packRows, releaseBatch, type PackedBatch } from '../model/logprobs';
import { sequenceWeights, type LossType } from './loss_weights';
import type { AdamW } from './optimizer';

export interface TrainSequence {
  prompt: number[];
  completion: number[];
  advantage: number;
  /** tokens that count in the loss (0 for a masked truncated completion) */
  active: number;
  /** per completion token: 0 for a token inserted by a tool or an environment (context only: out of the loss,
   * the KL and the entropy, TRL's tool_mask); absent: every token is the model's */
  modelMask?: readonly number[];
}

/** Whether completion token j of s is trained on. */
function counts(s: TrainSequence, j: number): boolean {
  return j < s.active && (s.modelMask === undefined || s.modelMask[j] === 1);
}

/** The tokens of s that are trained on. */
export function trainedTokens(s: TrainSequence): number {
  if (!s.modelMask) return s.active;
  let n = 0;
  for (let j = 0; j < s.active; j++) if (s.modelMask[j] === 1) n++;
  return n;
}

export interface UpdateOptions {
  lossType: LossType;
  maxCompletionLength: number;
  numIterations: number;
  temperature: number;
  loss: GrpoLossParams;
  learningRate: number;
  /** the optimizer step: keys this update's LoRA dropout masks (with lora_dropout > 0), see dropoutForwardCounter */
  dropoutCounter: number;
  /** rows per forward/backward pass (the memory plan's choice; null: a whole micro-batch). A micro-batch then
   * runs in several passes whose gradients accumulate, each token keeping its micro-batch's loss weight, so
   * the update is the same (up to summation order; LoRA dropout masks are drawn per pass). */
  rowsPerPass?: number | null;
  /** when given, the GPU is synchronised between phases and each phase's milliseconds are added here
   * (reference_logprobs, forward, backward, optimizer): for profiling only, it serialises CPU and GPU */
  profile?: Record<string, number>;
}

export interface UpdateStats {
  loss: number;
  kl: number;
  entropy: number;
  clipLow: number;
  clipHigh: number;
  clipRegion: number;
  gradNorm: number;
  /** optimizer updates skipped because the loss or gradient norm was not finite */
  skipped: number;
  /** tokens the update processed: every micro-batch's packed (B x T) grid, once per iteration */
  trainTokens: number;
}

interface MicroBatch {
  batch: PackedBatch;
  adv: Tensor; // (B*T)
  weight: Tensor; // (B*T)
  weightHost: Float32Array;
  mask: Float32Array; // (B*T) 1 on active completion tokens
  old: Tensor | null;
  ref: Tensor | null;
}

export async function policyUpdate(
  gpu: GpuRuntime,
  model: GpuTransformer,
  lora: LoraSet,
  optimizer: AdamW,
  microBatches: TrainSequence[][],
  opts: UpdateOptions,
): Promise<UpdateStats> {
  const mbs = microBatches.filter((mb) => mb.length > 0);
  const stats: UpdateStats = { loss: 0, kl: 0, entropy: 0, clipLow: 0, clipHigh: 0, clipRegion: 0, gradNorm: 0, skipped: 0, trainTokens: 0 };
  if (mbs.length === 0) return stats;
  const weights = sequenceWeights(opts.lossType, mbs.map((mb) => mb.map(trainedTokens)), opts.maxCompletionLength);
  const passes = splitPasses(mbs, weights, opts.rowsPerPass ?? null);
  const prepared: MicroBatch[] = [];
  let phaseStart = performance.now();
  const mark = async (phase: string) => {
    if (!opts.profile) return;
    await gpu.sync();
    const now = performance.now();
    opts.profile[phase] = (opts.profile[phase] ?? 0) + now - phaseStart;
    phaseStart = now;
  };
  try {
    for (let m = 0; m < passes.length; m++) {
      const { seqs, weights: passWeights } = passes[m];
      const batch = packRows(gpu, seqs.map((s) => ({ prompt: s.prompt, completion: s.completion })), model.config.maxPositionEmbeddings);
      const N = batch.B * batch.T;
      const adv = new Float32Array(N);
      const weight = new Float32Array(N);
      const mask = new Float32Array(N);
      seqs.forEach((s, b) => {
        for (let j = 0; j < s.completion.length; j++) {
          const idx = completionIndex(batch, b, j);
          adv[idx] = s.advantage;
          if (counts(s, j)) {
            weight[idx] = passWeights[b];
            mask[idx] = 1;
          }
        }
      });
      const mb: MicroBatch = {
        batch,
        adv: gpu.upload(adv, [N], 'advantages'),
        weight: gpu.upload(weight, [N], 'loss_weights'),
        weightHost: weight,
        mask,
        old: null,
        ref: null,
      };
      prepared.push(mb);
      if (opts.numIterations > 1) mb.old = tokenLogprobs(model, mb.batch, lora, opts.temperature, 'old_logp');
      if (opts.loss.beta !== 0) mb.ref = tokenLogprobs(model, mb.batch, null, opts.temperature, 'ref_logp');
    }
    await mark('reference_logprobs');

    let activeTokens = 0;
    const dropoutOn = (lora.spec.dropout ?? 0) > 0;
    for (let it = 0; it < opts.numIterations; it++) {
      optimizer.zeroGrads();
      let loss = 0;
      for (let m = 0; m < prepared.length; m++) {
        const mb = prepared[m];
        const { batch } = mb;
        const N = batch.B * batch.T;
        const counter = dropoutOn ? dropoutForwardCounter(opts.dropoutCounter, it, m, opts.numIterations, prepared.length) : null;
        const act = model.forward(batch.ids, batch.positions, batch.B, batch.T, lora, counter);
        // LM head fused with the log-prob gather, in vocabulary chunks (no (N, V) logits: lm_head.ts)
        const { logp, entropy, lse } = headLogprobs(model, act.f, batch.targets, opts.temperature);
        // [loss | kl | ratio | clip flag | entropy] per token, read back once
        const terms = gpu.tensor([5, N], 'grpo_loss_terms');
        grpoLossForward(gpu, terms, logp, mb.old, mb.ref, mb.adv, opts.loss);
        gpu.copy(entropy, terms, N, 0, 4 * N);
        await mark('forward');
        const dlogp = gpu.tensor([N], 'dlogp');
        grpoLossBackward(gpu, dlogp, logp, mb.old, mb.ref, mb.adv, mb.weight, opts.loss);
        const df = gpu.tensor([N, model.config.hiddenSize], 'd_final_norm');
        headLogprobsBackward(model, df, dlogp, act.f, batch.targets, lse, opts.temperature);
        gpu.release(dlogp, lse);
        model.backwardFromHead(act, df);
        model.releaseActivations(act);
        await mark('backward');
        const t = await gpu.read(terms);
        const ent = t.subarray(4 * N);
        gpu.release(terms, entropy, logp);
        const w = mb.weightHost;
        for (let i = 0; i < N; i++) {
          if (mb.mask[i] === 0) continue;
          loss += w[i] * t[i];
          stats.kl += t[N + i];
          stats.entropy += ent[i];
          const flag = t[3 * N + i];
          if (flag === 1) stats.clipLow++;
          if (flag === 2) stats.clipHigh++;
          activeTokens++;
        }
        stats.trainTokens += N;
      }
      optimizer.computeNorm();
      const [norm] = await gpu.read(optimizer.normOut, 1);
      stats.gradNorm += norm;
      stats.loss += loss;
      if (Number.isFinite(norm) && Number.isFinite(loss)) optimizer.applyUpdate(opts.learningRate);
      else stats.skipped++;
      await mark('optimizer');
    }
    const k = opts.numIterations;
    const tok = Math.max(activeTokens, 1);
    return {
      loss: stats.loss / k,
      kl: stats.kl / tok,
      entropy: stats.entropy / tok,
      clipLow: stats.clipLow / tok,
      clipHigh: stats.clipHigh / tok,
      clipRegion: (stats.clipLow + stats.clipHigh) / tok,
      gradNorm: stats.gradNorm / k,
      skipped: stats.skipped,
      trainTokens: stats.trainTokens,
    };
  } finally {
    for (const mb of prepared) {
      gpu.release(mb.adv, mb.weight, mb.old, mb.ref);
      releaseBatch(gpu, mb.batch);
    }
  }
}

/** Forwards one optimizer step may number: iterations x micro-batches (2^21 = 2,097,152). */
export const DROPOUT_FORWARDS_PER_STEP = 2 ** 21;

/**
 * The LoRA-dropout counter of one training forward (the model derives each module's mask from it):
 * step * 2^21 + iteration * microBatches + microBatch, an integer below 2^53, distinct for every
 * (step, iteration, micro-batch) with step < 2^32 and iterations x micro-batches <= 2^21.
 */
export function dropoutForwardCounter(step: number, iteration: number, microBatch: number, iterations: number, microBatches: number): number {
  if (iterations * microBatches > DROPOUT_FORWARDS_PER_STEP) {
    throw new Error(`LoRA dropout: num_iterations x micro-batches = ${iterations * microBatches} is more than ${DROPOUT_FORWARDS_PER_STEP} forwards per step; lower num_iterations or gradient_accumulation_steps`);
  }
  if (!(step >= 0 && step < 2 ** 32)) throw new Error(`LoRA dropout: step ${step} is past 2^32 steps`);
  return step * DROPOUT_FORWARDS_PER_STEP + iteration * microBatches + microBatch;
}

/** Per-token log-probs over the batch grid (no gradient), kept on the GPU. */
function tokenLogprobs(model: GpuTransformer, batch: PackedBatch, lora: LoraSet | null, temperature: number, label: string): Tensor {
  const { gpu } = model;
  const act = model.forward(batch.ids, batch.positions, batch.B, batch.T, lora, null, {}); // no backward: one layer at a time
  const { logp, entropy, lse } = headLogprobs(model, act.f, batch.targets, temperature, label);
  model.releaseActivations(act);
  gpu.release(entropy, lse);
  return logp;
}

/** Micro-batches cut into passes of at most rowsPerPass rows, each row with its loss weight (null: no cut). */
function splitPasses(mbs: TrainSequence[][], weights: number[][], rowsPerPass: number | null): { seqs: TrainSequence[]; weights: number[] }[] {
  const out: { seqs: TrainSequence[]; weights: number[] }[] = [];
  mbs.forEach((mb, m) => {
    const step = rowsPerPass && rowsPerPass > 0 ? rowsPerPass : mb.length;
    for (let r = 0; r < mb.length; r += step) out.push({ seqs: mb.slice(r, r + step), weights: weights[m].slice(r, r + step) });
  });
  return out;
}
