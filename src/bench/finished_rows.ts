// Rows that finish leave (GenerateOptions.compactFinished, DecodeState.compact) against every row decoded to the
// last step, at a rollout shape with stop tokens: P prompts x G completions of stories260K sampled at temperature
// 1, stopping at its end-of-text token or at the first "." (so rows end after very different numbers of tokens).
// The hardware-independent part is the decode work: rows computed over the decode steps each way (every step
// computes its active rows; the uncompacted path computes all B rows until the last row stops). Generation
// tokens/s each way are timings of this adapter (the whole generate call, prefill included), and `tokens_equal`
// checks that both ways sampled the same tokens.

import type { GpuRuntime } from '../gpu/runtime';
import type { ModelConfig } from '../model/config';
import type { WeightMap } from '../model/weights';
import { GpuTransformer } from '../model/transformer';
import { generate, type GenerateOptions } from '../model/generate';

export interface FinishedRowsShape {
  prompts: number;
  numGenerations: number;
  maxNewTokens: number;
  /** decode steps between readbacks (where finished rows leave) */
  checkEvery: number;
}

export const FINISHED_ROWS_SHAPE: FinishedRowsShape = { prompts: 4, numGenerations: 8, maxNewTokens: 96, checkEvery: 16 };

export interface FinishedRowsBench {
  model: string;
  shape: FinishedRowsShape;
  rows: number;
  decode_steps: number;
  /** generated tokens (stop tokens included) */
  generated_tokens: number;
  /** rows computed over the decode steps: every row every step / the rows still running at each step */
  decode_row_steps_full: number;
  decode_row_steps_compacted: number;
  /** generated_tokens / decode_row_steps: the share of the decode work that produced a kept token */
  useful_fraction_full: number;
  useful_fraction_compacted: number;
  /** generated tokens per second of the whole generate call (prefill included), this adapter */
  generation_tokens_per_s_full: number;
  generation_tokens_per_s_compacted: number;
  tokens_equal: boolean;
}

export async function benchFinishedRows(
  gpu: GpuRuntime, name: string, c: ModelConfig, weights: WeightMap, prompts: number[][], stopIds: number[], shape = FINISHED_ROWS_SHAPE,
): Promise<FinishedRowsBench> {
  const model = GpuTransformer.upload(gpu, c, weights);
  const ps = prompts.slice(0, shape.prompts);
  const rows = ps.flatMap((p) => Array.from({ length: shape.numGenerations }, () => p));
  const opts: GenerateOptions = {
    maxNewTokens: shape.maxNewTokens, temperature: 1, topK: 0, topP: 1, seed: 7, stopIds, lora: null,
    checkEvery: shape.checkEvery, groupSize: shape.numGenerations,
  };
  const run = async (compactFinished: boolean) => {
    const stats = { prefillTokens: 0, decodeRowSteps: 0 };
    await generate(model, rows.slice(0, shape.numGenerations), { ...opts, maxNewTokens: 2 * shape.checkEvery + 1, compactFinished }); // warm-up
    const t0 = performance.now();
    const gen = await generate(model, rows, { ...opts, compactFinished, stats });
    const s = (performance.now() - t0) / 1000;
    const generated = gen.tokens.reduce((a, t, i) => a + t.length + (gen.finish[i] === 'stop' ? 1 : 0), 0);
    return { gen, s, generated, rowSteps: stats.decodeRowSteps };
  };
  try {
    const full = await run(false);
    const comp = await run(true);
    return {
      model: name,
      shape,
      rows: rows.length,
      decode_steps: full.gen.steps,
      generated_tokens: full.generated,
      decode_row_steps_full: full.rowSteps,
      decode_row_steps_compacted: comp.rowSteps,
      useful_fraction_full: full.generated / full.rowSteps,
      useful_fraction_compacted: comp.generated / comp.rowSteps,
      generation_tokens_per_s_full: full.generated / full.s,
      generation_tokens_per_s_compacted: comp.generated / comp.s,
      tokens_equal: JSON.stringify(full.gen.tokens) === JSON.stringify(comp.gen.tokens) && JSON.stringify(full.gen.finish) === JSON.stringify(comp.gen.finish),
    };
  } finally {
    model.release();
  }
}
