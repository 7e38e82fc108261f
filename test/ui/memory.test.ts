// The model panel's memory estimate against what a real GRPO step allocates on the Node WebGPU adapter
// (stories260K): the estimate must not be far off in either direction, or the panel misleads.
import { expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { GpuTransformer } from '../../src/model/transformer';
import { GrpoTrainer } from '../../src/grpo/trainer';
import { createRewardScorer } from '../../src/grpo/rewards_scorer';
import { preparePrompts } from '../../src/grpo/prompts';
import { llamaParamCount } from '../../src/model/config';
import { estimateMemory } from '../../src/ui/model/memory';
import { loadStories, storyRows, wordConfig } from '../grpo/fixtures';

test('the memory estimate is within a factor of 1.5 of a real step’s peak allocation', async () => {
  const gpu = await testGpu();
  const loaded = await loadStories();
  const c = loaded.config;
  // one run per process: the pool keeps released buffers for reuse, so a second run would be measured short
  for (const over of [{ num_generations: 4, prompts_per_step: 4, max_completion_length: 48, max_prompt_length: 32, lora_r: 16 }]) {
    const config = wordConfig({ ...over, max_steps: 1 });
    const base = gpu.pool.stats.peakBytesAllocated;
    expect(base).toBe(0);
    const model = GpuTransformer.upload(gpu, c, loaded.weights);
    const scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length });
    const train = preparePrompts(storyRows('dog'), loaded, config).examples;
    const trainer = new GrpoTrainer({ gpu, model, tokenizer: loaded.tokenizer, config, train, eval: [], scorer });
    await trainer.trainStep();
    const peak = gpu.pool.stats.peakBytesAllocated - base;
    const est = estimateMemory(
      {
        layers: c.numLayers, hiddenSize: c.hiddenSize, intermediateSize: c.intermediateSize, numHeads: c.numHeads, numKvHeads: c.numKvHeads,
        headDim: c.headDim, vocabSize: c.vocabSize, weightBytes: model.bytes,
      },
      config,
    );
    console.log(`estimate ${(est.total / 2 ** 20).toFixed(2)} MiB, measured peak ${(peak / 2 ** 20).toFixed(2)} MiB (${llamaParamCount(c)} params)`);
    expect(est.total / peak).toBeGreaterThan(1 / 1.5);
    expect(est.total / peak).toBeLessThan(1.5);
    trainer.release();
    model.release();
    scorer.dispose();
  }
});
