// Continuous batching (generate_continuous.ts) against the generation batches one after another (rollout.ts's loop
// when the memory plan generates fewer prompts together than a step has), at a rollout shape with stop tokens:
// P prompts x G completions of stories260K sampled at temperature 1, stopping at its end-of-text token or at the
// first "." (rows end after very different numbers of tokens), `batchPrompts` prompts' rows decoded at once. The
// hardware-independent part is the work: decode steps run one after another (a batch runs until its longest row
// stops; continuous slots are refilled as rows stop) and rows computed over them. Tokens/s each way are timings of
// this adapter (the whole generation, prefills included); peak bytes the pool's peak over each way's generation;
// `tokens_equal` checks that both ways sampled the same tokens.

import type { GpuRuntime } from '../gpu/runtime';
import type { ModelConfig } from '../model/config';
import type { WeightMap } from '../model/weights';
import { GpuTransformer } from '../model/transformer';
import { generate, type GenerateOptions, type Generation } from '../model/generate';
import { generateContinuous } from '../model/generate_continuous';

export interface ContinuousShape {
  prompts: number;
  numGenerations: number;
  /** prompts whose rows are decoded at once (the memory plan's generationPrompts) */
  batchPrompts: number;
  maxNewTokens: number;
  /** decode steps between readbacks (where finished rows leave and new rows join) */
  checkEvery: number;
}

export const CONTINUOUS_SHAPE: ContinuousShape = { prompts: 8, numGenerations: 8, batchPrompts: 2, maxNewTokens: 96, checkEvery: 16 };

export interface ContinuousBench {
  model: string;
  shape: ContinuousShape;
  rows: number;
  /** generated tokens (stop tokens included) */
  generated_tokens: number;
  /** decode steps run one after another: the batches' summed / continuous */
  decode_steps_batches: number;
  decode_steps_continuous: number;
  /** rows computed over the decode steps (first draws included) */
  decode_row_steps_batches: number;
  decode_row_steps_continuous: number;
  /** prompt positions the prefills computed */
  prefill_tokens_batches: number;
  prefill_tokens_continuous: number;
  /** generated tokens per second of the whole generation (prefills included), this adapter */
  generation_tokens_per_s_batches: number;
  generation_tokens_per_s_continuous: number;
  /** the pool's peak bytes over each way's generation */
  peak_bytes_batches: number;
  peak_bytes_continuous: number;
  tokens_equal: boolean;
}

/** The rows generated in batches of `cap` one after another, each with its first row as row base (rollout.ts's loop
 * without continuous batching): the concatenated generation, its decode row-steps and prefill positions. */
export async function generateInBatches(model: GpuTransformer, rows: number[][], opts: Omit<GenerateOptions, 'stats' | 'rowBase'>, cap: number) {
  const gen: Generation = { tokens: [], finish: [], steps: 0 };
  let rowSteps = 0;
  let prefillTokens = 0;
  for (let start = 0; start < rows.length; start += cap) {
    const stats = { prefillTokens: 0, decodeRowSteps: 0 };
    const g = await generate(model, rows.slice(start, start + cap), { ...opts, rowBase: start, stats });
    gen.tokens.push(...g.tokens);
    gen.finish.push(...g.finish);
    if (g.texts) (gen.texts ??= []).push(...g.texts);
    gen.steps += g.steps;
    rowSteps += stats.decodeRowSteps;
    prefillTokens += stats.prefillTokens;
  }
  return { gen, rowSteps, prefillTokens };
}

export async function benchContinuous(
  gpu: GpuRuntime, name: string, c: ModelConfig, weights: WeightMap, prompts: number[][], stopIds: number[], shape = CONTINUOUS_SHAPE,
): Promise<ContinuousBench> {
  const model = GpuTransformer.upload(gpu, c, weights);
  const G = shape.numGenerations;
  const ps = Array.from({ length: shape.prompts }, (_, i) => prompts[i % prompts.length]);
  const rows = ps.flatMap((p) => Array.from({ length: G }, () => p));
  const cap = shape.batchPrompts * G;
  const opts: GenerateOptions = {
    maxNewTokens: shape.maxNewTokens, temperature: 1, topK: 0, topP: 1, seed: 7, stopIds, lora: null,
    checkEvery: shape.checkEvery, groupSize: G, trimAfterPrefill: true,
  };
  const measure = async (run: () => Promise<{ gen: Generation; steps: number; rowSteps: number; prefill: number }>) => {
    await gpu.sync();
    gpu.pool.trim();
    gpu.pool.stats.peakBytesAllocated = gpu.pool.stats.bytesAllocated;
    const t0 = performance.now();
    const r = await run();
    await gpu.sync();
    const s = (performance.now() - t0) / 1000;
    const generated = r.gen.tokens.reduce((a, t, i) => a + t.length + (r.gen.finish[i] === 'stop' ? 1 : 0), 0);
    return { ...r, s, generated, peak: gpu.pool.stats.peakBytesAllocated };
  };
  const batches = async () => {
    const r = await generateInBatches(model, rows, opts, cap);
    return { gen: r.gen, steps: r.gen.steps, rowSteps: r.rowSteps, prefill: r.prefillTokens };
  };
  const continuous = async () => {
    const stats = { prefillTokens: 0, decodeRowSteps: 0 };
    const gen = await generateContinuous(model, rows, { ...opts, capacity: cap, stats });
    return { gen, steps: gen.steps, rowSteps: stats.decodeRowSteps, prefill: stats.prefillTokens };
  };
  try {
    await generate(model, rows.slice(0, G), { ...opts, maxNewTokens: 2 * shape.checkEvery + 1 }); // warm-up
    const b = await measure(batches);
    const k = await measure(continuous);
    return {
      model: name,
      shape,
      rows: rows.length,
      generated_tokens: b.generated,
      decode_steps_batches: b.steps,
      decode_steps_continuous: k.steps,
      decode_row_steps_batches: b.rowSteps,
      decode_row_steps_continuous: k.rowSteps,
      prefill_tokens_batches: b.prefill,
      prefill_tokens_continuous: k.prefill,
      generation_tokens_per_s_batches: b.generated / b.s,
      generation_tokens_per_s_continuous: k.generated / k.s,
      peak_bytes_batches: b.peak,
      peak_bytes_continuous: k.peak,
      tokens_equal: JSON.stringify(b.gen.tokens) === JSON.stringify(k.gen.tokens) && JSON.stringify(b.gen.finish) === JSON.stringify(k.gen.finish),
    };
  } finally {
    model.release();
  }
}
