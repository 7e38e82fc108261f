// The demo report's chart: a standalone SVG with both panels, labelled axes and legends.
import { describe, expect, test } from 'vitest';
import { curvesSvg, movingAverage } from '../../src/demo/chart';

describe('demo report chart', () => {
  test('moving average over a trailing window', () => {
    expect(movingAverage([1, 3, 5, 7], 2)).toEqual([1, 2, 4, 6]);
    expect(movingAverage([], 5)).toEqual([]);
  });

  test('both curves, axis labels with units, legends and the before/after values', () => {
    const svg = curvesSvg({
      title: 'T <model>',
      subtitle: 'S',
      rewards: Array.from({ length: 100 }, (_, i) => ({ step: i + 1, reward: i / 100 })),
      passAt1: [{ step: 0, pass: 0.3 }, { step: 50, pass: 0.5 }, { step: 100, pass: 0.72 }],
      rewardLabel: 'mean reward (exact_match, 0 to 1)',
      smooth: 10,
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('T &lt;model&gt;');
    expect(svg.match(/GRPO step/g)).toHaveLength(2);
    expect(svg).toContain('mean reward (exact_match, 0 to 1)');
    expect(svg).toContain('held-out pass@1 (%, greedy)');
    expect(svg).toContain('moving average (10 steps)');
    expect(svg).toContain('pass@1 on the eval split');
    expect(svg).toContain('>30%<');
    expect(svg).toContain('>72%<');
    expect(svg.match(/<polyline/g)).toHaveLength(3);
    expect(svg.match(/<circle/g)!.length).toBeGreaterThanOrEqual(3);
  });
});
