// A real GRPO step (GrpoTrainer.trainStep: generation, rewards, policy update) of a randomly initialised
// model on this adapter at a reduced batch, with the memory plan's settings (16-bit base under 'auto', the
// chunked LM head): step time, tokens per second, and the pool's measured peak against the plan's dry run
// of the same step (they must be equal). Every completion runs to max_completion_length (no stop ids).
import type { GpuRuntime } from '../gpu/runtime';
import type { ModelConfig } from '../model/config';
import type { Tokenizer } from '../model/tokenizer';
import { GpuTransformer } from '../model/transformer';
import { GrpoTrainer, type StepLayout } from '../grpo/trainer';
import { defaultConfig, type GrpoConfig } from '../grpo/config';
import { measureStep } from '../grpo/memory_plan';
import { resolveBasePrecision } from '../model/weight_storage';
import { resolveKvPrecision } from '../model/kv_storage';
import { randomWeights } from './model_bench';
import { dryLimitsOf } from '../gpu/dry_device';

export interface RealStepBench {
  model: string;
  base: string;
  /** the generation KV caches' storage (kv_precision resolved) */
  kv: string;
  shape: string;
  /** the step's layout (the memory plan's cut), when not the config's own */
  layout?: StepLayout;
  step_ms: number;
  /** prompt + completion tokens of every row, through generation and the update, per second of the step */
  tokens_per_s: number;
  generated_tokens_per_s: number;
  training_tokens_per_s: number;
  /** real tokens one step's training pass forwarded (the num_train_tokens_computed metric's increase: no padding,
   * with share_prompt_prefix_training a group's prompt once) */
  train_tokens_computed_per_step: number;
  measured_peak_bytes: number;
  planned_peak_bytes: number;
}

export async function benchRealStep(gpu: GpuRuntime, name: string, mc: ModelConfig, over: Partial<GrpoConfig>, steps = 2, layout?: StepLayout): Promise<RealStepBench> {
  const config: GrpoConfig = { ...defaultConfig(), ...over };
  const storage = { basePrecision: config.base_precision, fileDtype: 'bf16' };
  await gpu.sync();
  gpu.pool.trim();
  gpu.pool.stats.peakBytesAllocated = gpu.pool.stats.bytesAllocated;
  const base = gpu.pool.stats.bytesAllocated;
  const model = GpuTransformer.upload(gpu, mc, randomWeights(mc, 3), storage);
  const tokenizer: Tokenizer = { vocabSize: mc.vocabSize, bosId: null, eosIds: [], encode: () => [], decode: () => '', tokenText: () => '' };
  const n = config.prompts_per_step * config.gradient_accumulation_steps;
  const train = Array.from({ length: n }, (_, i) => ({ text: '', ids: Array.from({ length: config.max_prompt_length }, (_, j) => 1 + ((i * 31 + j * 7) % (mc.vocabSize - 1))), answer: '', raw: {} }));
  const scorer = { names: ['r'], weights: [1], score: async (items: unknown[]) => ({ perFunc: [items.map((_, i) => i % 2)], errors: [] }), dispose() {} };
  const trainer = new GrpoTrainer({ gpu, model, tokenizer, config, train, eval: [], scorer, layout });
  try {
    let ms = 0;
    let gen = 0;
    let trainTok = 0;
    let computed = 0;
    for (let s = 0; s < steps; s++) {
      const t0 = performance.now();
      const r = await trainer.trainStep();
      computed = r.metrics.num_train_tokens_computed;
      if (s > 0 || steps === 1) {
        ms += performance.now() - t0;
        gen += r.metrics['tokens_per_second/generation'];
        trainTok += r.metrics['tokens_per_second/training'];
      }
    }
    const measured = steps > 1 ? ms / (steps - 1) : ms;
    const k = Math.max(1, steps - 1);
    const rows = n * config.num_generations;
    const planned = await measureStep(mc, config, layout, {
      storage, adapter: { isSoftware: gpu.adapter.isSoftware },
      limits: dryLimitsOf(gpu),
    });
    return {
      model: name,
      base: resolveBasePrecision(mc, storage),
      kv: resolveKvPrecision(mc, config.kv_precision, resolveBasePrecision(mc, storage)),
      ...(layout ? { layout } : {}),
      shape: `${config.prompts_per_step} prompts x ${config.num_generations} completions, prompt ${config.max_prompt_length}, completion ${config.max_completion_length}`,
      step_ms: measured,
      tokens_per_s: (rows * (config.max_prompt_length + config.max_completion_length)) / (measured / 1000),
      generated_tokens_per_s: gen / k,
      training_tokens_per_s: trainTok / k,
      train_tokens_computed_per_step: computed / steps,
      measured_peak_bytes: gpu.pool.stats.peakBytesAllocated - base,
      planned_peak_bytes: planned.peakBytes,
    };
  } finally {
    await gpu.sync();
    trainer.release();
    model.release();
    gpu.pool.trim();
  }
}
