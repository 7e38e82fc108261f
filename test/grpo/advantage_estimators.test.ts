// Advantages of issue 15 against hand-computed values: RLOO and REINFORCE++ (verl / OpenRLHF), GRPO with a
// completion whose every reward is null (left out of the baseline, advantage 0, as TRL), GDPO's
// normalize_then_sum against a direct formula, and the default path bit-identical to computeAdvantages.
import { describe, expect, test } from 'vitest';
import { computeAdvantages, rewardAdvantages } from '../../src/grpo/advantages';

const G = 4;
// group 0: [1, 0, 0, 1]; group 1: [1, (all null), 0.5, 0]
const single = [[1, 0, 0, 1, 1, null, 0.5, 0]];

describe('advantage estimators', () => {
  test('rloo: reward minus the mean of the other valid rewards of its group', () => {
    const a = rewardAdvantages(single, [1], G, { scale: 'group', estimator: 'rloo', aggregation: 'sum_then_normalize' }).advantages;
    const want = [2 / 3, -2 / 3, -2 / 3, 2 / 3, 0.75, 0, 0, -0.75];
    a.forEach((x, i) => expect(x).toBeCloseTo(want[i], 12));
  });

  test('reinforce_pp: group-centred, whitened over the batch (OpenRLHF: biased variance; one token each here)', () => {
    const a = rewardAdvantages(single, [1], G, { scale: 'group', estimator: 'reinforce_pp', aggregation: 'sum_then_normalize' }).advantages;
    // centred: [.5, -.5, -.5, .5 | .5, -, 0, -.5]; over the 7 valid values mean 0, biased var 1.5 / 7
    const want = [1, -1, -1, 1, 1, 0, 0, -1].map((x) => x * 0.5 / Math.sqrt(1.5 / 7));
    a.forEach((x, i) => expect(x).toBeCloseTo(want[i], 12));
  });

  test('grpo: an all-null completion leaves its group\'s baseline and gets 0', () => {
    const r = rewardAdvantages(single, [1], G, { scale: 'group', estimator: 'grpo', aggregation: 'sum_then_normalize' });
    const s0 = Math.sqrt(1 / 3);
    // group 1's valid rewards [1, .5, 0]: mean .5, unbiased std .5 (with the null counted as 0 it would be mean .375)
    const want = [0.5 / (s0 + 1e-4), -0.5 / (s0 + 1e-4), -0.5 / (s0 + 1e-4), 0.5 / (s0 + 1e-4), 0.5 / 0.5001, 0, 0, -0.5 / 0.5001];
    r.advantages.forEach((x, i) => expect(x).toBeCloseTo(want[i], 12));
    expect(r.groupMean[1]).toBeCloseTo(0.5, 12);
    expect(r.allNull).toEqual([false, false, false, false, false, true, false, false]);
  });

  test('default settings give exactly computeAdvantages when no reward is null', () => {
    const rewards = [0.3, 1, 0, 0.7, 0.2, 0.2, 0.9, 0.1];
    for (const scale of ['group', 'batch', 'none'] as const) {
      const a = rewardAdvantages([rewards], [1], G, { scale, estimator: 'grpo', aggregation: 'sum_then_normalize' });
      const b = computeAdvantages(rewards, G, scale);
      expect(a.advantages).toEqual(b.advantages);
      expect(a.groupStd).toEqual(b.groupStd);
      expect(a.zeroStd).toEqual(b.zeroStd);
    }
  });

  test('normalize_then_sum (GDPO): per-function group normalisation, weighted sum, batch normalisation', () => {
    const f1 = [1, 0, 0, 1, 1, null, 1, 0];
    const f2 = [1, 1, 0, 0, null, null, 1, 1];
    const w = [1, 0.5];
    const r = rewardAdvantages([f1, f2], w, G, { scale: 'group', estimator: 'grpo', aggregation: 'normalize_then_sum' });
    // by hand: group 0: a = .5 / (sqrt(1/3) + 1e-4); s = [1.5a, -.5a, -1.5a, .5a]
    const a = 0.5 / (Math.sqrt(1 / 3) + 1e-4);
    // group 1, f1 over indices 4, 6, 7 = [1, 1, 0]: mean 2/3, std sqrt(1/3); f2 over 6, 7 = [1, 1]: std 0 -> z 0; index 5 all null
    const b = 1 / 3 / (Math.sqrt(1 / 3) + 1e-4);
    const s = [1.5 * a, -0.5 * a, -1.5 * a, 0.5 * a, b, NaN, b, -2 * b];
    const valid = s.filter((_, i) => i !== 5);
    const m = valid.reduce((x, y) => x + y, 0) / valid.length;
    const sd = Math.sqrt(valid.reduce((x, y) => x + (y - m) ** 2, 0) / (valid.length - 1));
    const want = s.map((x, i) => (i === 5 ? 0 : (x - m) / (sd + 1e-4)));
    r.advantages.forEach((x, i) => expect(x).toBeCloseTo(want[i], 12));
    expect(r.rewards[4]).toBe(1);
    expect(r.rewards[5]).toBe(0);
  });
});
