// The reward-model (RLHF) demo's configs (src/demo/reward_model.ts; `npm run demo:report -- --demo reward-model`):
// they validate, the reward models train on the reverse demo's LoRA with algorithm "reward_model", and the GRPO
// runs' reward order makes training follow the reward model alone while pass@1 stays exact match (evaluation's
// pass is the first reward function's >= 1; exact_match is first with weight 0). No training: cheap.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { validateConfig } from '../../src/grpo/config';
import { combineRewards } from '../../src/grpo/rewards/combine';
import { createRewardScorer } from '../../src/grpo/rewards_scorer';
import { bestRewardModel, REWARD_DEMO_ADAPTER_DIRS, REWARD_DEMO_SEEDS, rewardModelGrpoConfig, rewardModelTrainConfig } from '../../src/demo/reward_model';
import { demoConfig } from '../../src/demo/builtin';

// tiny-puzzles' context length
const limits = { maxSequenceLength: 64 };

describe('the reward-model demo', () => {
  test('the three reward models\' configs validate and differ only by seed', () => {
    const cs = REWARD_DEMO_SEEDS.map((s) => rewardModelTrainConfig(s));
    for (const c of cs) {
      expect(validateConfig(c, limits)).toEqual([]);
      expect(c.algorithm).toBe('reward_model');
    }
    expect(new Set(cs.map((c) => c.seed)).size).toBe(3);
    expect({ ...cs[1], seed: 0 }).toEqual({ ...cs[0], seed: 0 });
  });

  test('the GRPO configs validate: exact_match first with weight 0, the reward model (one or three adapters) second with weight 1', () => {
    const single = rewardModelGrpoConfig([REWARD_DEMO_ADAPTER_DIRS[0]]);
    const ensemble = rewardModelGrpoConfig(REWARD_DEMO_ADAPTER_DIRS);
    for (const c of [single, ensemble]) {
      expect(validateConfig(c, limits)).toEqual([]);
      expect(c.algorithm).toBe('grpo');
      expect(c.reward_funcs.map((f) => [f.name, f.weight])).toEqual([['exact_match', 0], ['reward_model', 1]]);
      // otherwise the main demo's config (a lower learning rate, and held-out pass@1 more often)
      expect(c.learning_rate).toBe(2e-3);
      expect(c.eval_interval).toBe(15);
      const same = { reward_funcs: [], max_steps: 0, learning_rate: 0, eval_interval: 0 };
      expect({ ...c, ...same }).toEqual({ ...demoConfig('reverse'), ...same });
    }
    expect(single.reward_funcs[1].params).toEqual({ adapters: 'docs/demo/reward_model/rm1', reduce: 'mean' });
    expect(ensemble.reward_funcs[1].params).toMatchObject({ adapters: REWARD_DEMO_ADAPTER_DIRS.join(','), reduce: 'mean_minus_std', std_coef: 1 });
  });

  test('the training reward is the reward model\'s score alone, and the first column (pass@1) is exact match', async () => {
    const c = rewardModelGrpoConfig([REWARD_DEMO_ADAPTER_DIRS[0]]);
    const rm = [2.5, -1.25, 0.5];
    const scorer = createRewardScorer(c.reward_funcs, { maxCompletionLength: c.max_completion_length, rewardModels: new Map([[1, async () => rm]]) });
    try {
      const items = ['zqk', 'zkq', 'zqk'].map((completion, i) => ({ prompt: 'rev kqz=', completion, answer: i === 2 ? 'abc' : 'zqk', row: {}, completionTokens: 4 }));
      const { perFunc, errors } = await scorer.score(items);
      expect(errors).toEqual([]);
      expect(scorer.names).toEqual(['exact_match', 'reward_model']);
      // evaluation's pass reads column 0: exact match (1 for the right reversal only)
      expect(perFunc[0]).toEqual([1, 0, 0]);
      expect(perFunc[1]).toEqual(rm);
      // weight 0 adds nothing: the reward GRPO trains on is the reward model's score
      expect(combineRewards(perFunc, scorer.weights)).toEqual(rm);
    } finally {
      scorer.dispose();
    }
  });
});

// The committed report (docs/demo/reward_model/report.json, config.json, config_ensemble.json) must be the one
// these configs produce: a change to the settings without regenerating the report fails here.
describe('the committed reward-model demo report', () => {
  const dir = 'docs/demo/reward_model';
  const read = async (f: string) => JSON.parse(await readFile(join(dir, f), 'utf8'));

  test('its reward models were trained with rewardModelTrainConfig (seeds, steps, eval points)', async () => {
    const r = await read('report.json');
    expect(r.reward_models.map((m: { seed: number }) => m.seed)).toEqual([...REWARD_DEMO_SEEDS]);
    for (const [k, m] of r.reward_models.entries()) {
      const c = rewardModelTrainConfig(m.seed);
      expect(m.adapter).toBe(REWARD_DEMO_ADAPTER_DIRS[k]);
      expect(m.steps).toBe(c.max_steps);
      const points = [0, ...Array.from({ length: Math.floor(c.max_steps / c.eval_interval) }, (_, i) => (i + 1) * c.eval_interval)];
      if (points[points.length - 1] !== c.max_steps) points.push(c.max_steps);
      expect(m.curve.map((p: { step: number }) => p.step)).toEqual(points);
      expect(m.pair_accuracy).toBe(m.curve[m.curve.length - 1].pair_accuracy);
    }
  });

  test('its GRPO runs used rewardModelGrpoConfig (single: the best reward model by held-out pair accuracy; ensemble: all three) for the report\'s steps', async () => {
    const r = await read('report.json');
    expect(r.runs.map((x: { name: string }) => x.name)).toEqual(['single', 'ensemble']);
    const best = bestRewardModel(r.reward_models.map((m: { pair_accuracy: number }) => m.pair_accuracy));
    expect(r.runs[0].adapters).toEqual([REWARD_DEMO_ADAPTER_DIRS[best]]);
    const single = rewardModelGrpoConfig([REWARD_DEMO_ADAPTER_DIRS[best]], r.steps);
    const ensemble = rewardModelGrpoConfig(REWARD_DEMO_ADAPTER_DIRS, r.steps);
    expect(await read('config.json')).toEqual(JSON.parse(JSON.stringify(single)));
    expect(await read('config_ensemble.json')).toEqual(JSON.parse(JSON.stringify(ensemble)));
    for (const run of r.runs) {
      expect(run.steps).toBe(r.steps);
      expect(run.held_out.map((p: { step: number }) => p.step)).toEqual(Array.from({ length: r.steps / single.eval_interval + 1 }, (_, i) => i * single.eval_interval));
      expect(run.lift_points).toBe(Math.round((run.after['pass@1'] - run.before['pass@1']) * 100));
    }
  });
});
