import { describe, expect, test } from 'vitest';
import { computeAdvantages, unbiasedStd } from '../../src/grpo/advantages';
import { sequenceWeights } from '../../src/grpo/loss_weights';

describe('advantages', () => {
  const r = [1, 0, 0, 1, /* group 2 */ 2, 2, 2, 2];
  test('group scaling uses the unbiased group std + 1e-4', () => {
    const a = computeAdvantages(r, 4, 'group');
    const std = Math.sqrt(1 / 3); // unbiased std of [1,0,0,1]
    expect(a.groupStd[0]).toBeCloseTo(std, 12);
    expect(a.advantages[0]).toBeCloseTo(0.5 / (std + 1e-4), 12);
    expect(a.advantages[1]).toBeCloseTo(-0.5 / (std + 1e-4), 12);
    expect(a.advantages.slice(4)).toEqual([0, 0, 0, 0]);
    expect(a.zeroStd).toEqual([false, true]);
  });
  test('batch scaling divides by the std of the whole batch', () => {
    const a = computeAdvantages(r, 4, 'batch');
    expect(a.advantages[0]).toBeCloseTo(0.5 / (unbiasedStd(r) + 1e-4), 12);
  });
  test('none only centres', () => {
    expect(computeAdvantages(r, 4, 'none').advantages).toEqual([0.5, -0.5, -0.5, 0.5, 0, 0, 0, 0]);
  });
  test('rejects rewards that do not split into groups', () => {
    expect(() => computeAdvantages([1, 2, 3], 2, 'group')).toThrow(/groups of 2/);
  });
});

describe('loss_type weights', () => {
  // two micro-batches of two sequences: active tokens [3, 1] and [0, 4]; max completion length 5
  const active = [[3, 1], [0, 4]];
  test('grpo: mean per sequence, then mean over sequences (per micro-batch, / GA)', () => {
    expect(sequenceWeights('grpo', active, 5)).toEqual([[1 / 12, 1 / 4], [0, 1 / 16]]);
  });
  test('bnpo: sum / micro-batch tokens / GA', () => {
    expect(sequenceWeights('bnpo', active, 5)).toEqual([[1 / 8, 1 / 8], [0, 1 / 8]]);
  });
  test('dr_grpo: sum / (sequences * max_completion_length) / GA', () => {
    expect(sequenceWeights('dr_grpo', active, 5)).toEqual([[1 / 20, 1 / 20], [0, 1 / 20]]);
  });
  test('dapo: sum / all active tokens of the accumulated batch', () => {
    expect(sequenceWeights('dapo', active, 5)).toEqual([[1 / 8, 1 / 8], [0, 1 / 8]]);
    expect(sequenceWeights('dapo', [[3, 1], [2, 4]], 5)).toEqual([[0.1, 0.1], [0.1, 0.1]]);
  });
});
