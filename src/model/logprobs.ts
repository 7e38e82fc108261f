// Log-probabilities of given completions, under the policy (LoRA on) or the reference model (LoRA off:
// the same weights, no second copy). Rows are prompt + completion, right-padded to the longest row.

import type { GpuRuntime } from '../gpu/runtime';
import type { Tensor } from '../gpu/tensor';
import { headLogprobs, type HeadLogprobs } from './lm_head';
import type { GpuTransformer, Activations } from './transformer';
import type { LoraSet } from './lora';
import { packSharedPrefix } from './prefix_pack';

export interface SequenceRow {
  prompt: number[];
  completion: number[];
}

/** A batch of packed sequences on the GPU. Token (b, t) is at b*T + t; target (b, t) = token (b, t+1). */
export interface PackedBatch {
  B: number;
  T: number;
  rows: SequenceRow[];
  ids: Tensor; // (B*T) u32
  /** the same ids on the host (a Gemma 4 PLE table kept in host memory reads its rows from them) */
  hostIds: Uint32Array;
  positions: Tensor; // (B*T) u32
  targets: Tensor; // (B*T) u32
  /** shared-prefix packing (prefix_pack.ts): the attention mask (B*T*2) u32, which packed row holds each
   * sequence row and where its completion's predicting positions start; absent: one sequence row per packed row */
  shared?: SharedPrefixLayout;
}

/** Where packSharedPrefix put each sequence row (rows[i]): packed row `row[i]`, its completion token j
 * predicted at flat index row[i] * T + start[i] + j. */
export interface SharedPrefixLayout {
  segments: Tensor;
  row: number[];
  start: number[];
}

/** Rows are padded to a multiple of this many tokens, so that batches of slightly different lengths share
 * pooled buffers (causal attention keeps padding from touching real tokens). */
export const PACK_MULTIPLE = 8;

/** `minLength`: pad to at least this many tokens (several passes of one step packed to one T, so that their buffers
 * are of one size, as the memory plan's: see policyUpdate) */
export function packRows(gpu: GpuRuntime, rows: SequenceRow[], maxPositions: number, minLength = 0): PackedBatch {
  const B = rows.length;
  if (B === 0) throw new Error('no sequences to pack');
  const longest = Math.max(minLength, ...rows.map((r) => r.prompt.length + r.completion.length));
  if (longest > maxPositions) throw new Error(`a sequence of ${longest} tokens exceeds the model's ${maxPositions} positions`);
  const T = Math.min(maxPositions, Math.ceil(longest / PACK_MULTIPLE) * PACK_MULTIPLE);
  rows.forEach((r, i) => {
    if (r.prompt.length === 0) throw new Error(`row ${i}: the prompt is empty (it needs at least BOS)`);
  });
  const ids = new Uint32Array(B * T);
  const pos = new Uint32Array(B * T);
  const tgt = new Uint32Array(B * T);
  rows.forEach((r, b) => {
    const seq = [...r.prompt, ...r.completion];
    for (let t = 0; t < T; t++) {
      ids[b * T + t] = t < seq.length ? seq[t] : 0;
      pos[b * T + t] = t;
      tgt[b * T + t] = t + 1 < seq.length ? seq[t + 1] : 0;
    }
  });
  return {
    B,
    T,
    rows,
    ids: gpu.upload(ids, [B * T], 'batch.ids', 'u32'),
    hostIds: ids,
    positions: gpu.upload(pos, [B * T], 'batch.positions', 'u32'),
    targets: gpu.upload(tgt, [B * T], 'batch.targets', 'u32'),
  };
}

export function releaseBatch(gpu: GpuRuntime, b: PackedBatch): void {
  gpu.release(b.ids, b.positions, b.targets, b.shared?.segments ?? null);
}

/** Flat index, in the packed token grid, of the position whose output predicts completion token j of
 * sequence row b (batch.rows[b]). */
export function completionIndex(batch: PackedBatch, b: number, j: number): number {
  if (batch.shared) return batch.shared.row[b] * batch.T + batch.shared.start[b] + j;
  return b * batch.T + batch.rows[b].prompt.length + j - 1;
}

export interface TokenLogprobs {
  /** logp of each completion token, per row */
  logprobs: Float32Array[];
  /** entropy of the predictive distribution at each completion token, per row */
  entropy: Float32Array[];
}

/** Per-token log-probs (of logits / temperature) of every row's completion. With `sharedPrefix`, adjacent rows
 * with equal prompts are packed as their prompt once and their completions as masked segments after it
 * (prefix_pack.ts, share_prompt_prefix_training): the same log-probs up to float rounding. */
export async function completionLogprobs(
  model: GpuTransformer,
  rows: SequenceRow[],
  lora: LoraSet | null,
  temperature = 1,
  minLength = 0,
  sharedPrefix = false,
): Promise<TokenLogprobs> {
  const { gpu } = model;
  const batch = sharedPrefix ? packSharedPrefix(gpu, rows, model.config.maxPositionEmbeddings) : packRows(gpu, rows, model.config.maxPositionEmbeddings, minLength);
  let act: Activations | null = null;
  let out: HeadLogprobs | null = null;
  try {
    act = model.forward(batch.ids, batch.positions, batch.B, batch.T, lora, null, {}, batch.shared?.segments ?? null);
    out = headLogprobs(model, act.f, batch.targets, temperature);
    const { logp, entropy } = out;
    const lp = await gpu.read(logp);
    const en = await gpu.read(entropy);
    const pick = (src: Float32Array, b: number) =>
      Float32Array.from(rows[b].completion, (_, j) => src[completionIndex(batch, b, j)]);
    return { logprobs: rows.map((_, b) => pick(lp, b)), entropy: rows.map((_, b) => pick(en, b)) };
  } finally {
    if (act) model.releaseActivations(act);
    if (out) gpu.release(out.logp, out.entropy, out.lse);
    releaseBatch(gpu, batch);
  }
}
