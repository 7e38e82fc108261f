// Overlay data: runs merged on a shared x (step, tokens, time), smoothed like the live charts; the gap
// between training and held-out reward.
import { describe, expect, it } from 'vitest';
import { overlayRows, xOfSteps } from '../../src/ui/runs/overlay';
import { gapRows, latestGap } from '../../src/ui/runs/GapChart';

const run = (id: string, rewards: number[], tokensPerStep: number) => ({
  id, name: id, color: '#000',
  history: rewards.map((r, i) => ({ step: i + 1, reward: r, num_tokens: tokensPerStep * (i + 1), step_time: 0.5 })),
  evals: [{ step: 0, passAt1: 0.1, rewardMean: 0.1 }, { step: rewards.length, passAt1: 0.5, rewardMean: 0.4 }],
});

describe('overlayRows', () => {
  it('one key per run, by step, without smoothing', () => {
    const rows = overlayRows([run('a', [1, 2], 10), run('b', [3, 4, 5], 20)], 'reward', 'step', 0);
    expect(rows).toEqual([{ x: 1, s0: 1, s1: 3 }, { x: 2, s0: 2, s1: 4 }, { x: 3, s1: 5 }]);
  });

  it('by generated tokens and by time; evaluations at step 0 start at x = 0', () => {
    expect(overlayRows([run('a', [1, 2], 10), run('b', [3], 15)], 'reward', 'tokens', 0)).toEqual([{ x: 10, s0: 1 }, { x: 15, s1: 3 }, { x: 20, s0: 2 }]);
    expect(overlayRows([run('a', [1, 2], 10)], 'eval/pass@1', 'time', 0)).toEqual([{ x: 0, s0: 0.1 }, { x: 1, s0: 0.5 }]);
    expect([...xOfSteps(run('a', [1, 1, 1], 1).history, 'time').entries()]).toEqual([[0, 0], [1, 0.5], [2, 1], [3, 1.5]]);
  });

  it('smoothing is the debiased EMA of the live charts', () => {
    const rows = overlayRows([run('a', [0, 1], 1)], 'reward', 'step', 0.5);
    expect(rows[0].s0).toBeCloseTo(0, 12);
    // (0.5*0.5*0 + 0.5*1) / (1 - 0.25) = 2/3
    expect(rows[1].s0).toBeCloseTo(2 / 3, 12);
  });
});

describe('gap', () => {
  it('training reward over the last steps minus the held-out reward at the last evaluation', () => {
    const r = run('a', [0.2, 0.4, 0.9], 1);
    expect(latestGap(r.history, r.evals)).toEqual({ step: 3, train: 0.5, heldout: 0.4, gap: 0.09999999999999998 });
    expect(latestGap(r.history, [{ step: 0, rewardMean: 0.1 }])).toBeNull();
    const rows = gapRows(r.history, r.evals, 0);
    expect(rows[0]).toEqual({ step: 0, heldout: 0.1, pass: 0.1 });
    expect(rows[3]).toEqual({ step: 3, train: 0.9, heldout: 0.4, pass: 0.5 });
  });
});
