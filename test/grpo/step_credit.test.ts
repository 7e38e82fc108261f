// Per-turn credit (src/grpo/step_credit.ts, step_advantage "per_turn_discounted"): a hand-computed group, the
// episode advantage recovered with one turn, and the loss gradient per token equal to the hand-computed
// per-turn advantages on the real GPU update.
import { describe, expect, test } from 'vitest';
import { perTurnAdvantages, tokenAdvantages, turnRewards, applyTurnCredit } from '../../src/grpo/step_credit';
import { computeAdvantages } from '../../src/grpo/advantages';
import type { Completion } from '../../src/grpo/rollout';
import { policyUpdate } from '../../src/grpo/policy_update';
import { AdamW } from '../../src/grpo/optimizer';
import { LoraSet } from '../../src/model/lora';
import { GpuTransformer } from '../../src/model/transformer';
import { defaultConfig, validateConfig } from '../../src/grpo/config';
import { testGpu } from '../gpu';
import { gpuTinyConfig, randomWeights } from '../model/tiny';

const ep = (turnTokens: number[], turnRewards: (number | null)[], envReward: number | null = 0) =>
  ({ toolCalls: 0, toolFailures: 0, toolTimeouts: 0, turnCount: turnTokens.length, envReward, envDone: true, turnTokens, turnRewards });

describe('per-turn credit', () => {
  // columns: one reward function (weight 1), then the environment (weight 0.5)
  const o = { weights: [1, 0.5], envColumn: 1 };
  const c0 = { rewards: [2, 1], episode: ep([3, 2], [1, null], 1) };
  const c1 = { rewards: [0, 1], episode: ep([2, 1], [0, 1], 1) };
  const c2 = { rewards: [1, 0], episode: ep([4], [null], 0) };

  test('turn rewards sum to the episode reward; a failed environment voids its step rewards', () => {
    expect(turnRewards(c0, o)).toEqual([0.5, 2]);
    expect(turnRewards(c1, o)).toEqual([0, 0.5]);
    expect(turnRewards(c2, o)).toEqual([1]);
    expect(turnRewards({ rewards: [2, null], episode: ep([1, 1], [1, 3], null) }, o)).toEqual([0, 2]);
    expect(turnRewards({ rewards: [3] }, { weights: [1], envColumn: -1 })).toEqual([3]);
  });

  test('discounted returns against the group\'s mean at each turn index (hand-computed)', () => {
    const adv = perTurnAdvantages([[0.5, 2], [0, 0.5], [1]], { gamma: 0.5, scale: 'group' });
    // returns: c0 [1.5, 2], c1 [0.25, 0.5], c2 [1]; turn 0 over all three, turn 1 over c0 and c1
    const m0 = (1.5 + 0.25 + 1) / 3;
    const s0 = Math.sqrt(((1.5 - m0) ** 2 + (0.25 - m0) ** 2 + (1 - m0) ** 2) / 2);
    const s1 = Math.sqrt(2 * 0.75 ** 2);
    expect(adv[0][0]).toBeCloseTo((1.5 - m0) / (s0 + 1e-4), 12);
    expect(adv[1][0]).toBeCloseTo((0.25 - m0) / (s0 + 1e-4), 12);
    expect(adv[2][0]).toBeCloseTo((1 - m0) / (s0 + 1e-4), 12);
    expect(adv[0][1]).toBeCloseTo(0.75 / (s1 + 1e-4), 12);
    expect(adv[1][1]).toBeCloseTo(-0.75 / (s1 + 1e-4), 12);
    expect(adv[2]).toHaveLength(1);
    expect(perTurnAdvantages([[0.5, 2], [0, 0.5]], { gamma: 1, scale: 'none' })).toEqual([[1, 0.75], [-1, -0.75]]);
  });

  test('one turn with gamma 1 is GRPO\'s episode advantage', () => {
    const r = [0.2, 1, 0, 0.7];
    const adv = perTurnAdvantages(r.map((x) => [x]), { gamma: 1, scale: 'group' }).map((a) => a[0]);
    computeAdvantages(r, 4, 'group').advantages.forEach((a, i) => expect(adv[i]).toBeCloseTo(a, 12));
  });

  test('tokens take their turn\'s advantage; inserted tokens 0', () => {
    const c = { trainIds: [5, 5, 5, 9, 9, 5, 5], modelMask: [1, 1, 1, 0, 0, 1, 1], episode: ep([3, 2], [null, null]) };
    expect(tokenAdvantages(c, [0.5, -2])).toEqual([0.5, 0.5, 0.5, 0, 0, -2, -2]);
    // model tokens past the recorded turns belong to the last turn
    expect(tokenAdvantages({ trainIds: [1, 1, 1], episode: ep([1], [null]) }, [3])).toEqual([3, 3, 3]);
  });

  test('the config accepts it with GRPO\'s group baseline only', () => {
    expect(validateConfig({ ...defaultConfig(), step_advantage: 'per_turn_discounted', step_gamma: 0.9 })).toEqual([]);
    expect(validateConfig({ ...defaultConfig(), step_advantage: 'per_turn_discounted', scale_rewards: 'batch' }).join(' ')).toMatch(/does not combine with scale_rewards "batch"/);
    expect(validateConfig({ ...defaultConfig(), step_gamma: 1.5 }).join(' ')).toMatch(/step_gamma/);
  });

  test('on the GPU, each token\'s loss gradient is its turn\'s advantage (dapo: -dL/dlogp = A_t / tokens)', async () => {
    const gpu = await testGpu();
    const mc = gpuTinyConfig({ vocabSize: 53 });
    const model = GpuTransformer.upload(gpu, mc, randomWeights(mc, 2));
    const lora = new LoraSet(gpu, mc, { r: 2, alpha: 4, targetModules: ['q_proj', 'v_proj'], useRslora: false });
    lora.initialize(3);
    const opt = new AdamW(gpu, lora.parameters(), { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1e9 });
    const comps = [
      { text: '', ids: [], trainIds: [4, 5, 6, 30, 31, 7, 8], truncated: false, rewards: [2, 1], reward: 2.5, advantage: 0, modelMask: [1, 1, 1, 0, 0, 1, 1], episode: ep([3, 2], [1, null], 1) },
      { text: '', ids: [], trainIds: [9, 10, 32, 11], truncated: false, rewards: [0, 1], reward: 0.5, advantage: 0, modelMask: [1, 1, 0, 1], episode: ep([2, 1], [0, 1], 1) },
      { text: '', ids: [], trainIds: [12, 13, 14, 15], truncated: false, rewards: [1, 0], reward: 1, advantage: 0, episode: ep([4], [null], 0) },
    ] as Completion[];
    applyTurnCredit(comps, { gamma: 0.5, scale: 'group', weights: [1, 0.5], envColumn: 1 });
    const want = perTurnAdvantages([[0.5, 2], [0, 0.5], [1]], { gamma: 0.5, scale: 'group' });
    expect(comps[0].tokenAdvantages).toEqual([want[0][0], want[0][0], want[0][0], 0, 0, want[0][1], want[0][1]]);
    const seqs = comps.map((c) => ({ prompt: [1, 2, 3], completion: c.trainIds, advantage: c.advantage, tokenAdvantages: c.tokenAdvantages, active: c.trainIds.length, ...(c.modelMask ? { modelMask: c.modelMask } : {}) }));
    const stats = await policyUpdate(gpu, model, lora, opt, [seqs], {
      lossType: 'dapo', maxCompletionLength: 8, numIterations: 1, temperature: 1, loss: { epsilon: 0.2, epsilonHigh: 0.2, beta: 0 },
      learningRate: 0, dropoutCounter: 0, trace: true,
    });
    const tokens = 5 + 3 + 4; // the model's tokens
    const expected = comps.flatMap((c) => c.tokenAdvantages!.filter((_, j) => !c.modelMask || c.modelMask[j] === 1));
    // on-policy every ratio is 1: the loss is -sum_t A_t / tokens and each model token's contribution is A_t
    expect(stats.loss).toBeCloseTo(-expected.reduce((a, b) => a + b, 0) / tokens, 5);
    stats.traces![0].forEach((tr, i) => tr.contribution.forEach((x, j) => {
      const inserted = comps[i].modelMask?.[j] === 0;
      expect(x, `completion ${i} token ${j}`).toBeCloseTo(inserted ? 0 : comps[i].tokenAdvantages![j], 5);
    }));
    // the same update with the episode advantage gives other gradients: per-turn credit changed them
    const g1: Float32Array[] = [];
    for (const p of lora.pairs.values()) g1.push(await gpu.read(p.dB));
    await policyUpdate(gpu, model, lora, opt, [seqs.map((s) => ({ ...s, tokenAdvantages: undefined, advantage: 0.5 }))], {
      lossType: 'dapo', maxCompletionLength: 8, numIterations: 1, temperature: 1, loss: { epsilon: 0.2, epsilonHigh: 0.2, beta: 0 }, learningRate: 0, dropoutCounter: 0,
    });
    const g2: Float32Array[] = [];
    for (const p of lora.pairs.values()) g2.push(await gpu.read(p.dB));
    expect(g1.some((g, k) => g.some((x, j) => Math.abs(x - g2[k][j]) > 1e-6))).toBe(true);
    opt.release();
    lora.release();
    model.release();
  }, 300_000);
});
