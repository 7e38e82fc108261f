// Online DPO (algorithm "online_dpo", TRL's OnlineDPOTrainer semantics): the step's rollouts are scored as
// in GRPO; a completion cut at max_completion_length (no stop token) loses missing_eos_penalty; the best and
// the worst completion of each group form a pair (a group whose best and worst tie says nothing and is
// skipped); the pairs are trained with the DPO loss (sigmoid, or IPO on the summed log-ratios) against the
// model with the adapter off. Log-probs are of the raw logits (temperature only shapes the sampling).

import type { GpuRuntime } from '../../gpu/runtime';
import type { GpuTransformer } from '../../model/transformer';
import type { LoraSet } from '../../model/lora';
import type { AdamW } from '../optimizer';
import type { GrpoConfig } from '../config';
import type { Completion, RolloutGroup } from '../rollout';
import { pairLoss } from './losses';
import { logpSumsBackward, sequenceLogps } from './trainer';

export interface OnlinePair {
  prompt: number[];
  chosen: Completion;
  rejected: Completion;
  /** score margin (rewards after the missing-EOS penalty) */
  margin: number;
}

/** Each group's best and worst completion by reward (minus missing_eos_penalty when cut off); ties skipped. */
export function onlinePairs(groups: readonly RolloutGroup[], missingEosPenalty: number | null): OnlinePair[] {
  const out: OnlinePair[] = [];
  for (const g of groups) {
    const scored = g.completions
      .map((c) => ({ c, s: c.reward - (missingEosPenalty !== null && c.truncated ? missingEosPenalty : 0) }))
      .filter((x) => Number.isFinite(x.s) && x.c.trainIds.length > 0);
    if (scored.length < 2) continue;
    let best = scored[0];
    let worst = scored[0];
    for (const x of scored) {
      if (x.s > best.s) best = x;
      if (x.s < worst.s) worst = x;
    }
    if (best.s === worst.s) continue;
    out.push({ prompt: g.prompt.ids, chosen: best.c, rejected: worst.c, margin: best.s - worst.s });
  }
  return out;
}

export interface OnlineDpoUpdate {
  loss: number;
  gradNorm: number;
  skipped: number;
  trainTokens: number;
  metrics: Record<string, number>;
}

/** One optimizer step of online DPO over the step's micro-batches of groups (each micro-batch's loss is the
 * mean over its pairs; micro-batches with pairs are averaged). No pair at all: no update. */
export async function onlineDpoUpdate(
  gpu: GpuRuntime,
  model: GpuTransformer,
  lora: LoraSet,
  optimizer: AdamW,
  microBatches: readonly (readonly RolloutGroup[])[],
  c: GrpoConfig,
  lr: number,
): Promise<OnlineDpoUpdate> {
  const perMb = microBatches.map((groups) => onlinePairs(groups, c.missing_eos_penalty)).filter((p) => p.length > 0);
  const nPairs = perMb.reduce((a, p) => a + p.length, 0);
  const base = { 'online_dpo/pairs': nPairs, 'online_dpo/groups': microBatches.reduce((a, g) => a + g.length, 0) };
  if (nPairs === 0) return { loss: 0, gradNorm: 0, skipped: 0, trainTokens: 0, metrics: base };
  optimizer.zeroGrads();
  const M = perMb.length;
  let loss = 0;
  let tokens = 0;
  const sum: Record<string, number> = {};
  for (const pairs of perMb) {
    const B = pairs.length;
    const rows = [...pairs.map((p) => ({ prompt: p.prompt, completion: p.chosen.trainIds })), ...pairs.map((p) => ({ prompt: p.prompt, completion: p.rejected.trainIds }))];
    tokens += rows.reduce((a, r) => a + r.prompt.length + r.completion.length, 0);
    const ref = await sequenceLogps(model, rows, null);
    await logpSumsBackward(gpu, model, lora, rows, (s) => {
      const r = pairLoss(
        pairs.map((p, i) => ({ chosen: s[i], rejected: s[B + i], refChosen: ref[i], refRejected: ref[B + i], chosenLen: p.chosen.trainIds.length, rejectedLen: p.rejected.trainIds.length })),
        { kind: 'dpo', lossType: c.dpo_loss_type, beta: c.beta, labelSmoothing: 0, dpoWeight: 1, sftWeight: 0, ipoPerToken: false },
      );
      loss += r.loss / M;
      for (const [k, v] of Object.entries(r.metrics)) if (k !== 'nll_loss') sum[k] = (sum[k] ?? 0) + v / M;
      return [...r.dChosen, ...r.dRejected].map((x) => x / M);
    });
    sum['objective/scores_margin'] = (sum['objective/scores_margin'] ?? 0) + pairs.reduce((a, p) => a + p.margin, 0) / B / M;
  }
  optimizer.computeNorm();
  const [norm] = await gpu.read(optimizer.normOut, 1);
  const skipped = !(Number.isFinite(norm) && Number.isFinite(loss));
  if (!skipped) optimizer.applyUpdate(lr);
  return { loss, gradNorm: norm, skipped: skipped ? 1 : 0, trainTokens: tokens, metrics: { ...base, ...sum } };
}
