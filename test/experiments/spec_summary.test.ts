// Sweep specs (parsing, expansion into runs) and the summary's arithmetic on hand-made metric rows.
import { describe, expect, it } from 'vitest';
import { expandSweep, parseSweepSpec } from '../../src/experiments/spec';
import { FINAL_WINDOW, runStats, stat, summarize, summaryToCsv } from '../../src/experiments/summary';
import { differingKeys } from '../../src/experiments/config_diff';
import { lineChartSvg } from '../../src/experiments/svg_chart';
import { readFileSync } from 'node:fs';

const base = { name: 's', model: 'm', dataset: 'd.jsonl', config: { learning_rate: 0.003 }, seeds: [1, 2] };

describe('sweep spec', () => {
  it('expands presets x seeds with the preset applied over the base config', () => {
    const spec = parseSweepSpec({ ...base, sweep: { presets: ['dr_grpo', 'dapo'] }, steps: 7 }, 'spec.json');
    const runs = expandSweep(spec);
    expect(runs.map((r) => r.name)).toEqual(['dr_grpo-seed1', 'dr_grpo-seed2', 'dapo-seed1', 'dapo-seed2']);
    expect(runs[0].config).toMatchObject({ loss_type: 'dr_grpo', scale_rewards: 'none', seed: 1, max_steps: 7, learning_rate: 0.003 });
    expect(runs[3].config).toMatchObject({ loss_type: 'dapo', epsilon_high: 0.28, dynamic_sampling: true, seed: 2 });
    expect(expandSweep(spec, {}, 3)[0].config.max_steps).toBe(3);
  });

  it('expands a setting\'s values, named setting=value', () => {
    const runs = expandSweep(parseSweepSpec({ ...base, sweep: { setting: 'beta', values: [0, 0.04] } }, 'x'));
    expect(runs.map((r) => [r.name, r.config.beta, r.config.seed])).toEqual([['beta=0-seed1', 0, 1], ['beta=0-seed2', 0, 2], ['beta=0.04-seed1', 0.04, 1], ['beta=0.04-seed2', 0.04, 2]]);
  });

  it('names every problem of a bad spec', () => {
    expect(() => parseSweepSpec({ ...base, seeds: [1, 1], sweep: { setting: 'learnig_rate', values: [] }, extra: 1 }, 'bad.json')).toThrow(
      /bad\.json: 4 problems.*\n- unknown key "extra".*\n- seeds must not repeat\n- sweep\.setting must name a setting.*\n- sweep\.values must be a non-empty array/,
    );
    expect(() => expandSweep(parseSweepSpec({ ...base, sweep: { setting: 'learning_rate', values: [-1] } }, 'x'))).toThrow(/sweep run learning_rate=-1-seed1/);
    expect(() => parseSweepSpec('{', 'cut.json')).toThrow(/cut\.json: not valid JSON/);
  });

  it('the committed example parses and names GRPO, Dr. GRPO and DAPO with 2 seeds', () => {
    const spec = parseSweepSpec(readFileSync('docs/examples/sweep-presets.json', 'utf8'), 'docs/examples/sweep-presets.json');
    expect(spec.sweep).toEqual({ presets: ['grpo', 'dr_grpo', 'dapo'] });
    expect(spec.seeds).toHaveLength(2);
    expect(expandSweep(spec)).toHaveLength(6);
  });
});

describe('summary', () => {
  const rows = (rewards: number[], evals: [number, number, number][]) => [
    ...rewards.map((r, i) => ({ step: i + 1, reward: r, kl: 0.01 * (i + 1), step_time: 2 })),
    ...evals.map(([step, pass, rm]) => ({ step, 'eval/pass@1': pass, 'eval/reward_mean': rm })),
  ];

  it('per run: pass@1 before/best/last, final reward and KL over the last window, gap, time', () => {
    const rewards = Array.from({ length: 12 }, (_, i) => i / 10); // 0.0 .. 1.1
    const s = runStats('r', 'a', 1, rows(rewards, [[0, 0.4, 0.3], [6, 0.9, 0.8], [12, 0.7, 0.6]]), 33);
    expect(FINAL_WINDOW).toBe(10);
    expect(s).toMatchObject({ steps: 12, pass_before: 0.4, pass_best: 0.9, pass_last: 0.7, eval_reward_last: 0.6, train_time_s: 24, wall_time_s: 33 });
    // last 10 steps: rewards 0.2 .. 1.1, mean 0.65; kl 0.03 .. 0.12, mean 0.075
    expect(s.reward_final).toBeCloseTo(0.65, 12);
    expect(s.kl_final).toBeCloseTo(0.075, 12);
    expect(s.gap).toBeCloseTo(0.05, 12);
  });

  it('per arm: mean and sample std over seeds; CSV has a row per arm and per run', () => {
    expect(stat([1, 3])).toEqual({ mean: 2, std: Math.SQRT2, values: [1, 3] });
    expect(stat([5])).toEqual({ mean: 5, std: 0, values: [5] });
    expect(stat([null])).toEqual({ mean: null, std: null, values: [null] });
    const runs = [runStats('a1', 'a', 1, rows([0.5], [[1, 0.5, 0.5]])), runStats('a2', 'a', 2, rows([1], [[1, 1, 1]])), runStats('b1', 'b', 1, rows([0], [[1, 0, 0]]))];
    const sum = summarize('x', [{ arm: 'a', value: 'a' }, { arm: 'b', value: 'b' }], runs);
    expect(sum.arms[0].pass_last).toEqual({ mean: 0.75, std: Math.sqrt(0.125), values: [0.5, 1] });
    expect(sum.arms[1].runs).toEqual(['b1']);
    const csv = summaryToCsv(sum).split('\n');
    expect(csv[1]).toMatch(/^a,2,/);
    expect(csv[5]).toMatch(/^a1,a,1,1,/);
  });

  it('config differences list only what differs', () => {
    expect(differingKeys([{ a: 1, b: [1], c: 'x' }, { a: 1, b: [2], c: 'x' }, { a: 1, b: [1], c: 'y' }])).toEqual(['b', 'c']);
    expect(differingKeys([{ a: 1 }])).toEqual([]);
  });

  it('the SVG line chart draws one polyline per series with escaped names', () => {
    const svg = lineChartSvg({ title: 'T<', xLabel: 'step', yLabel: 'y', series: [{ name: 'a&b', color: '#000', points: [[1, 1], [2, 2]] }, { name: 'c', color: '#111', points: [[1, 0]] }] });
    expect(svg.match(/<polyline class="series"/g)).toHaveLength(2);
    expect(svg).toContain('T&lt;');
    expect(svg).toContain('a&amp;b');
  });
});
