// The reward model's loss (TRL v1.9 RewardTrainer.compute_loss) and its scalar head (transformers'
// *ForSequenceClassification score layer) on the CPU: values worked out by hand, gradients against central
// finite differences; the ensemble reductions.
import { describe, expect, it } from 'vitest';
import { bradleyTerryLoss, reduceEnsemble } from '../../src/grpo/reward_model/loss';
import { scoreHeadBackward, scoreHeadForward } from '../../src/model/score_head';
import { centralDiff, mismatches } from '../fd';

describe('Bradley-Terry loss (RewardTrainer)', () => {
  it('by hand: r_c 1, r_r -1: -logsigmoid(2) = log(1 + e^-2) = 0.1269280; with margin 1: -logsigmoid(1) = 0.3132617', () => {
    expect(bradleyTerryLoss([1], [-1], null, 0).loss).toBeCloseTo(0.126928, 6);
    expect(bradleyTerryLoss([1], [-1], [1], 0).loss).toBeCloseTo(0.3132617, 6);
  });
  it('center_rewards_coefficient 0.01 adds 0.01 x mean((r_c + r_r)^2): pairs (2, 0), (0, -1) -> 0.01 x (4 + 1) / 2 = 0.025', () => {
    const plain = bradleyTerryLoss([2, 0], [0, -1], null, 0).loss;
    // mean(-logsigmoid(2), -logsigmoid(1)) = (0.1269280 + 0.3132617) / 2
    expect(plain).toBeCloseTo((0.126928 + 0.3132617) / 2, 6);
    expect(bradleyTerryLoss([2, 0], [0, -1], null, 0.01).loss - plain).toBeCloseTo(0.025, 9);
  });
  it("TRL's metrics: accuracy, margin, min/mean/max_reward over chosen and rejected", () => {
    const m = bradleyTerryLoss([2, 0, 1], [0, 1, -3], null, 0).metrics;
    expect(m.accuracy).toBeCloseTo(2 / 3, 12);
    expect(m.margin).toBeCloseTo((2 - 1 + 4) / 3, 12);
    expect(m.min_reward).toBe(-3);
    expect(m.max_reward).toBe(2);
    expect(m.mean_reward).toBeCloseTo((2 + 0 + 1 + 0 + 1 - 3) / 6, 12);
  });
  it('the gradient with respect to every reward matches central finite differences (margins and centring on)', () => {
    const x = Float64Array.from([0.3, -1.2, 2.0, 0.7, 0.1, -0.4]); // chosen 0..2, rejected 3..5
    const margins = [0.5, 0, 1.5];
    const f = () => bradleyTerryLoss([x[0], x[1], x[2]], [x[3], x[4], x[5]], margins, 0.05).loss;
    const r = bradleyTerryLoss([x[0], x[1], x[2]], [x[3], x[4], x[5]], margins, 0.05);
    const fd = centralDiff(f, x, 1e-5);
    expect(mismatches([...r.dChosen, ...r.dRejected], fd, 1e-7, 1e-6, 'd loss / d r')).toBe('');
  });
});

describe('scalar head r = w . h (last token)', () => {
  it('forward by hand and backward against central finite differences', () => {
    const C = 5;
    const B = 3;
    const h = Float64Array.from({ length: B * C }, (_, i) => Math.sin(i * 1.3) + 0.1 * i);
    const w = Float64Array.from({ length: C }, (_, i) => Math.cos(i * 0.7) - 0.2);
    expect(scoreHeadForward([1, 2, 3], [4, 5, 6], 1, 3)).toEqual([32]);
    const dr = [0.7, -1.1, 0.4];
    // loss = sum_b dr_b r_b: its gradient is the head's backward for upstream dr
    const loss = () => scoreHeadForward(h, w, B, C).reduce((a, r, b) => a + dr[b] * r, 0);
    const { dh, dw } = scoreHeadBackward(dr, h, w, C);
    expect(mismatches(dh, centralDiff(loss, h, 1e-5), 1e-7, 1e-6, 'dh')).toBe('');
    expect(mismatches(dw, centralDiff(loss, w, 1e-5), 1e-7, 1e-6, 'dw')).toBe('');
  });
});

describe('reward-model ensembles', () => {
  it('mean, min and mean - lambda x std (population std over the members)', () => {
    const per = [[1, 0], [3, 0], [2, 6]];
    expect(reduceEnsemble(per, 'mean', 0)).toEqual([2, 2]);
    expect(reduceEnsemble(per, 'min', 0)).toEqual([1, 0]);
    // item 0: mean 2, std sqrt(2/3); item 1: mean 2, std sqrt((4 + 4 + 16) / 3) = sqrt(8)
    const r = reduceEnsemble(per, 'mean_minus_std', 0.5);
    expect(r[0]).toBeCloseTo(2 - 0.5 * Math.sqrt(2 / 3), 12);
    expect(r[1]).toBeCloseTo(2 - 0.5 * Math.sqrt(8), 12);
  });
});
