// A comparison as one self-contained HTML file: the summary per arm (mean ± std over seeds), each run's
// numbers, charts drawn as inline SVG (held-out pass@1 and training reward over steps for every run; the
// final metrics per arm), the settings that differ between runs and the shared config. No scripts, no
// external files: it opens anywhere and can be mailed. The CLI's sweep and the page write the same one.

import { differingKeys, showValue } from './config_diff';
import { formatStat, type Row, type SweepSummary } from './summary';
import { armChartSvg, esc, lineChartSvg, RUN_COLORS, type LineSeries } from './svg_chart';

export interface ReportRun {
  name: string;
  config: Record<string, unknown>;
  rows: readonly Row[];
}

/** Trailing moving average (window w) of a series' finite values. */
export function movingAverage(points: [number, number][], w: number): [number, number][] {
  const out: [number, number][] = [];
  let sum = 0;
  const q: number[] = [];
  for (const [x, y] of points) {
    q.push(y);
    sum += y;
    if (q.length > w) sum -= q.shift()!;
    out.push([x, sum / q.length]);
  }
  return out;
}

export function runSeries(runs: readonly ReportRun[], key: string, smooth = 1): LineSeries[] {
  return runs.map((r, i) => {
    const pts = r.rows.filter((x) => typeof x[key] === 'number' && Number.isFinite(x[key])).map((x) => [x.step, x[key] as number] as [number, number]);
    return { name: r.name, color: RUN_COLORS[i % RUN_COLORS.length], points: smooth > 1 ? movingAverage(pts, smooth) : pts };
  });
}

export function reportHtml(opts: { title: string; summary: SweepSummary; runs: readonly ReportRun[]; spec?: unknown; generatedAt?: string; source?: string }): string {
  const { summary, runs } = opts;
  const steps = Math.max(1, ...runs.map((r) => r.rows.at(-1)?.step ?? 0));
  const smooth = Math.max(1, Math.round(steps / 20));
  const pct = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);
  const n3 = (x: number | null) => (x === null ? '-' : x.toFixed(3));
  const diff = differingKeys(runs.map((r) => r.config)).filter((k) => k !== 'seed' || runs.length > 0);
  const charts = [
    lineChartSvg({ title: 'Held-out pass@1', xLabel: 'step', yLabel: 'pass@1', percent: true, series: runSeries(runs, 'eval/pass@1') }),
    lineChartSvg({ title: `Training reward${smooth > 1 ? ` (moving average of ${smooth} steps)` : ''}`, xLabel: 'step', yLabel: 'reward', series: runSeries(runs, 'reward', smooth) }),
    lineChartSvg({ title: 'KL to the base model', xLabel: 'step', yLabel: 'nats / token', series: runSeries(runs, 'kl', smooth) }),
    armChartSvg({ title: 'Last held-out pass@1 by arm', yLabel: 'pass@1', percent: true, arms: summary.arms.map((a) => ({ name: a.arm, ...a.pass_last })) }),
    armChartSvg({ title: 'Best held-out pass@1 by arm', yLabel: 'pass@1', percent: true, arms: summary.arms.map((a) => ({ name: a.arm, ...a.pass_best })) }),
    armChartSvg({ title: `Final training reward by arm (last ${summary.final_window} steps)`, yLabel: 'reward', arms: summary.arms.map((a) => ({ name: a.arm, ...a.reward_final })) }),
  ];
  const armRows = summary.arms
    .map((a) => `<tr><th>${esc(a.arm)}</th><td>${a.runs.length}</td><td>${formatStat(a.pass_before, 3, true)}</td><td>${formatStat(a.pass_best, 3, true)}</td><td>${formatStat(a.pass_last, 3, true)}</td><td>${formatStat(a.reward_final)}</td><td>${formatStat(a.gap)}</td><td>${formatStat(a.kl_final, 4)}</td><td>${formatStat(a.train_time_s, 1)}</td><td>${formatStat(a.wall_time_s, 1)}</td></tr>`)
    .join('\n');
  const runRows = summary.runs
    .map((r) => `<tr><th>${esc(r.name)}</th><td>${esc(r.arm)}</td><td>${r.seed}</td><td>${r.steps}</td><td>${pct(r.pass_before)}</td><td>${pct(r.pass_best)}</td><td>${pct(r.pass_last)}</td><td>${n3(r.reward_final)}</td><td>${n3(r.gap)}</td><td>${r.kl_final === null ? '-' : r.kl_final.toFixed(4)}</td><td>${r.train_time_s.toFixed(1)}</td><td>${r.wall_time_s === null ? '-' : r.wall_time_s.toFixed(1)}</td></tr>`)
    .join('\n');
  const diffTable = diff.length
    ? `<table><thead><tr><th>setting</th>${runs.map((r) => `<th>${esc(r.name)}</th>`).join('')}</tr></thead><tbody>${diff.map((k) => `<tr><th class="mono">${esc(k)}</th>${runs.map((r) => `<td class="mono">${esc(showValue(r.config[k]))}</td>`).join('')}</tr>`).join('\n')}</tbody></table>`
    : '<p>Every run has the same settings.</p>';
  const shared = runs[0] ? Object.fromEntries(Object.entries(runs[0].config).filter(([k]) => !diff.includes(k))) : {};
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(opts.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#111;margin:24px auto;max-width:1180px;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}p.sub{color:#555;margin:0 0 16px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{border:1px solid #ddd;padding:4px 8px;text-align:right;font-variant-numeric:tabular-nums}
thead th{background:#f4f5f7}tbody th{text-align:left;font-weight:600}.mono{font-family:ui-monospace,Menlo,monospace}
.charts{display:flex;flex-wrap:wrap;gap:12px}.charts svg{border:1px solid #e3e3e3;border-radius:6px;max-width:100%;height:auto}
pre{background:#f6f8fa;padding:10px;border-radius:6px;overflow:auto;font-size:12px}.note{color:#555;font-size:13px}
</style></head><body>
<h1>${esc(opts.title)}</h1>
<p class="sub">${runs.length} runs in ${summary.arms.length} arms${opts.source ? ` · ${esc(opts.source)}` : ''}${opts.generatedAt ? ` · ${esc(opts.generatedAt)}` : ''} · GRPO Playground</p>
<h2>Summary by arm (mean ± std over seeds)</h2>
<table><thead><tr><th>arm</th><th>runs</th><th>pass@1 before</th><th>pass@1 best</th><th>pass@1 last</th><th>reward (final)</th><th>reward − held-out reward</th><th>KL (final)</th><th>train s</th><th>wall s</th></tr></thead>
<tbody>${armRows}</tbody></table>
<p class="note">pass@1: held-out accuracy (best over evaluations after step 0, and at the last one). reward (final) and KL (final): means over each run's last ${summary.final_window} steps. reward − held-out reward: the training reward minus the mean reward on held-out prompts at the last evaluation; a large gap means the run scores on its training prompts what it does not on new ones (reward hacking or overfitting). std is the sample standard deviation over seeds.</p>
<h2>Charts</h2>
<div class="charts">${charts.join('\n')}</div>
<h2>Runs</h2>
<table><thead><tr><th>run</th><th>arm</th><th>seed</th><th>steps</th><th>pass@1 before</th><th>best</th><th>last</th><th>reward (final)</th><th>gap</th><th>KL (final)</th><th>train s</th><th>wall s</th></tr></thead>
<tbody>${runRows}</tbody></table>
<h2>Settings that differ</h2>
${diffTable}
<h2>Shared settings</h2>
<pre>${esc(JSON.stringify(shared, null, 2))}</pre>
${opts.spec ? `<h2>Sweep spec</h2>\n<pre>${esc(JSON.stringify(opts.spec, null, 2))}</pre>` : ''}
</body></html>
`;
}
