// Charts of which prompts a run trains on (issue 29), shown when the run logs them: the step's groups by pass rate
// (all fail / some pass / all pass: the pass-rate histogram over time, three bins), the mean reward per source of
// a mixture (rewards_by_source/<source>), the curriculum's phase, and DAPO's refill (groups without spread before
// and after, extra sampling rounds).

import type { ChartSpec } from './MetricChart';

const COLORS = ['#1f5fbf', '#c2255c', '#2b8a3e', '#e67700', '#7048e8', '#0b7285', '#5c940d', '#862e9c'];

/** The selection charts for the metric keys a run has logged (none when it logged none of them). */
export function selectionSpecs(keys: ReadonlySet<string>): ChartSpec[] {
  const out: ChartSpec[] = [];
  if (keys.has('pass_rate/some')) {
    out.push({
      id: 'pass-rate-bins',
      title: 'Groups by pass rate',
      unit: 'share of groups',
      percent: true,
      series: [
        { key: 'pass_rate/none', name: 'all fail', color: '#c92a2a' },
        { key: 'pass_rate/some', name: 'some pass', color: '#1f5fbf' },
        { key: 'pass_rate/all', name: 'all pass', color: '#2b8a3e' },
      ],
      note: 'Only groups that partly pass carry a reward spread (a learning signal).',
    });
  }
  const sources = [...keys].filter((k) => k.startsWith('rewards_by_source/')).sort().slice(0, COLORS.length);
  if (sources.length) {
    out.push({
      id: 'reward-by-source',
      title: 'Reward by source',
      unit: 'mean reward',
      series: sources.map((k, i) => ({ key: k, name: k.slice('rewards_by_source/'.length), color: COLORS[i] })),
    });
  }
  if (keys.has('curriculum/phase')) {
    out.push({ id: 'curriculum-phase', title: 'Curriculum phase', unit: 'phase (0 = first)', series: [{ key: 'curriculum/phase', name: 'phase', color: '#7048e8' }] });
  }
  if (keys.has('dynamic_sampling/zero_spread_before')) {
    out.push({
      id: 'refill',
      title: 'Dynamic sampling (refill)',
      unit: 'share of groups',
      percent: true,
      series: [
        { key: 'dynamic_sampling/zero_spread_before', name: 'no spread, first round', color: '#c92a2a' },
        { key: 'dynamic_sampling/zero_spread_after', name: 'no spread, after refill', color: '#2b8a3e' },
      ],
    });
  }
  return out;
}
