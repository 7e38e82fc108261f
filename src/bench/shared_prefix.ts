// Shared-prefix generation (config share_prompt_prefix, GenerateOptions.groupSize) against every row prefilled,
// at a GSM8K-like rollout shape: P prompts x G completions, sampled at temperature 1 without stop tokens (every
// row runs its full length). The hardware-independent part is the token counts: prompt positions the prefill
// computes (padded to the pack multiple) each way, also at the full GSM8K shape (computed from the lengths, no
// run). Generation tokens/s each way are timings of this adapter, and `tokens_equal` checks that both ways
// sampled the same tokens.

import type { GpuRuntime } from '../gpu/runtime';
import type { ModelConfig } from '../model/config';
import type { WeightMap } from '../model/weights';
import { GpuTransformer } from '../model/transformer';
import { generate, type GenerateOptions } from '../model/generate';
import { generationLengths } from '../model/decode_state';
import { Rng } from '../util/random';

export interface RolloutShape {
  prompts: number;
  numGenerations: number;
  promptLen: number;
  maxNewTokens: number;
}

/** GSM8K with a chat template: prompts of about 160 tokens, 8 completions of up to 256 tokens, 8 prompts a step. */
export const GSM8K_SHAPE: RolloutShape = { prompts: 8, numGenerations: 8, promptLen: 160, maxNewTokens: 256 };
/** The measured, reduced shape (SwiftShader runs it in seconds on stories260K). */
export const GSM8K_REDUCED: RolloutShape = { prompts: 2, numGenerations: 8, promptLen: 48, maxNewTokens: 16 };

export interface SharedPrefixBench {
  model: string;
  shape: RolloutShape;
  /** prompt positions the prefill computed (padded): every row / one row per prompt */
  prefill_tokens_unshared: number;
  prefill_tokens_shared: number;
  /** the same at the full GSM8K shape (GSM8K_SHAPE), from the generation's lengths */
  gsm8k_prefill_tokens_unshared: number;
  gsm8k_prefill_tokens_shared: number;
  /** generated tokens (rows x steps) per second of the whole generate call (prefill included), this adapter */
  generation_tokens_per_s_unshared: number;
  generation_tokens_per_s_shared: number;
  tokens_equal: boolean;
}

function prefillTokens(c: ModelConfig, s: RolloutShape, shared: boolean): number {
  const rows = Array.from({ length: s.prompts * s.numGenerations }, () => new Array<number>(s.promptLen).fill(1));
  const { Tp } = generationLengths(c, rows, s.maxNewTokens);
  return (shared ? s.prompts : s.prompts * s.numGenerations) * Tp;
}

export async function benchSharedPrefix(gpu: GpuRuntime, name: string, c: ModelConfig, weights: WeightMap, shape = GSM8K_REDUCED): Promise<SharedPrefixBench> {
  const model = GpuTransformer.upload(gpu, c, weights);
  const rng = new Rng(3);
  const prompts = Array.from({ length: shape.prompts }, () => Array.from({ length: shape.promptLen }, () => 1 + Math.floor(rng.uniform() * (c.vocabSize - 1))));
  const rows = prompts.flatMap((p) => Array.from({ length: shape.numGenerations }, () => p));
  const opts: GenerateOptions = { maxNewTokens: shape.maxNewTokens, temperature: 1, topK: 0, topP: 1, seed: 7, stopIds: [], lora: null };
  const run = async (groupSize: number) => {
    const stats = { prefillTokens: 0 };
    await generate(model, rows.slice(0, groupSize), { ...opts, maxNewTokens: 2, groupSize, stats }); // warm-up: pipelines, pool
    const t0 = performance.now();
    const gen = await generate(model, rows, { ...opts, groupSize, stats });
    const s = (performance.now() - t0) / 1000;
    return { gen, s, prefill: stats.prefillTokens };
  };
  try {
    const unshared = await run(1);
    const shared = await run(shape.numGenerations);
    const generated = (g: typeof unshared) => g.gen.tokens.reduce((a, t) => a + t.length, 0);
    return {
      model: name,
      shape,
      prefill_tokens_unshared: unshared.prefill,
      prefill_tokens_shared: shared.prefill,
      gsm8k_prefill_tokens_unshared: prefillTokens(c, GSM8K_SHAPE, false),
      gsm8k_prefill_tokens_shared: prefillTokens(c, GSM8K_SHAPE, true),
      generation_tokens_per_s_unshared: generated(unshared) / unshared.s,
      generation_tokens_per_s_shared: generated(shared) / shared.s,
      tokens_equal: JSON.stringify(unshared.gen.tokens) === JSON.stringify(shared.gen.tokens),
    };
  } finally {
    model.release();
  }
}
