// Generation with the Gemma 4 GPU model (gemma4_gpu.ts): a batched prefill that fills the non-shared layers'
// caches, then one-token decode steps over them; each step's next token drawn by the shared sampling kernel
// (sample.wgsl: greedy at temperature 0, else temperature / top-k / top-p with the seeded Philox draw, counter =
// the step, as generate.ts draws) from the soft-capped logits of the B rows' last positions only, so no (N, V)
// logits exist. The caches are f32 or 16 bits as kv_precision resolves. The ids are read back every step (the PLE table may live on the host and needs them there).
// Prompts of one call have the same length (the prefill writes every position into the caches, and a right-padded
// row's padding would land in a sliding layer's ring).

import type { Tensor } from '../gpu/tensor';
import { sample } from '../gpu/kernels/sample';
import type { Gemma4Gpu, Gemma4GpuLora } from './gemma4_gpu';
import { generationLengths } from './decode_state';
import type { GenerateOptions, Generation } from './generate';
import { cutRows } from './stop_rows';
import { checkSampledIds } from './sampled_ids';
import { resolveKvPrecision } from './kv_storage';

// Gemma 4 decodes every row to the last step (its own decode in gemma4_gpu.ts: per-layer head sizes and shared
// K/V sources; finished rows do not leave, GenerateOptions.compactFinished is generate.ts's)
export interface Gemma4GenerateOptions extends Omit<GenerateOptions, 'lora' | 'fusedWeightBudget' | 'checkEvery' | 'compactFinished'> {
  /** prefill one prompt row at a time (memory-saving layouts: a B-th of the prefill's activations) */
  prefillByRow?: boolean;
  lora: Gemma4GpuLora | null;
}

export async function generateGemma4(model: Gemma4Gpu, prompts: number[][], opts: Gemma4GenerateOptions): Promise<Generation> {
  const B = prompts.length;
  if (B === 0) return { tokens: [], finish: [], steps: 0 };
  const { gpu, config: c } = model;
  const C = c.hiddenSize;
  const { lens, maxNew } = generationLengths(c, prompts, opts.maxNewTokens);
  const Tp = lens[0];
  if (lens.some((l) => l !== Tp)) throw new Error(`Gemma 4 generation: the prompts of one call must have one length, got ${lens.join(', ')}`);
  const stop = new Set(opts.stopIds);
  const stopStrings = (opts.stopStrings ?? []).filter((x) => x.length > 0);
  if (stopStrings.length && !opts.decode) throw new Error('stop strings need the tokenizer (decode)');
  // f32 or 16 bits as kv_precision resolves for this base (kv_storage.ts)
  const caches = model.allocCaches(B, Tp + maxNew, resolveKvPrecision(c, opts.kvPrecision, model.baseFormat()));
  const next = gpu.tensor([B], 'next ids', 'u32');
  const drawn: number[] = []; // step-major: drawn[s * B + b]
  let steps = 0;
  try {
    let hidden: Tensor = gpu.tensor([B, C], 'last prompt hidden');
    if (opts.prefillByRow && B > 1) {
      // one row at a time (a B-th of the prefill's activations): each row's caches filled in a one-row set, copied
      // into its row of the B-row caches ((B, TMAX, width) row-major: row b's block at b * its size)
      const one = model.allocCaches(1, Tp + maxNew, caches.format);
      const pos = gpu.upload(Uint32Array.from({ length: Tp }, (_, n) => n), [Tp], 'prompt positions', 'u32');
      for (let b = 0; b < B; b++) {
        const ids = gpu.upload(Uint32Array.from(prompts[b]), [Tp], 'prompt ids', 'u32');
        const { f } = model.forwardHidden(ids, pos, 1, Tp, opts.lora, false, { prefill: one, hostIds: prompts[b] });
        for (const [l, small] of one.byLayer) {
          const big = caches.byLayer.get(l)!;
          gpu.copy(small.k, big.k, small.k.size, 0, b * small.k.size);
          gpu.copy(small.v, big.v, small.v.size, 0, b * small.v.size);
        }
        gpu.copy(f, hidden, C, (Tp - 1) * C, b * C);
        gpu.release(ids, f);
      }
      gpu.release(pos);
      model.releaseCaches(one);
    } else {
      const flat = prompts.flat();
      const ids = gpu.upload(Uint32Array.from(flat), [B * Tp], 'prompt ids', 'u32');
      const pos = gpu.upload(Uint32Array.from({ length: B * Tp }, (_, n) => n % Tp), [B * Tp], 'prompt positions', 'u32');
      const { f } = model.forwardHidden(ids, pos, B, Tp, opts.lora, false, { prefill: caches, hostIds: flat });
      gpu.release(ids, pos);
      // each row's last prompt position
      for (let b = 0; b < B; b++) gpu.copy(f, hidden, C, (b * Tp + Tp - 1) * C, b * C);
      gpu.release(f);
    }
    if (opts.trimAfterPrefill) {
      // the prefill's (B*Tp)-row buffers are never reused by the decode steps' B rows (generate.ts does the same)
      gpu.flush(); // nothing recorded may still name a buffer that trim destroys
      gpu.pool.trim();
    }
    for (let s = 0; s < maxNew; s++) {
      const { raw, logits } = model.headLogits(hidden);
      sample(gpu, next, logits, { temperature: opts.temperature, topK: opts.topK, topP: opts.topP, seed: opts.seed, counter: s });
      gpu.release(hidden, raw);
      if (logits !== raw) gpu.release(logits);
      const ids = [...(await gpu.readU32(next, B))];
      checkSampledIds(ids, B, c.vocabSize, s); // non-finite logits are an error naming the step, never a token
      drawn.push(...ids);
      steps++;
      if (s === maxNew - 1) break;
      if ((stop.size || stopStrings.length) && cutRows(Uint32Array.from(drawn), B, steps, stop, stopStrings, opts.decode).every((r) => r.finish === 'stop')) break;
      const position = Tp + s;
      const sid = gpu.upload(Uint32Array.from(ids), [B], 'step ids', 'u32');
      const spos = gpu.upload(new Uint32Array(B).fill(position), [B], 'step positions', 'u32');
      const lengths = gpu.upload(new Uint32Array(B).fill(position + 1), [B], 'cache lengths', 'u32');
      hidden = model.forwardHidden(sid, spos, B, 1, opts.lora, false, { step: { caches, lengths }, hostIds: ids }).f;
      gpu.release(sid, spos, lengths);
    }
  } finally {
    model.releaseCaches(caches);
    gpu.release(next);
  }
  const rows = cutRows(Uint32Array.from(drawn), B, steps, stop, stopStrings, opts.decode);
  return {
    tokens: rows.map((r) => r.tokens),
    finish: rows.map((r) => r.finish),
    texts: stopStrings.length ? rows.map((r) => r.text!) : undefined,
    steps,
  };
}
