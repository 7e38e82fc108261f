// The demo report's chart: a standalone SVG with both panels, labelled axes and legends.
import { describe, expect, test } from 'vitest';
import { curvesSvg, movingAverage } from '../../src/demo/chart';

describe('demo report chart', () => {
  test('moving average over a trailing window', () => {
    expect(movingAverage([1, 3, 5, 7], 2)).toEqual([1, 2, 4, 6]);
    expect(movingAverage([], 5)).toEqual([]);
  });

  test('without greedy: one accuracy curve', () => {
    const svg = curvesSvg({
      title: 'T', subtitle: 'S', rewards: [{ step: 1, reward: 0.5 }], passAt1: [{ step: 0, pass: 0.1 }, { step: 1, pass: 0.2 }],
      passLabel: 'greedy', rewardLabel: 'r', smooth: 5,
    });
    expect(svg.match(/<polyline/g)).toHaveLength(3);
    expect(svg).not.toContain('greedy decoding');
  });

  test('both curves, axis labels with units, legends and the before/after values', () => {
    const svg = curvesSvg({
      title: 'T <model>',
      subtitle: 'S',
      rewards: Array.from({ length: 100 }, (_, i) => ({ step: i + 1, reward: i / 100 })),
      passAt1: [{ step: 0, pass: 0.3 }, { step: 50, pass: 0.5 }, { step: 100, pass: 0.72 }],
      passLabel: 'sampled at temperature 1',
      greedy: [{ step: 0, pass: 0.4 }, { step: 50, pass: 0.6 }, { step: 100, pass: 0.8 }],
      rewardLabel: 'mean reward (exact_match, 0 to 1)',
      smooth: 10,
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('T &lt;model&gt;');
    expect(svg.match(/GRPO step/g)).toHaveLength(2);
    expect(svg).toContain('mean reward (exact_match, 0 to 1)');
    expect(svg).toContain('held-out accuracy (%)');
    expect(svg).toContain('moving average (10 steps)');
    expect(svg).toContain('pass@1, sampled at temperature 1');
    expect(svg).toContain('greedy decoding');
    expect(svg).toContain('>30%<');
    expect(svg).toContain('>72%<');
    expect(svg.match(/<polyline/g)).toHaveLength(4);
    expect(svg.match(/<rect x="[\d.]+" y="[\d.]+" width="6" height="6"/g)).toHaveLength(3);
    expect(svg.match(/<circle/g)!.length).toBeGreaterThanOrEqual(3);
  });
});
