// The memory plan is one step's peak; a run is many steps. In the config's own layout (no trimming between
// phases) the pool kept every step's idle buffers, and steps whose completions end at other lengths pack the
// update to another T, so each new length left one more set of buffer sizes behind: a 5-step Llama run crept
// past the plan from step 4 (1,061,888 bytes against 1,060,352) and grew without bound. The trainer now frees
// the pool's idle buffers at the end of every step, so every step starts as the plan's dry run does.
import { expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { gpuTinyConfig, randomWeights } from '../model/tiny';
import { GpuTransformer } from '../../src/model/transformer';
import { GrpoTrainer } from '../../src/grpo/trainer';
import { defaultConfig, type GrpoConfig } from '../../src/grpo/config';
import { measureStep } from '../../src/grpo/memory_plan';
import type { Tokenizer } from '../../src/model/tokenizer';
import { dryLimitsOf } from '../../src/gpu/dry_device';

test('a run of steps whose completions end at different lengths stays under the one-step plan', async () => {
  const gpu = await testGpu();
  const mc = gpuTinyConfig({ vocabSize: 61 });
  const config: GrpoConfig = {
    ...defaultConfig(), num_generations: 4, prompts_per_step: 2, gradient_accumulation_steps: 1, max_prompt_length: 7, max_completion_length: 40,
    lora_r: 2, lora_target_modules: ['q_proj', 'v_proj'], beta: 0.04,
  };
  await gpu.sync();
  gpu.pool.trim();
  expect(gpu.pool.stats.bytesAllocated).toBe(0);
  gpu.pool.stats.peakBytesAllocated = 0;
  const model = GpuTransformer.upload(gpu, mc, randomWeights(mc, 5));
  // 6 of 61 ids stop a completion: each step's longest row differs
  const tokenizer: Tokenizer = { vocabSize: mc.vocabSize, bosId: null, eosIds: [3, 17, 29, 41, 50, 7], encode: () => [], decode: (ids) => ids.join(' '), tokenText: String };
  const train = Array.from({ length: 8 }, (_, i) => ({ text: `p${i}`, ids: Array.from({ length: 7 }, (_, j) => 1 + ((i * 5 + j) % 50)), answer: '', raw: {} }));
  const scorer = { names: ['r'], weights: [1], score: async (items: unknown[]) => ({ perFunc: [items.map((_, i) => i % 2)], errors: [] }), dispose() {} };
  const trainer = new GrpoTrainer({ gpu, model, tokenizer, config, train, eval: [], scorer });
  const dry = await measureStep(mc, config, undefined, {
    adapter: { isSoftware: gpu.adapter.isSoftware },
    limits: dryLimitsOf(gpu),
  });
  const lengths = new Set<number>();
  const peaks: number[] = [];
  for (let s = 0; s < 6; s++) {
    const report = await trainer.trainStep();
    lengths.add(report.metrics['completions/max_length']);
    peaks.push(gpu.pool.stats.peakBytesAllocated);
  }
  await gpu.sync();
  trainer.release();
  model.release();
  expect(lengths.size, 'the steps ended at different lengths').toBeGreaterThan(1);
  for (const p of peaks) expect(p).toBeLessThanOrEqual(dry.peakBytes);
});
