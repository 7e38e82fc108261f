// Training reward against held-out results on one chart, with the latest gap written out: a reward
// that climbs while the held-out reward and pass@1 stay flat is what reward hacking (or memorising the
// training prompts) looks like.

import { useMemo } from 'react';
import { useAppStore } from '../store';
import { MetricChart, type ChartSpec } from '../charts/MetricChart';
import { emaSmooth, type Row } from '../charts/series';

export function gapRows(history: readonly ({ step: number } & Record<string, number>)[], evals: readonly { step: number; passAt1: number; rewardMean: number }[], smoothing: number): Row[] {
  const sm = emaSmooth(history.map((h) => h.reward), smoothing);
  const rows = new Map<number, Row>();
  history.forEach((h, i) => rows.set(h.step, { step: h.step, train: sm[i] }));
  for (const e of evals) rows.set(e.step, { ...(rows.get(e.step) ?? { step: e.step }), heldout: e.rewardMean, pass: e.passAt1 });
  return [...rows.values()].sort((a, b) => a.step - b.step);
}

/** Training reward (mean of the last `window` steps up to the last evaluation) minus the held-out reward there. */
export function latestGap(history: readonly ({ step: number } & Record<string, number>)[], evals: readonly { step: number; rewardMean: number }[], window = 10): { step: number; train: number; heldout: number; gap: number } | null {
  const e = [...evals].filter((x) => x.step >= 1 && Number.isFinite(x.rewardMean)).sort((a, b) => a.step - b.step).at(-1);
  if (!e) return null;
  const recent = history.filter((h) => h.step <= e.step && Number.isFinite(h.reward)).slice(-window);
  if (!recent.length) return null;
  const train = recent.reduce((a, h) => a + h.reward, 0) / recent.length;
  return { step: e.step, train, heldout: e.rewardMean, gap: train - e.rewardMean };
}

export function GapChart() {
  const history = useAppStore((s) => s.history);
  const evals = useAppStore((s) => s.evals);
  const smoothing = useAppStore((s) => s.smoothing);
  const rows = useMemo(() => gapRows(history, evals, smoothing), [history, evals, smoothing]);
  const gap = useMemo(() => latestGap(history, evals), [history, evals]);
  const spec: ChartSpec = {
    id: 'gap',
    title: 'Training reward vs held-out',
    unit: 'reward / accuracy',
    series: [
      { key: 'train', name: 'training reward', color: '#1f5fbf' },
      { key: 'heldout', name: 'held-out reward', color: '#2b8a3e' },
      { key: 'pass', name: 'held-out pass@1', color: '#e67700' },
    ],
    note: gap
      ? `Gap at step ${gap.step}: training reward ${gap.train.toFixed(3)} (last 10 steps) − held-out ${gap.heldout.toFixed(3)} = ${gap.gap >= 0 ? '+' : ''}${gap.gap.toFixed(3)}. A gap that grows means the rewards are won on the training prompts only (reward hacking or memorising).`
      : 'The gap between training reward and held-out reward appears after the first evaluation past step 0.',
  };
  return (
    <div data-testid="gap-chart" data-gap={gap ? gap.gap : ''}>
      <MetricChart spec={spec} rows={rows} raw={null} points={rows.length} />
    </div>
  );
}
