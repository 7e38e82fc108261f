// A GRPO step with a reward_model reward: the memory plan's dry run (its reward adapters' LoRA sets planned
// on the same model) equals a real step's measured peak to the byte, and the reward models add far less than
// the base weights: they run on the policy's own frozen weights, never a second copy.
import { expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { gpuTinyConfig, randomWeights } from '../model/tiny';
import { GpuTransformer } from '../../src/model/transformer';
import { GrpoTrainer } from '../../src/grpo/trainer';
import { defaultConfig, type GrpoConfig } from '../../src/grpo/config';
import { measureStep } from '../../src/grpo/memory_plan';
import { createRewardScorer } from '../../src/grpo/rewards_scorer';
import { RewardModelScorer } from '../../src/grpo/reward_model/scorer';
import { LoraSet, type LoraSpec } from '../../src/model/lora';
import type { Tokenizer } from '../../src/model/tokenizer';
import { dryLimitsOf } from '../../src/gpu/dry_device';

const SPECS: LoraSpec[] = [
  { r: 2, alpha: 4, targetModules: ['q_proj', 'v_proj'], useRslora: false },
  { r: 3, alpha: 3, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'], useRslora: false },
];

const config = (): GrpoConfig => ({
  ...defaultConfig(),
  num_generations: 3, prompts_per_step: 2, gradient_accumulation_steps: 1, max_prompt_length: 13, max_completion_length: 9,
  lora_r: 2, lora_target_modules: ['q_proj', 'v_proj'],
  reward_funcs: [{ name: 'length_penalty', weight: 1, params: {} }, { name: 'reward_model', weight: 1, params: { adapters: 'a,b', reduce: 'min' } }],
});

test('reward-model GRPO step: plan == measured peak, and the reward models hold no second copy of the base', async () => {
  const gpu = await testGpu();
  const mc = gpuTinyConfig({ vocabSize: 4001, hiddenSize: 16 });
  const c = config();
  await gpu.sync();
  gpu.pool.trim();
  expect(gpu.pool.stats.bytesAllocated).toBe(0);
  gpu.pool.stats.peakBytesAllocated = 0;
  gpu.pool.largest.bytes = 0;
  const model = GpuTransformer.upload(gpu, mc, randomWeights(mc, 5));
  const weightBytes = gpu.pool.stats.bytesAllocated;
  const tokenizer: Tokenizer = { vocabSize: mc.vocabSize, bosId: null, eosIds: [], encode: () => [], decode: (ids) => ids.join(' '), tokenText: String };
  const train = Array.from({ length: 2 }, (_, i) => ({ text: `p${i}`, ids: Array.from({ length: 13 }, (_, j) => (i + j) % mc.vocabSize), answer: '', raw: {} }));
  const rm = new RewardModelScorer(model, SPECS.map((spec, k) => {
    const lora = new LoraSet(gpu, mc, spec);
    lora.initialize(k + 1);
    return { source: `rm${k}`, lora, head: Float32Array.from({ length: mc.hiddenSize }, (_, i) => Math.sin(i + k)) };
  }), 'min', 0);
  const scorer = createRewardScorer(c.reward_funcs, { maxCompletionLength: c.max_completion_length, rewardModels: new Map([[1, (items) => rm.scoreItems(items)]]) });
  const trainer = new GrpoTrainer({ gpu, model, tokenizer, config: c, train, eval: [], scorer });
  const report = await trainer.trainStep();
  // the model reward is charted beside the rule reward (rewards/<name>/mean), and it varies by completion
  expect(Number.isFinite(report.metrics['rewards/reward_model/mean'])).toBe(true);
  expect(Number.isFinite(report.metrics['rewards/length_penalty/mean'])).toBe(true);
  expect(report.metrics['rewards/reward_model/std']).toBeGreaterThan(0);
  const realPeak = gpu.pool.stats.peakBytesAllocated;
  await gpu.sync();
  trainer.release();
  rm.release();
  model.release();

  const rewardModels = new Map([[1, SPECS]]);
  const opts = { adapter: { isSoftware: gpu.adapter.isSoftware }, limits: dryLimitsOf(gpu) };
  const dry = await measureStep(mc, c, undefined, { ...opts, rewardModels });
  expect(dry.peakBytes).toBe(realPeak);
  // without the reward models' adapters the plan is smaller, by less than one copy of the base weights
  const without = await measureStep(mc, { ...c, reward_funcs: [c.reward_funcs[0]] }, undefined, opts);
  console.log(`peak with two reward adapters ${realPeak} B, without ${without.peakBytes} B, base weights ${weightBytes} B`);
  expect(realPeak).toBeGreaterThan(without.peakBytes);
  expect(realPeak - without.peakBytes).toBeLessThan(weightBytes);
});
