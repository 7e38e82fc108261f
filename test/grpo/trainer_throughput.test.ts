// tokens_per_second/training counts every token the policy update processed, once: with num_iterations = 2
// each pass over the rollout is its own optimizer step (as TRL), so one step runs forward + backward once over
// each micro-batch's packed (B, T) grid (the old log-probs are taken at generation), the tokens are sum(B x T), and the rate times the update's time gives them back. The update's time is taken from the
// profile (time/<phase>, whose sum is the update's time up to the few host steps before and after its
// first and last phase). Node WebGPU, stories260K.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { GpuTransformer } from '../../src/model/transformer';
import { GrpoTrainer } from '../../src/grpo/trainer';
import { createRewardScorer } from '../../src/grpo/rewards_scorer';
import { preparePrompts } from '../../src/grpo/prompts';
import { PACK_MULTIPLE } from '../../src/model/logprobs';
import { loadStories, storyRows, wordConfig } from './fixtures';

describe('tokens_per_second/training', () => {
  test('counts each pass once (num_iterations = 2)', async () => {
    const gpu = await testGpu();
    const loaded = await loadStories();
    const config = wordConfig({ max_steps: 1, num_generations: 4, max_completion_length: 8, num_iterations: 2, gradient_accumulation_steps: 2, lora_r: 4, lora_alpha: 8 });
    const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
    const scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length });
    const train = preparePrompts(storyRows('dog'), loaded, config).examples;
    const trainer = new GrpoTrainer({ gpu, model, tokenizer: loaded.tokenizer, config, train, eval: [], scorer, profile: true });
    const report = await trainer.trainStep();
    trainer.release();
    model.release();
    scorer.dispose();

    // the packed grid of each micro-batch (prompts_per_step groups of num_generations completions); every pass
    // of one update is packed to the update's longest row (one set of buffer sizes, as the memory plan's)
    const P = config.prompts_per_step;
    const longest = Math.max(...report.groups.flatMap((g) => g.completions.map((c) => g.prompt.ids.length + c.trainIds.length)));
    const T = Math.min(loaded.config.maxPositionEmbeddings, Math.ceil(longest / PACK_MULTIPLE) * PACK_MULTIPLE);
    let grid = 0;
    for (let m = 0; m < config.gradient_accumulation_steps; m++) grid += report.groups.slice(m * P, (m + 1) * P).reduce((n, g) => n + g.completions.length, 0) * T;
    // one pass per optimizer step: each of the num_iterations passes over a rollout is its own step (issue 24)
    const processed = grid;
    const m = report.metrics;
    const updateSeconds = ['reference_logprobs', 'forward', 'backward', 'optimizer'].reduce((a, k) => a + m[`time/${k}`], 0);
    const counted = m['tokens_per_second/training'] * updateSeconds;
    // the phases cover nearly all of the update's time (a little less, never more): counted is just under
    // `processed`; counting each iteration twice gave 2 x processed
    expect(counted / processed, `counted ${counted.toFixed(0)} tokens, processed ${processed}`).toBeGreaterThan(0.8);
    expect(counted / processed).toBeLessThanOrEqual(1.0001);
  });
});
