// Online selection (issue 29 item 3): DAPO's refill (dynamic_sampling.ts), TRL's replay buffer
// (replay_buffer.ts) and skip_solved_epochs, on hand-made rollouts and on the real trainer.
import { describe, expect, test } from 'vitest';
import { refillRollout } from '../../src/grpo/dynamic_sampling';
import { ReplayBuffer, replayFromJson, replayToJson } from '../../src/grpo/replay_buffer';
import type { Completion, PromptExample, Rollout, RolloutGroup } from '../../src/grpo/rollout';
import { Rng } from '../../src/util/random';
import { GrpoTrainer } from '../../src/grpo/trainer';
import { GpuTransformer } from '../../src/model/transformer';
import { createRewardScorer } from '../../src/grpo/rewards_scorer';
import { preparePrompts } from '../../src/grpo/prompts';
import { validateConfig } from '../../src/grpo/config';
import { testGpu } from '../gpu';
import { loadStories, storyRows, wordConfig } from './fixtures';

const prompt = (i: number): PromptExample => ({ text: `p${i}`, ids: [1, i + 2], answer: '', raw: {} });
function group(p: number, rewards: number[]): RolloutGroup {
  const m = rewards.reduce((a, b) => a + b, 0) / rewards.length;
  const std = Math.sqrt(rewards.reduce((a, r) => a + (r - m) ** 2, 0) / Math.max(rewards.length - 1, 1));
  const completions: Completion[] = rewards.map((r, j) => ({ text: `c${j}`, ids: [j + 1], trainIds: [j + 1], truncated: false, rewards: [r], reward: r, advantage: std > 0 ? (r - m) / std : 0 }));
  return { prompt: prompt(p), completions, rewardStd: std, zeroStd: std === 0, flat: std === 0 };
}
const ro = (groups: RolloutGroup[]): Rollout => ({ groups, rewardNames: ['r'], rewardErrors: [], allNullRewards: 0, generatedTokens: groups.length * 10, generationMs: 1, rewardMs: 1 });

describe('DAPO refill', () => {
  test('samples the deficit until every slot has signal, in the order drawn', async () => {
    const first = ro([group(0, [1, 1]), group(1, [0, 1]), group(2, [0, 0]), group(3, [1, 0])]);
    const asked: number[] = [];
    const more = [ro([group(4, [0, 0]), group(5, [1, 0])]), ro([group(6, [0, 1])])];
    const { rollout, stats } = await refillRollout(first, 5, async (n, round) => {
      asked.push(n);
      return more[round - 1];
    });
    expect(asked).toEqual([2, 1]);
    expect(rollout.groups.map((g) => g.prompt.text)).toEqual(['p1', 'p3', 'p5', 'p6']);
    expect(stats).toEqual({ rounds: 2, groupsGenerated: 7, zeroSpreadBefore: 0.5, zeroSpreadAfter: 0 });
    expect(rollout.generatedTokens).toBe(70);
  });
  test('stops after max rounds and fills with the first flat groups; no rounds when nothing is flat', async () => {
    const first = ro([group(0, [1, 1]), group(1, [0, 0])]);
    const r = await refillRollout(first, 1, async () => ro([group(9, [0, 0])]));
    expect(r.rollout.groups.map((g) => g.prompt.text)).toEqual(['p0', 'p1']);
    expect(r.stats.zeroSpreadAfter).toBe(1);
    const none = await refillRollout(ro([group(0, [0, 1])]), 3, async () => { throw new Error('not called'); });
    expect(none.stats.rounds).toBe(0);
  });
});

describe('replay buffer (TRL experimental semantics)', () => {
  test('keeps the best scores, replaces only flat groups, draws by score', () => {
    const buf = new ReplayBuffer(2);
    const a = group(0, [0, 1]); // std .707, sum|A| 1.414: score 1
    const b = group(1, [0, 0, 0, 3]); // std 1.5, advantages -.5 -.5 -.5 1.5: score 4.5
    const c = group(2, [0, 0, 1, 1]); // std .577, score 4 * .866 * .577 = 2
    expect(ReplayBuffer.score(a)).toBeCloseTo(1, 12);
    expect(ReplayBuffer.score(b)).toBeCloseTo(4.5, 12);
    buf.add([a, b, c, group(3, [1, 1])], null);
    expect(buf.size).toBe(2);
    expect(buf.snapshot().map((e) => e.group.prompt.text).sort()).toEqual(['p1', 'p2']);
    const batch = [group(4, [1, 0]), group(5, [0, 0]), group(6, [1, 1])];
    const old = new Map<Completion, Float32Array>();
    expect(buf.replaceFlat(batch, new Rng(1), old)).toBe(2);
    expect(batch[0].prompt.text).toBe('p4');
    // two draws from two entries without replacement: both, once each
    expect(batch.slice(1).map((g) => g.prompt.text).sort()).toEqual(['p1', 'p2']);
    // draws are proportional to the score: p1 (4.5) against p2 (2)
    let p1 = 0;
    const rng = new Rng(7);
    for (let i = 0; i < 4000; i++) {
      const one = [group(9, [0, 0])];
      buf.replaceFlat(one, rng, null);
      if (one[0].prompt.text === 'p1') p1++;
    }
    expect(p1 / 4000).toBeGreaterThan(4.5 / 6.5 - 0.03);
    expect(p1 / 4000).toBeLessThan(4.5 / 6.5 + 0.03);
    expect(new ReplayBuffer(2).replaceFlat([group(0, [0, 0])], new Rng(1), null)).toBe(0);
  });
  test('a checkpoint keeps the buffer; a hostile one is refused by name', () => {
    const train = [prompt(0), prompt(1)];
    const buf = new ReplayBuffer(4);
    const g = { ...group(1, [0, 1]), prompt: train[1] };
    const old = new Map<Completion, Float32Array>([[g.completions[0], Float32Array.of(-0.5)]]);
    buf.add([g], old);
    const json = JSON.parse(JSON.stringify(replayToJson(buf, train)));
    const back = new ReplayBuffer(4);
    replayFromJson(back, json, train, 100, 'ck');
    expect(back.snapshot()[0].group.prompt).toBe(train[1]);
    expect(back.snapshot()[0].group.completions.map((c) => c.advantage)).toEqual(g.completions.map((c) => c.advantage));
    expect(back.snapshot()[0].oldLogp[0]).toEqual(Float32Array.of(-0.5));
    const bad = (f: (j: any) => void, msg: RegExp) => {
      const j = JSON.parse(JSON.stringify(json));
      f(j);
      expect(() => replayFromJson(new ReplayBuffer(4), j, train, 100, 'ck')).toThrow(msg);
    };
    bad((j) => (j[0].prompt = 7), /ck: its replay buffer entry 0 names prompt 7/);
    bad((j) => (j[0].completions[0].trainIds = [100]), /token ids below 100/);
    bad((j) => (j[0].completions[0].advantage = 'x'), /non-finite advantage/);
    bad((j) => (j[0].oldLogp[0] = [1, 2]), /log-probs of the wrong length/);
    expect(() => replayFromJson(new ReplayBuffer(0), json, train, 100, 'ck')).toThrow(/more than replay_buffer_size 0/);
  });
});

describe('online selection in the trainer', () => {
  async function run(over: Parameters<typeof wordConfig>[0], steps: number) {
    const gpu = await testGpu();
    const loaded = await loadStories();
    const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
    const config = wordConfig({ num_generations: 4, max_completion_length: 6, prompts_per_step: 2, ...over });
    expect(validateConfig(config)).toEqual([]);
    const train = preparePrompts(storyRows('the').slice(0, 4), loaded, config).examples;
    const scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length });
    const trainer = new GrpoTrainer({ gpu, model, tokenizer: loaded.tokenizer, config, train, eval: [], scorer });
    const ms = [];
    for (let s = 0; s < steps; s++) ms.push((await trainer.trainStep()).metrics);
    // the selection state goes through a checkpoint's JSON and back unchanged
    const p = JSON.parse(JSON.stringify(trainer.progress()));
    const again = new GrpoTrainer({ gpu, model, tokenizer: loaded.tokenizer, config, train, eval: [], scorer });
    again.restoreProgress(p);
    expect(JSON.parse(JSON.stringify(again.progress()))).toEqual(p);
    trainer.release();
    again.release();
    scorer.dispose();
    return { ms, progress: p };
  }

  test('DAPO refill fills the slots; solved prompts wait an epoch', async () => {
    const { ms, progress } = await run({ dynamic_sampling: true, max_resample_rounds: 2, skip_solved_epochs: 1 }, 3);
    for (const m of ms) {
      expect(m['dynamic_sampling/rounds']).toBeLessThanOrEqual(2);
      expect(m['dynamic_sampling/groups_generated']).toBeGreaterThanOrEqual(2 + m['dynamic_sampling/rounds']);
      expect(m['dynamic_sampling/zero_spread_after']).toBeLessThanOrEqual(m['dynamic_sampling/zero_spread_before']);
      // a filled batch drops nothing
      expect(m.dropped_groups).toBe(m['dynamic_sampling/zero_spread_after'] * 2);
    }
    // seed 1 draws flat groups: the refill runs, and solved prompts are skipped in the next epoch
    expect(ms.reduce((a, m) => a + m['dynamic_sampling/rounds'], 0)).toBeGreaterThan(0);
    expect(ms.some((m) => m['dynamic_sampling/zero_spread_before'] > m['dynamic_sampling/zero_spread_after'])).toBe(true);
    expect(ms[2]['data/skipped_prompts']).toBeGreaterThan(0);
    expect(progress.selection.skipUntil.length).toBeGreaterThan(0);
  }, 600_000);

  test('the replay buffer swaps flat groups for stored ones', async () => {
    const { ms, progress } = await run({ replay_buffer_size: 4, max_completion_length: 16 }, 4);
    expect(ms.reduce((a, m) => a + m['replay/groups_replaced'], 0)).toBeGreaterThan(0);
    for (const m of ms) expect(m.frac_reward_zero_std).toBe(m['replay/buffer_size'] > 0 ? 0 : m.frac_reward_zero_std);
    expect(progress.selection.replay.length).toBe(ms[3]['replay/buffer_size']);
  }, 600_000);
});
