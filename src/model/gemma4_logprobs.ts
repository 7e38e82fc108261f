// Log-probabilities of given completions under the Gemma 4 GPU model (LoRA on or off), as logprobs.ts computes them
// for the other families: the forward up to the final norm, then the shared fused head (lm_head.ts: vocabulary
// chunks, the final soft-cap inside each), so no (N, V) logits exist.

import { completionIndex, packRows, releaseBatch, type SequenceRow, type TokenLogprobs } from './logprobs';
import { headLogprobs, type HeadLogprobs } from './lm_head';
import type { Gemma4Gpu, Gemma4GpuLora } from './gemma4_gpu';
import type { Tensor } from '../gpu/tensor';

export async function gemma4CompletionLogprobs(
  model: Gemma4Gpu, rows: SequenceRow[], lora: Gemma4GpuLora | null, temperature = 1, minLength = 0,
): Promise<TokenLogprobs> {
  const { gpu } = model;
  const batch = packRows(gpu, rows, model.config.maxPositionEmbeddings, minLength);
  let f: Tensor | null = null;
  let out: HeadLogprobs | null = null;
  try {
    f = model.forwardHidden(batch.ids, batch.positions, batch.B, batch.T, lora, false, { hostIds: batch.hostIds }).f;
    out = headLogprobs(model, f, batch.targets, temperature);
    const lp = await gpu.read(out.logp);
    const en = await gpu.read(out.entropy);
    const pick = (src: Float32Array, b: number) => Float32Array.from(rows[b].completion, (_, j) => src[completionIndex(batch, b, j)]);
    return { logprobs: rows.map((_, b) => pick(lp, b)), entropy: rows.map((_, b) => pick(en, b)) };
  } finally {
    if (f) gpu.release(f);
    if (out) gpu.release(out.logp, out.entropy, out.lse);
    releaseBatch(gpu, batch);
  }
}
