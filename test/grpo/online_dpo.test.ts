// Online DPO (algorithm "online_dpo"): pairs are each group's best and worst completion (ties skipped,
// missing_eos_penalty applied to cut-off completions), and on stories260K rewarded for saying "dog" the
// reward rises within a few steps, with TRL's metric names.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { GpuTransformer } from '../../src/model/transformer';
import { GrpoTrainer } from '../../src/grpo/trainer';
import { createRewardScorer } from '../../src/grpo/rewards_scorer';
import { preparePrompts } from '../../src/grpo/prompts';
import { onlinePairs } from '../../src/grpo/preference/online';
import type { Completion, RolloutGroup } from '../../src/grpo/rollout';
import { loadStories, storyRows, wordConfig } from './fixtures';

const comp = (reward: number, truncated = false, id = 1): Completion => ({ reward, truncated, trainIds: [id] }) as unknown as Completion;
const group = (...cs: Completion[]): RolloutGroup => ({ prompt: { ids: [1], text: '', answer: '', raw: {} }, completions: cs }) as unknown as RolloutGroup;

describe('online DPO', () => {
  test('pairs the best and worst of each group, skips ties, applies missing_eos_penalty', () => {
    const a = comp(1, false, 11);
    const b = comp(0, false, 12);
    const c = comp(0.5, false, 13);
    const pairs = onlinePairs([group(a, b, c), group(comp(1), comp(1)), group(comp(1, true, 21), comp(0.5, false, 22))], null);
    expect(pairs.map((p) => [p.chosen.trainIds[0], p.rejected.trainIds[0], p.margin])).toEqual([[11, 12, 1], [21, 22, 0.5]]);
    // with the penalty the cut-off completion (1 - 1 = 0) loses to the finished one (0.5)
    const pen = onlinePairs([group(comp(1, true, 21), comp(0.5, false, 22))], 1);
    expect(pen.map((p) => [p.chosen.trainIds[0], p.rejected.trainIds[0], p.margin])).toEqual([[22, 21, 0.5]]);
  });

  test('on stories260K the reward for saying "dog" rises', async () => {
    const gpu = await testGpu();
    const loaded = await loadStories();
    const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
    const config = wordConfig({ algorithm: 'online_dpo', beta: 0.1, max_steps: 12, learning_rate: 0.005 });
    const scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length });
    const train = preparePrompts(storyRows('dog'), loaded, config).examples;
    const trainer = new GrpoTrainer({ gpu, model, tokenizer: loaded.tokenizer, config, train, eval: [], scorer });
    const metrics: Record<string, number>[] = [];
    for (let s = 0; s < 12; s++) metrics.push((await trainer.trainStep()).metrics);
    const rewards = metrics.map((m) => m.reward);
    console.log('online DPO reward per step:', rewards.map((r) => r.toFixed(2)).join(' '), 'pairs:', metrics.map((m) => m['online_dpo/pairs']).join(' '));
    const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
    expect(mean(rewards.slice(-3)) - mean(rewards.slice(0, 3))).toBeGreaterThan(0.3);
    const withPairs = metrics.find((m) => m['online_dpo/pairs'] > 0)!;
    for (const k of ['rewards/chosen', 'rewards/rejected', 'rewards/accuracies', 'rewards/margins', 'logps/chosen', 'logps/rejected', 'objective/scores_margin', 'loss', 'grad_norm']) {
      expect(Number.isFinite(withPairs[k]), k).toBe(true);
    }
    expect(withPairs.kl).toBeUndefined();
    trainer.release();
    model.release();
    scorer.dispose();
  });
});
