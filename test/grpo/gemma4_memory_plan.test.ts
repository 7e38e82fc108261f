// The exact memory plan of a Gemma 4 GRPO step (memory_plan.ts's dry run over Gemma4Gpu.allocateForPlan) against a
// real step of the same shapes on the Node WebGPU adapter (Gemma4Trainable over an upload of random weights): the
// buffer pool's peak and largest buffer equal to the byte. E2B-like tiny shapes (sliding and full layers with their
// own head sizes, the last three sharing K/V, PLE, soft-cap): f32 base and f32 caches with the whole-vocabulary
// head; bf16 base, bf16 KV caches (rings on sliding layers), the chunked head and a cut layout; the PLE table in host
// memory (E2B's way), whose step equals the GPU table's.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { Gemma4Gpu } from '../../src/model/gemma4_gpu';
import { Gemma4Trainable } from '../../src/model/gemma4_trainable';
import { GrpoTrainer, type StepLayout } from '../../src/grpo/trainer';
import { defaultConfig, type GrpoConfig } from '../../src/grpo/config';
import { choosePlan, measureStep, planLayout } from '../../src/grpo/memory_plan';
import type { Tokenizer } from '../../src/model/tokenizer';
import type { BaseStorageOptions } from '../../src/model/weight_storage';
import { gemma4TinyConfig, gemma4Weights } from '../model/gemma4_fixtures';
import { gemma4MemoryFloor } from '../../src/grpo/gemma4_memory';
import { dryLimitsOf } from '../../src/gpu/dry_device';

function grpo(over: Partial<GrpoConfig> = {}): GrpoConfig {
  return {
    ...defaultConfig(),
    num_generations: 3, prompts_per_step: 2, gradient_accumulation_steps: 2, max_prompt_length: 5, max_completion_length: 4,
    lora_r: 2, lora_target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'], beta: 0.04, ...over,
  };
}

const CASES: [string, BaseStorageOptions, Partial<GrpoConfig>, number | undefined, StepLayout | undefined, boolean, boolean?][] = [
  ['f32 base, f32 KV caches, whole-vocabulary head', {}, { kv_precision: 'f32' }, undefined, undefined, false],
  ['bf16 base, bf16 KV caches, chunked head, cut layout', { basePrecision: 'bf16' }, { kv_precision: 'bf16', num_iterations: 2 }, 16 * 16 * 4,
    { generationPrompts: 1, rowsPerPass: 2, trimBetweenPhases: true }, false],
  // the first case again with the PLE table in host memory (E2B's way): each forward uploads its tokens' rows
  ['f32 base, PLE table on the host (same step as the first case)', {}, { kv_precision: 'f32' }, undefined, undefined, true],
  // the second case again with activation recomputation (Gemma4Gpu.recomputeLayers): the same step, bit for bit
  ['bf16 base, cut layout, recomputation (same step as the second case)', { basePrecision: 'bf16' }, { kv_precision: 'bf16', num_iterations: 2, recompute: 'on' }, 16 * 16 * 4,
    { generationPrompts: 1, rowsPerPass: 2, trimBetweenPhases: true, recompute: true }, false],
  // E2B's way under a 4 GiB budget: both tables in host memory (the tied head streamed chunk by chunk) and recomputation
  ['bf16 base, PLE and embedding tables on the host, recomputation', { basePrecision: 'bf16' }, { kv_precision: 'bf16', recompute: 'on' }, 16 * 16 * 4,
    { generationPrompts: 1, rowsPerPass: 2, trimBetweenPhases: true, recompute: true }, true, true],
];
/** each case's step metrics, by config: the host table's step must equal the GPU table's */
const steps = new Map<string, Record<string, number>>();
/** each case's measured peak, by the same key */
const peaks = new Map<string, number>();

describe('Gemma 4 memory plan', () => {
  for (const [name, storage, extra, chunk, layout, pleOnHost, embedOnHost = false] of CASES) {
    test(`dry-run peak equals a real step's measured peak: ${name}`, async () => {
      const gpu = await testGpu();
      const mc = gemma4TinyConfig();
      const config = grpo(extra);
      await gpu.sync();
      gpu.pool.trim();
      expect(gpu.pool.stats.bytesAllocated).toBe(0);
      gpu.pool.stats.peakBytesAllocated = 0;
      gpu.pool.largest.bytes = 0;
      const model = new Gemma4Trainable(Gemma4Gpu.upload(gpu, mc, gemma4Weights(mc, 5), storage, { pleOnHost, embedOnHost }));
      expect(model.model.weights.has('model.embed_tokens_per_layer.weight')).toBe(!pleOnHost);
      expect(model.model.weights.has('model.embed_tokens.weight')).toBe(!embedOnHost);
      if (chunk !== undefined) model.lmHeadChunkBytes = chunk;
      const tokenizer: Tokenizer = { vocabSize: mc.vocabSize, bosId: null, eosIds: [], encode: () => [], decode: (ids) => ids.join(' '), tokenText: String };
      const n = config.prompts_per_step * config.gradient_accumulation_steps;
      const train = Array.from({ length: n }, (_, i) => ({ text: `p${i}`, ids: Array.from({ length: config.max_prompt_length }, (_, j) => (i + j) % mc.vocabSize), answer: '', raw: {} }));
      const scorer = { names: ['r'], weights: [1], score: async (items: unknown[]) => ({ perFunc: [items.map((_, i) => i % 2)], errors: [] }), dispose() {} };
      const trainer = new GrpoTrainer({ gpu, model, tokenizer, config, train, eval: [], scorer, layout });
      const report = await trainer.trainStep();
      expect(report.metrics['completions/mean_length']).toBe(config.max_completion_length);
      expect(Number.isFinite(report.metrics.loss)).toBe(true);
      // (recomputation changes no byte of the step's results: its key is the same step's without it)
      const key = JSON.stringify([storage, { ...extra, recompute: undefined }, chunk, layout && { ...layout, recompute: undefined }, embedOnHost]);
      if (layout?.recompute && !embedOnHost) expect(steps.get(key), 'the step without recomputation ran first').toBeDefined();
      const same = steps.get(key);
      if (same) for (const m of ['loss', 'grad_norm', 'kl', 'entropy', 'reward']) expect(report.metrics[m], m).toBe(same[m]);
      else steps.set(key, report.metrics);
      if (pleOnHost && !embedOnHost) expect(same, 'the GPU-table step ran first').toBeDefined();
      const real = { peak: gpu.pool.stats.peakBytesAllocated, largest: gpu.pool.largest.bytes };
      if (layout?.recompute && !embedOnHost) expect(real.peak, 'recomputation lowers the step\'s peak').toBeLessThan(peaks.get(key)!);
      else peaks.set(key, real.peak);
      await gpu.sync();
      trainer.release();
      model.model.destroy();
      const dry = await measureStep(mc, config, layout, {
        storage, lmHeadChunkBytes: chunk, adapter: { isSoftware: gpu.adapter.isSoftware }, pleOnHost, embedOnHost,
        limits: dryLimitsOf(gpu),
      });
      expect(dry.peakBytes).toBe(real.peak);
      expect(dry.largestBufferBytes).toBe(real.largest);
      // the plan's breakdown: weights and LoRA + Adam as the floor counts them, the caches in kv_precision
      const plan = await planLayout(mc, config, layout ?? { generationPrompts: config.prompts_per_step, rowsPerPass: null }, { storage, lmHeadChunkBytes: chunk, pleOnHost, embedOnHost });
      const floor = gemma4MemoryFloor(mc, config, { storage, generationPrompts: plan.layout.generationPrompts, pleOnHost });
      expect(plan.breakdown.weights).toBe(floor.weights + (pleOnHost ? 0 : floor.pleTable) - (embedOnHost ? floor.embedTable : 0));
      expect(!!plan.embedOnHost).toBe(embedOnHost);
      expect(plan.breakdown.loraAdam).toBe(floor.loraAdam);
      expect(plan.breakdown.kvCache).toBe(floor.kvCache);
      expect(plan.kvPrecision).toBe(config.kv_precision);
      expect(plan.peakBytes).toBeGreaterThan(floor.total);
    }, 300_000);
  }

  test('choosePlan cuts a Gemma 4 step to fit a smaller budget, then recomputes', async () => {
    const mc = gemma4TinyConfig();
    const config = grpo({ gradient_accumulation_steps: 1 });
    const free = await choosePlan(mc, config);
    expect(free.fits).toBe(true);
    expect(free.recompute).toBe('off');
    const small = await planLayout(mc, config, { generationPrompts: 1, rowsPerPass: 1, trimBetweenPhases: true });
    expect(small.peakBytes).toBeLessThan(free.peakBytes);
    const cut = await choosePlan(mc, config, { budgetBytes: Math.floor((free.peakBytes + small.peakBytes) / 2) });
    expect(cut.fits).toBe(true);
    expect(cut.layout).not.toEqual(free.layout);
    expect(cut.recompute).toBe('off');
    // below the smallest cut without recomputation: the same cuts again with it
    const recomputed = await planLayout(mc, config, { generationPrompts: 1, rowsPerPass: 1, trimBetweenPhases: true, recompute: true });
    expect(recomputed.peakBytes).toBeLessThan(small.peakBytes);
    const tight = await choosePlan(mc, config, { budgetBytes: small.peakBytes - 1 });
    expect(tight.fits).toBe(true);
    expect(tight.recompute).toBe('on');
    expect(tight.peakBytes).toBeLessThan(small.peakBytes);
    expect((await choosePlan(mc, { ...config, recompute: 'off' }, { budgetBytes: small.peakBytes - 1 })).fits).toBe(false);
    expect(tight.embedOnHost).toBe(false);
  }, 120_000);

  test('choosePlan keeps the embedding table in host memory when no layout fits with it on the GPU', async () => {
    // a vocabulary of 512 (a 32 KiB f32 table) and head chunks of 64 columns (4 KiB of uploaded rows)
    const mc = gemma4TinyConfig({ vocab_size: 512 });
    const config = grpo({ gradient_accumulation_steps: 1 });
    const opts = { lmHeadChunkBytes: 64 * 16 * 4 };
    const smallest = { generationPrompts: 1, rowsPerPass: 1, trimBetweenPhases: true, recompute: true };
    const onGpu = await planLayout(mc, config, smallest, { ...opts, embedOnHost: false });
    const hosted = await planLayout(mc, config, smallest, { ...opts, embedOnHost: true });
    expect(hosted.peakBytes).toBeLessThan(onGpu.peakBytes);
    expect(onGpu.breakdown.weights - hosted.breakdown.weights).toBe(512 * 16 * 4);
    expect((await choosePlan(mc, config, opts)).embedOnHost).toBe(false);
    const tighter = await choosePlan(mc, config, { ...opts, budgetBytes: onGpu.peakBytes - 1 });
    expect(tighter.fits).toBe(true);
    expect(tighter.embedOnHost).toBe(true);
    expect(tighter.basePrecision).toMatch(/embedding table in host memory/);
    // a budget below the weights on the GPU goes straight to the host table's layouts
    const below = await choosePlan(mc, config, { ...opts, budgetBytes: onGpu.breakdown.weights - 1 });
    expect(below.embedOnHost).toBe(true);
  }, 120_000);
});
