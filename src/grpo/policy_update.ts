// The GRPO policy update for one rollout: per micro-batch, old log-probs (num_iterations > 1, or given
// from generation time under steps_per_generation) and reference log-probs (beta > 0, LoRA off); then
// num_iterations times: forward, per-token loss (TRL v1.9's losses, grpo_loss kernels), the entropy bonus
// (entropy_coef), backward into LoRA, global-norm clipping and AdamW. Loss aggregation follows loss_type
// through per-token weights (loss_weights.ts); top_entropy_quantile's threshold is taken per micro-batch
// from the entropies of its active tokens (entropy_mask.ts). The last iteration's per-token values are
// returned for the token inspector.

import type { GpuRuntime } from '../gpu/runtime';
import type { Tensor } from '../gpu/tensor';
import { grpoLossBackward, grpoLossForward, needsSequences, type GrpoLossParams } from '../gpu/kernels/grpo_loss';
import { entropyThreshold } from './entropy_mask';
import { sharedPrefixTrainingUnsupported, trainForward, type PolicyModel } from '../model/policy_model';
import type { SharePrefixMode } from './config/enums';
import type { LoraSet } from '../model/lora';
import { headLogprobs, headLogprobsBackward } from '../model/lm_head';
import { completionIndex, packRows, releaseBatch, type PackedBatch, type SequenceRow } from '../model/logprobs';
import { packSharedPrefix, sharedPrefixTokens } from '../model/prefix_pack';
import { entropyBonusWeight, entropyWeights, sequenceWeights, type LossType } from './loss_weights';
import type { AdamW } from './optimizer';

export interface TrainSequence {
  prompt: number[];
  completion: number[];
  advantage: number;
  /** per completion token (step_advantage "per_turn_discounted", step_credit.ts): each token's own advantage in
   * place of `advantage` */
  tokenAdvantages?: readonly number[];
  /** tokens that count in the loss (0 for a masked truncated completion) */
  active: number;
  /** per completion token: 0 for a token inserted by a tool or an environment (context only: out of the loss,
   * the KL and the entropy, TRL's tool_mask); absent: every token is the model's */
  modelMask?: readonly number[];
  /** log-probs of the completion's tokens under the policy that generated it (steps_per_generation > 1);
   * without them old log-probs are taken at the start of the update when num_iterations > 1 */
  oldLogp?: Float32Array;
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

/** What the step did to each token of a completion (the last iteration's values), for the token inspector. */
export interface TokenTrace {
  logp: number[];
  entropy: number[];
  ratio: number[];
  /** -d loss / d logp divided by the token's aggregation weight: its advantage after clipping, gating and
   * masking (A * rho for an unclipped token, 0 for a clipped or masked one) */
  contribution: number[];
  /** bits: 1 clipped low, 2 clipped high, 4 masked by the entropy quantile, 8 masked as off-policy
   * (off_policy_mask_threshold; the token inspector does not mark it yet) */
  flags: number[];
  /** tokens in the loss (the rest were masked as truncated) */
  active: number;
}

export interface UpdateOptions {
  lossType: LossType;
  maxCompletionLength: number;
  numIterations: number;
  temperature: number;
  loss: GrpoLossParams;
  /** top_entropy_quantile (1: no mask) */
  topEntropyQuantile?: number;
  /** entropy_coef (0: no bonus) */
  entropyCoef?: number;
  /** active tokens of the whole generation batch (TRL's num_items_in_batch: the dapo/cispo denominator); under
   * steps_per_generation k > 1 it counts all k steps' tokens; absent: these micro-batches' */
  batchTokens?: number;
  /** return each sequence's per-token values of the last iteration */
  trace?: boolean;
  learningRate: number;
  /** the optimizer step: keys this update's LoRA dropout masks (with lora_dropout > 0), see dropoutForwardCounter */
  dropoutCounter: number;
  /** rows per forward/backward pass (the memory plan's choice; null: a whole micro-batch). A micro-batch then
   * runs in several passes whose gradients accumulate, each token keeping its micro-batch's loss weight, so
   * the update is the same (up to summation order; LoRA dropout masks are drawn per pass). */
  rowsPerPass?: number | null;
  /** pack every pass to at least this many tokens (the trainer: the step's longest row, the SFT term's included) */
  packLength?: number;
  /** when given, the GPU is synchronised between phases and each phase's milliseconds are added here
   * (reference_logprobs, forward, backward, optimizer): for profiling only, it serialises CPU and GPU */
  profile?: Record<string, number>;
  /** another loss term of the same optimizer step (sft_coef's cross-entropy on reference answers): adds its
   * gradient into the LoRA's gradients after the policy loss's and before the norm and the update; returns its
   * (already weighted) loss, added to the step's loss */
  extraGradients?: () => Promise<number>;
  /** shared-prefix training (share_prompt_prefix_training, resolved): each pass packs a group's rows as its prompt
   * once and its completions as segments after it (src/model/prefix_pack.ts; adjacent rows with equal prompts form
   * a group). Log-probs, losses and gradients equal the unshared pass's up to summation order. Absent/false: one
   * row per sequence, today's packing. */
  sharedPrefix?: boolean;
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
  /** real tokens the update forwarded (no padding; with sharedPrefix a group's prompt once per pass), once per
   * iteration */
  computedTokens: number;
  /** per micro-batch, per sequence (when opts.trace) */
  traces?: TokenTrace[][];
}

/** One forward/backward pass: a micro-batch, or some rows of it (rowsPerPass). */
interface MicroBatch {
  /** the micro-batch it belongs to */
  mb: number;
  seqs: TrainSequence[];
  batch: PackedBatch;
  adv: Tensor; // (B*T)
  weight: Tensor; // (B*T)
  weightHost: Float32Array;
  mask: Float32Array; // (B*T) 1 on active completion tokens
  old: Tensor | null;
  ref: Tensor | null;
  /** (2N) u32 {first, extent} of each token's completion, and (N) the tokens in the loss (sequence level: the
   * ratio averages over the model's own tokens, not a tool's, as TRL's mask * tool_mask) */
  seq: Tensor | null;
  maskT: Tensor | null;
  /** (N) d total / d entropy (entropy bonus) */
  dentropy: Tensor | null;
  dentropyHost: Float32Array | null;
}

export async function policyUpdate(
  gpu: GpuRuntime,
  model: PolicyModel,
  lora: LoraSet,
  optimizer: AdamW,
  microBatches: TrainSequence[][],
  opts: UpdateOptions,
): Promise<UpdateStats> {
  const mbs = microBatches.filter((mb) => mb.length > 0);
  const stats: UpdateStats = { loss: 0, kl: 0, entropy: 0, clipLow: 0, clipHigh: 0, clipRegion: 0, gradNorm: 0, skipped: 0, trainTokens: 0, computedTokens: 0 };
  if (mbs.length === 0) return stats;
  // a tool's or environment's inserted tokens are not counted (modelMask)
  const activeCounts = mbs.map((mb) => mb.map(trainedTokens));
  const batchTokens = opts.batchTokens ?? activeCounts.flat().reduce((a, b) => a + b, 0);
  const weights = sequenceWeights(opts.lossType, activeCounts, opts.maxCompletionLength, batchTokens);
  const entW = entropyWeights(opts.lossType, activeCounts, batchTokens);
  const entCoef = opts.entropyCoef ?? 0;
  const quantile = opts.topEntropyQuantile ?? 1;
  const seqLevel = opts.loss.importanceSamplingLevel === 'sequence';
  // each token's completion extent and the loss mask: for the sequence ratio, and for vespo's weight at either level
  const needSeq = needsSequences(opts.loss);
  const passes = splitPasses(mbs, weights, opts.rowsPerPass ?? null);
  // every pass packed to the update's longest row: one T for all of them, so that their buffers share the pool's
  // size buckets as in the memory plan's dry run (every row at max length). Passes packed to their own longest row
  // (rowsPerPass, or micro-batches) left idle buffers of each pass's sizes in the pool at once: a step whose
  // completions stopped early held more than the plan's peak. Padding changes no value (causal attention)
  const packLength = Math.max(opts.packLength ?? 0, ...mbs.flat().map((s) => s.prompt.length + s.completion.length));
  // a micro-batch cut into several passes takes its entropy-quantile threshold from all of them (as TRL: per micro-batch)
  const splitMbs = new Set(passes.filter((p, i) => passes.findIndex((q) => q.mb === p.mb) !== i).map((p) => p.mb));
  const traces: TokenTrace[][] | undefined = opts.trace ? mbs.map(() => []) : undefined;
  const prepared: MicroBatch[] = [];
  const passTokens: number[] = [];
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
      const { seqs, weights: passWeights, mb: mbIndex } = passes[m];
      const rows: SequenceRow[] = seqs.map((s) => ({ prompt: s.prompt, completion: s.completion }));
      // unshared: every pass at the update's longest row, so passes share one set of pooled buffer sizes (the plan's)
      const batch = opts.sharedPrefix
        ? packSharedPrefix(gpu, rows, model.config.maxPositionEmbeddings)
        : packRows(gpu, rows, model.config.maxPositionEmbeddings, packLength);
      passTokens.push(opts.sharedPrefix ? sharedPrefixTokens(rows) : rows.reduce((n, r) => n + r.prompt.length + r.completion.length, 0));
      const N = batch.B * batch.T;
      const adv = new Float32Array(N);
      const weight = new Float32Array(N);
      const mask = new Float32Array(N);
      const seqInfo = needSeq ? new Uint32Array(2 * N) : null;
      const oldHost = seqs.every((s) => s.oldLogp) ? new Float32Array(N) : null;
      const dent = entCoef !== 0 ? new Float32Array(N) : null;
      seqs.forEach((s, b) => {
        for (let j = 0; j < s.completion.length; j++) {
          const idx = completionIndex(batch, b, j);
          adv[idx] = s.tokenAdvantages?.[j] ?? s.advantage;
          if (oldHost) oldHost[idx] = s.oldLogp![j];
          if (seqInfo) {
            seqInfo[2 * idx] = completionIndex(batch, b, 0);
            seqInfo[2 * idx + 1] = s.active;
          }
          if (counts(s, j)) {
            weight[idx] = passWeights[b];
            mask[idx] = 1;
            if (dent) dent[idx] = -entCoef * entW[mbIndex];
          }
        }
      });
      const mb: MicroBatch = {
        mb: mbIndex,
        seqs,
        batch,
        adv: gpu.upload(adv, [N], 'advantages'),
        weight: gpu.upload(weight, [N], 'loss_weights'),
        weightHost: weight,
        mask,
        old: oldHost ? gpu.upload(oldHost, [N], 'old_logp') : null,
        ref: null,
        seq: seqInfo ? gpu.upload(seqInfo, [2 * N], 'completion_extent', 'u32') : null,
        maskT: seqInfo ? gpu.upload(mask, [N], 'loss_mask') : null,
        dentropy: dent ? gpu.upload(dent, [N], 'dentropy') : null,
        dentropyHost: dent,
      };
      prepared.push(mb);
      if (!mb.old && opts.numIterations > 1) mb.old = tokenLogprobs(model, mb.batch, lora, opts.temperature, 'old_logp');
      if (opts.loss.beta !== 0) mb.ref = tokenLogprobs(model, mb.batch, null, opts.temperature, 'ref_logp');
    }
    await mark('reference_logprobs');

    let activeTokens = 0;
    /** what clip ratios are over: active tokens, or completions at sequence level */
    let clipUnits = 0;
    const dropoutOn = (lora.spec.dropout ?? 0) > 0;
    for (let it = 0; it < opts.numIterations; it++) {
      optimizer.zeroGrads();
      let loss = 0;
      const thresholds = quantile < 1 ? await splitThresholds(model, lora, prepared, splitMbs, quantile, opts.temperature, (m) => (dropoutOn ? dropoutForwardCounter(opts.dropoutCounter, it, m, opts.numIterations, prepared.length) : null)) : new Map<number, { threshold: number | null; kept: number }>();
      for (let m = 0; m < prepared.length; m++) {
        const mb = prepared[m];
        const { batch } = mb;
        const N = batch.B * batch.T;
        const counter = dropoutOn ? dropoutForwardCounter(opts.dropoutCounter, it, m, opts.numIterations, prepared.length) : null;
        const act = trainForward(model, batch.ids, batch.positions, batch.B, batch.T, lora, counter, false, batch.hostIds, batch.shared?.segments ?? null);
        // LM head fused with the log-prob gather, in vocabulary chunks (no (N, V) logits: lm_head.ts)
        const { logp, entropy, lse } = headLogprobs(model, act.f, batch.targets, opts.temperature);
        let hp = opts.loss;
        let dentropy = mb.dentropy;
        let dentHost = mb.dentropyHost;
        if (quantile < 1) {
          // top_entropy_quantile: the threshold from this micro-batch's active tokens (one readback)
          const ent = await gpu.read(entropy);
          const active = ent.filter((_, i) => mb.mask[i] !== 0);
          const thr = thresholds.has(mb.mb) ? thresholds.get(mb.mb)!.threshold : entropyThreshold(active, quantile);
          hp = { ...hp, entropyThreshold: thr };
          if (dentHost) {
            // the entropy bonus acts on the tokens the policy loss keeps (TRL: mask x entropy_mask), normalised by their count
            const kept = thresholds.has(mb.mb) ? thresholds.get(mb.mb)!.kept : active.filter((e) => thr === null || e >= thr).length;
            const wBonus = entropyBonusWeight(opts.lossType, kept, mbs.length, batchTokens);
            dentHost = dentHost.map((_, i) => (mb.mask[i] !== 0 && (thr === null || ent[i] >= thr) ? -entCoef * wBonus : 0));
            dentropy = gpu.upload(dentHost, [N], 'dentropy');
          }
        }
        const aux = { entropy: quantile < 1 ? entropy : null, seq: mb.seq, mask: mb.maskT };
        const last = it === opts.numIterations - 1 && !!traces;
        // [loss | kl | ratio | clip flags | entropy (| logp | dlogp when tracing)] per token, read back once
        const terms = gpu.tensor([last ? 7 : 5, N], 'grpo_loss_terms');
        grpoLossForward(gpu, terms, logp, mb.old, mb.ref, mb.adv, hp, aux);
        gpu.copy(entropy, terms, N, 0, 4 * N);
        if (last) gpu.copy(logp, terms, N, 0, 5 * N);
        await mark('forward');
        const dlogp = gpu.tensor([N], 'dlogp');
        grpoLossBackward(gpu, dlogp, logp, mb.old, mb.ref, mb.adv, mb.weight, hp, aux);
        if (last) gpu.copy(dlogp, terms, N, 0, 6 * N);
        const df = gpu.tensor([N, model.config.hiddenSize], 'd_final_norm');
        // the entropy bonus's gradient joins the log-prob's in each vocabulary chunk of the head
        const entropyGrad = dentropy ? { dentropy, entropy } : null;
        headLogprobsBackward(model, df, dlogp, act.f, batch.targets, lse, opts.temperature, null, entropyGrad);
        gpu.release(dlogp, lse);
        act.backward(df);
        act.release();
        await mark('backward');
        const t = await gpu.read(terms);
        gpu.release(terms, entropy, logp);
        if (dentropy !== mb.dentropy) gpu.release(dentropy);
        const ent = t.subarray(4 * N, 5 * N);
        const w = mb.weightHost;
        const dent = dentHost;
        for (let i = 0; i < N; i++) {
          if (mb.mask[i] === 0) continue;
          loss += w[i] * t[i];
          if (dent) loss += dent[i] * ent[i];
          stats.kl += t[N + i];
          stats.entropy += ent[i];
          activeTokens++;
          if (seqLevel) continue;
          const flag = t[3 * N + i];
          if (flag & 1) stats.clipLow++;
          if (flag & 2) stats.clipHigh++;
          clipUnits++;
        }
        if (seqLevel) {
          // one ratio per completion: TRL counts clipped completions, not tokens
          mb.seqs.forEach((s, b) => {
            const j = s.completion.findIndex((_, jj) => counts(s, jj));
            if (j < 0) return;
            const flag = t[3 * N + completionIndex(batch, b, j)];
            if (flag & 1) stats.clipLow++;
            if (flag & 2) stats.clipHigh++;
            clipUnits++;
          });
        }
        if (last) traces![mb.mb].push(...mb.seqs.map((s, b) => traceOf(t, N, batch, b, s, w)));
        stats.trainTokens += N;
        stats.computedTokens += passTokens[m];
      }
      if (opts.extraGradients) loss += await opts.extraGradients();
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
      clipLow: stats.clipLow / Math.max(clipUnits, 1),
      clipHigh: stats.clipHigh / Math.max(clipUnits, 1),
      clipRegion: (stats.clipLow + stats.clipHigh) / Math.max(clipUnits, 1),
      gradNorm: stats.gradNorm / k,
      skipped: stats.skipped,
      trainTokens: stats.trainTokens,
      computedTokens: stats.computedTokens,
      ...(traces ? { traces } : {}),
    };
  } finally {
    for (const mb of prepared) {
      gpu.release(mb.adv, mb.weight, mb.old, mb.ref, mb.seq, mb.maskT, mb.dentropy);
      releaseBatch(gpu, mb.batch);
    }
  }
}

/** Whether the policy update packs each group's prompt once (share_prompt_prefix_training): 'off' never, 'auto'
 * where the model supports it (prefix_pack.ts: only full attention mixes tokens) and groups have 2 or more rows,
 * 'on' the same but refusing an unsupported model. */
export function sharesPrefixInTraining(model: PolicyModel, mode: SharePrefixMode, numGenerations: number): boolean {
  if (mode === 'off' || numGenerations < 2) return false;
  const why = sharedPrefixTrainingUnsupported(model);
  if (why && mode === 'on') throw new Error(`share_prompt_prefix_training "on": ${why} (use "auto" or "off")`);
  return why === null;
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
function tokenLogprobs(model: PolicyModel, batch: PackedBatch, lora: LoraSet | null, temperature: number, label: string): Tensor {
  const { gpu } = model;
  const act = trainForward(model, batch.ids, batch.positions, batch.B, batch.T, lora, null, true, batch.hostIds, batch.shared?.segments ?? null); // no backward
  const { logp, entropy, lse } = headLogprobs(model, act.f, batch.targets, temperature, label);
  act.release();
  gpu.release(entropy, lse);
  return logp;
}

/** Micro-batches cut into passes of at most rowsPerPass rows, each row with its loss weight (null: no cut). */
function splitPasses(mbs: TrainSequence[][], weights: number[][], rowsPerPass: number | null): { seqs: TrainSequence[]; weights: number[]; mb: number }[] {
  const out: { seqs: TrainSequence[]; weights: number[]; mb: number }[] = [];
  mbs.forEach((mb, m) => {
    const step = rowsPerPass && rowsPerPass > 0 ? rowsPerPass : mb.length;
    for (let r = 0; r < mb.length; r += step) out.push({ seqs: mb.slice(r, r + step), weights: weights[m].slice(r, r + step), mb: m });
  });
  return out;
}

/** top_entropy_quantile's threshold of each micro-batch cut into several passes (and how many of its active tokens
 * it keeps, the entropy bonus's count), from the entropies of all
 * its passes' active tokens under the current weights (no-gradient forwards with each pass's dropout mask),
 * so that the mask is the one an uncut micro-batch gets. */
async function splitThresholds(
  model: PolicyModel, lora: LoraSet, passes: MicroBatch[], split: Set<number>, quantile: number, temperature: number,
  counterOf: (pass: number) => number | null,
): Promise<Map<number, { threshold: number | null; kept: number }>> {
  const { gpu } = model;
  const active = new Map<number, number[]>();
  for (let m = 0; m < passes.length; m++) {
    const mb = passes[m];
    if (!split.has(mb.mb)) continue;
    const { batch } = mb;
    const act = trainForward(model, batch.ids, batch.positions, batch.B, batch.T, lora, counterOf(m), true, batch.hostIds, batch.shared?.segments ?? null);
    const { logp, entropy, lse } = headLogprobs(model, act.f, batch.targets, temperature, 'entropy_quantile');
    act.release();
    const ent = await gpu.read(entropy);
    gpu.release(logp, entropy, lse);
    const list = active.get(mb.mb) ?? [];
    ent.forEach((e, i) => { if (mb.mask[i] !== 0) list.push(e); });
    active.set(mb.mb, list);
  }
  const out = new Map<number, { threshold: number | null; kept: number }>();
  for (const [m, list] of active) {
    const threshold = entropyThreshold(Float32Array.from(list), quantile);
    out.set(m, { threshold, kept: list.filter((e) => threshold === null || e >= threshold).length });
  }
  return out;
}

/** One sequence's per-token values from the read-back terms [loss | kl | ratio | flags | entropy | logp | dlogp]. */
function traceOf(t: Float32Array, N: number, batch: PackedBatch, b: number, s: TrainSequence, w: Float32Array): TokenTrace {
  const idx = s.completion.map((_, j) => completionIndex(batch, b, j));
  return {
    logp: idx.map((i) => t[5 * N + i]),
    entropy: idx.map((i) => t[4 * N + i]),
    ratio: idx.map((i) => t[2 * N + i]),
    contribution: idx.map((i) => (w[i] > 0 && t[6 * N + i] !== 0 ? -t[6 * N + i] / w[i] : 0)),
    flags: idx.map((i, j) => (j < s.active ? t[3 * N + i] : 0)),
    active: s.active,
  };
}
