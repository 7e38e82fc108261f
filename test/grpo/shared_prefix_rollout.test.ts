// share_prompt_prefix in a GRPO rollout: "auto" (each prompt prefilled once for its G rows) gives the same
// completions, rewards and advantages as "off" (every row prefilled) for the same seed, over two generation
// batches; "on" is refused by name where generation prefills every row (Gemma 4, multi-turn episodes). The draws
// do not depend on how the rollout's prompts are cut into generation batches (GenerateOptions.rowBase), nor on whether
// those batches run one after another or as one continuous batch (generate_continuous.ts).
import { describe, expect, test } from 'vitest';
import { continuousBatching, rollout, sharesPromptPrefix, type RolloutOptions, type RolloutTools } from '../../src/grpo/rollout';
import { createRewardScorer } from '../../src/grpo/rewards_scorer';
import { preparePrompts } from '../../src/grpo/prompts';
import { GpuTransformer } from '../../src/model/transformer';
import { Gemma4Trainable } from '../../src/model/gemma4_trainable';
import type { PolicyModel } from '../../src/model/policy_model';
import { testGpu } from '../gpu';
import { loadStories, storyRows, wordConfig } from './fixtures';

describe('share_prompt_prefix in the rollout', () => {
  test('"auto" gives the same completions, rewards and advantages as "off" (2 batches of 2 prompts x 4)', async () => {
    const gpu = await testGpu();
    const loaded = await loadStories();
    const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
    const config = wordConfig({ num_generations: 4, max_completion_length: 10 });
    const prompts = preparePrompts(storyRows('dog').slice(0, 4), loaded, config).examples;
    const scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length });
    const opts: RolloutOptions = {
      numGenerations: 4, maxCompletionLength: 10, temperature: 1, topK: 0, topP: 1, seed: 99, scaleRewards: 'group', promptsPerBatch: 2,
    };
    const run = async (share: 'auto' | 'off') => {
      const ro = await rollout(model, loaded.tokenizer, null, scorer, prompts, { ...opts, sharePromptPrefix: share });
      return ro.groups.map((g) => g.completions.map((c) => ({ ids: c.ids, text: c.text, reward: c.reward, advantage: c.advantage, truncated: c.truncated })));
    };
    const off = await run('off');
    const auto = await run('auto');
    expect(auto).toEqual(off);
    expect(new Set(off[0].map((c) => c.text)).size).toBeGreaterThan(1);
    scorer.dispose();
    model.release();
  });

  test('continuous batching gives the same completions, rewards and advantages as the batches one after another', async () => {
    const gpu = await testGpu();
    const loaded = await loadStories();
    const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
    // "." stops a completion too: rows end after very different numbers of tokens, so slots free up early
    const dot = loaded.tokenizer.encode('.', { addBos: false }).slice(-1);
    const tokenizer = Object.assign(Object.create(Object.getPrototypeOf(loaded.tokenizer)), loaded.tokenizer, { eosIds: [...loaded.tokenizer.eosIds, ...dot] });
    const config = wordConfig({ num_generations: 4, max_completion_length: 24 });
    const prompts = preparePrompts(storyRows('dog').slice(0, 6), loaded, config).examples;
    const scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length });
    const opts: RolloutOptions = {
      numGenerations: 4, maxCompletionLength: 24, temperature: 1, topK: 0, topP: 1, seed: 3, scaleRewards: 'group', promptsPerBatch: 2,
    };
    const run = async (continuousBatching: boolean) => {
      const ro = await rollout(model, tokenizer, null, scorer, prompts, { ...opts, continuousBatching });
      return ro.groups.map((g) => g.completions.map((c) => ({ ids: c.ids, reward: c.reward, advantage: c.advantage, truncated: c.truncated })));
    };
    expect(continuousBatching(model, prompts, opts)).toBe(true);
    const batches = await run(false);
    const cont = await run(true);
    expect(cont).toEqual(batches);
    const lens = batches.flat().map((c) => c.ids.length);
    expect(Math.min(...lens)).toBeLessThan(12);
    expect(batches.flat().some((c) => !c.truncated)).toBe(true);
    scorer.dispose();
    model.release();
  });

  test('the draws do not depend on the generation batches: 1, 2 or 4 prompts a batch give the same completions', async () => {
    const gpu = await testGpu();
    const loaded = await loadStories();
    const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
    const config = wordConfig({ num_generations: 3, max_completion_length: 10 });
    const prompts = preparePrompts(storyRows('dog').slice(0, 4), loaded, config).examples;
    const scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length });
    const opts: RolloutOptions = {
      numGenerations: 3, maxCompletionLength: 10, temperature: 1, topK: 0, topP: 1, seed: 7, scaleRewards: 'group', promptsPerBatch: 4,
    };
    const run = async (promptsPerBatch: number) => {
      const ro = await rollout(model, loaded.tokenizer, null, scorer, prompts, { ...opts, promptsPerBatch });
      return ro.groups.map((g) => g.completions.map((c) => c.ids));
    };
    const one = await run(4);
    expect(await run(1)).toEqual(one);
    expect(await run(2)).toEqual(one);
    // the rows of different prompts are not copies of each other's draws (row words differ across batches)
    expect(new Set(one.flat().map((ids) => ids.join(','))).size).toBeGreaterThan(6);
    scorer.dispose();
    model.release();
  });

  test('which rollouts share: off, G = 1, Gemma 4 and episodes prefill every row; "on" there is refused by name', () => {
    const llama = {} as PolicyModel;
    const gemma4 = Object.create(Gemma4Trainable.prototype) as PolicyModel;
    const tools = {} as RolloutTools;
    expect(sharesPromptPrefix(llama, { numGenerations: 4 })).toBe(true);
    expect(sharesPromptPrefix(llama, { numGenerations: 4, sharePromptPrefix: 'on' })).toBe(true);
    expect(sharesPromptPrefix(llama, { numGenerations: 4, sharePromptPrefix: 'off' })).toBe(false);
    expect(sharesPromptPrefix(llama, { numGenerations: 1, sharePromptPrefix: 'on' })).toBe(false);
    expect(sharesPromptPrefix(gemma4, { numGenerations: 4 })).toBe(false);
    expect(() => sharesPromptPrefix(gemma4, { numGenerations: 4, sharePromptPrefix: 'on' })).toThrow(/share_prompt_prefix "on": Gemma 4/);
    expect(sharesPromptPrefix(llama, { numGenerations: 4, tools })).toBe(false);
    expect(() => sharesPromptPrefix(llama, { numGenerations: 4, tools, sharePromptPrefix: 'on' })).toThrow(/share_prompt_prefix "on": multi-turn/);
  });
});
