// Selected runs overlaid on every chart: one colour per run (the same on every chart), a legend with
// their names, the live charts' smoothing, the x axis by step, generated tokens or training time; the
// current run drawn live beside earlier ones. Below, the settings that differ between them.

import { useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useAppStore } from '../store';
import { formatValue } from '../charts/series';
import { RUN_COLORS } from '../../experiments/svg_chart';
import { differingKeys, showValue } from '../../experiments/config_diff';
import { overlayRows, type OverlayRun, type OverlayX } from './overlay';

const METRICS: { key: string; title: string; percent?: boolean }[] = [
  { key: 'reward', title: 'Reward' },
  { key: 'eval/pass@1', title: 'Eval pass@1', percent: true },
  { key: 'eval/reward_mean', title: 'Eval reward (held-out)' },
  { key: 'kl', title: 'KL to the base model' },
  { key: 'loss', title: 'Loss' },
  { key: 'entropy', title: 'Entropy' },
  { key: 'clip_ratio/region_mean', title: 'Clip ratio (region)', percent: true },
  { key: 'completions/mean_length', title: 'Completion length (mean)' },
  { key: 'completions/clipped_ratio', title: 'Truncated completions', percent: true },
  { key: 'grad_norm', title: 'Gradient norm' },
  { key: 'learning_rate', title: 'Learning rate' },
  { key: 'tokens_per_second/generation', title: 'Generation tokens / s' },
];

const X_LABEL: Record<OverlayX, string> = { step: 'step', tokens: 'tokens (prompt + completion)', time: 'wall time of training steps (s)' };

export function useOverlayRuns(): { runs: OverlayRun[]; configs: { name: string; config: Record<string, unknown> }[] } {
  const selected = useAppStore((s) => s.selectedRunIds);
  const library = useAppStore((s) => s.libraryRuns);
  const withCurrent = useAppStore((s) => s.overlayCurrent);
  const recordingId = useAppStore((s) => s.recordingId);
  const history = useAppStore((s) => s.history);
  const evals = useAppStore((s) => s.evals);
  const runConfig = useAppStore((s) => s.runConfig);
  return useMemo(() => {
    const runs: OverlayRun[] = [];
    const configs: { name: string; config: Record<string, unknown> }[] = [];
    if (withCurrent && history.length + evals.length > 0) {
      runs.push({ id: 'current', name: 'current run', color: '#111111', history, evals });
      if (runConfig) configs.push({ name: 'current run', config: runConfig as unknown as Record<string, unknown> });
    }
    selected.forEach((id, i) => {
      if (withCurrent && id === recordingId) return; // already drawn live
      const e = library.find((x) => x.run.id === id);
      if (!e) return;
      runs.push({ id, name: e.run.name, color: RUN_COLORS[i % RUN_COLORS.length], history: e.run.history, evals: e.run.evals });
      configs.push({ name: e.run.name, config: e.run.config as unknown as Record<string, unknown> });
    });
    return { runs, configs };
  }, [selected, library, withCurrent, recordingId, history, evals, runConfig]);
}

function OverlayChart({ metric, title, percent, runs, x, smoothing }: { metric: string; title: string; percent?: boolean; runs: OverlayRun[]; x: OverlayX; smoothing: number }) {
  const rows = useMemo(() => overlayRows(runs, metric, x, metric.startsWith('eval/') ? 0 : smoothing), [runs, metric, x, smoothing]);
  const drawn = runs.filter((_, i) => rows.some((r) => r[`s${i}`] !== undefined));
  if (drawn.length === 0) return null;
  const fmt = (v: number) => (percent ? `${Number((v * 100).toPrecision(3))}%` : formatValue(v));
  return (
    <figure className="chart" data-testid={`overlay-chart-${metric}`} data-series={drawn.length}>
      <figcaption className="chart-head">
        <span className="chart-title">{title}</span>
      </figcaption>
      <div className="chart-body">
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={rows} margin={{ top: 6, right: 10, bottom: 14, left: 4 }}>
            <CartesianGrid stroke="var(--grid)" vertical={false} />
            <XAxis dataKey="x" type="number" domain={['dataMin', 'dataMax']} tick={{ fontSize: 11, fill: 'var(--muted)' }} tickFormatter={(v: number) => formatValue(v)}
              label={{ value: X_LABEL[x], position: 'insideBottom', offset: -6, fontSize: 11, fill: 'var(--muted)' }} />
            <YAxis width={58} tick={{ fontSize: 11, fill: 'var(--muted)' }} tickFormatter={fmt} domain={percent ? [0, 1] : ['auto', 'auto']} />
            <Tooltip isAnimationActive={false} formatter={(v, name) => [fmt(Number(v)), String(name)]} labelFormatter={(l) => `${X_LABEL[x]} ${formatValue(Number(l))}`} contentStyle={{ fontSize: 12, borderRadius: 6 }} />
            <Legend verticalAlign="top" height={20} iconSize={10} wrapperStyle={{ fontSize: 11 }} />
            {runs.map((r, i) =>
              rows.some((row) => row[`s${i}`] !== undefined) ? (
                <Line key={r.id} dataKey={`s${i}`} name={r.name} stroke={r.color} dot={rows.length <= 3 ? { r: 2 } : false} strokeWidth={r.id === 'current' ? 2.25 : 1.75} isAnimationActive={false} connectNulls />
              ) : null,
            )}
          </LineChart>
        </ResponsiveContainer>
      </div>
    </figure>
  );
}

export function OverlayCharts() {
  const { runs, configs } = useOverlayRuns();
  const x = useAppStore((s) => s.overlayX);
  const setX = useAppStore((s) => s.setOverlayX);
  const smoothing = useAppStore((s) => s.smoothing);
  const withCurrent = useAppStore((s) => s.overlayCurrent);
  const setWithCurrent = useAppStore((s) => s.setOverlayCurrent);
  const clear = useAppStore((s) => s.setRunSelection);
  const rewardKeys = useMemo(() => {
    const keys = new Set<string>();
    for (const r of runs) for (const h of r.history.slice(0, 1)) for (const k of Object.keys(h)) if (/^rewards\/.+\/mean$/.test(k)) keys.add(k);
    return [...keys];
  }, [runs]);
  const diff = useMemo(() => differingKeys(configs.map((c) => c.config)), [configs]);
  const metrics: { key: string; title: string; percent?: boolean }[] = [...METRICS.slice(0, 3), ...rewardKeys.map((k) => ({ key: k, title: `Reward: ${k.slice(8, -5)}` })), ...METRICS.slice(3)];
  return (
    <div className="overlay" data-testid="overlay" data-runs={runs.length}>
      <div className="overlay-controls">
        <span className="small">
          Comparing <strong>{runs.length}</strong> run{runs.length === 1 ? '' : 's'}
        </span>
        <label className="small">
          x axis{' '}
          <select className="input" value={x} onChange={(e) => setX(e.target.value as OverlayX)} data-testid="overlay-x">
            <option value="step">step</option>
            <option value="tokens">generated tokens</option>
            <option value="time">wall time</option>
          </select>
        </label>
        <label className="check small">
          <input type="checkbox" checked={withCurrent} onChange={(e) => setWithCurrent(e.target.checked)} /> current run (live)
        </label>
        <button type="button" className="secondary small" onClick={() => clear([])} data-testid="overlay-clear">
          Back to the current run
        </button>
      </div>
      <div className="chart-grid">
        {metrics.map((m) => (
          <OverlayChart key={m.key} metric={m.key} title={m.title} percent={m.percent} runs={runs} x={x} smoothing={smoothing} />
        ))}
      </div>
      <h3 className="overlay-diff-title">Settings that differ</h3>
      {configs.length < 2 ? (
        <p className="muted small">Select two runs or more to see their differences.</p>
      ) : diff.length === 0 ? (
        <p className="muted small" data-testid="config-diff-none">The selected runs have the same settings.</p>
      ) : (
        <div className="table-scroll">
          <table className="config-diff" data-testid="config-diff">
            <thead>
              <tr>
                <th>setting</th>
                {configs.map((c, i) => (
                  <th key={i}>{c.name}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {diff.map((k) => (
                <tr key={k}>
                  <th className="mono">{k}</th>
                  {configs.map((c, i) => (
                    <td key={i} className="mono">
                      {showValue(c.config[k])}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
