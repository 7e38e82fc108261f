// Overlaid runs as chart data: each run's values of one metric against a shared x (step, generated
// tokens, or seconds of training), smoothed the same way as the live charts, merged into one row list
// for recharts with one key per run ("s0", "s1", ...).

import { emaSmooth } from '../charts/series';
import type { EvalRecord } from '../../experiments/run_record';

export type OverlayX = 'step' | 'tokens' | 'time';

export interface OverlayRun {
  id: string;
  name: string;
  color: string;
  history: readonly ({ step: number } & Record<string, number>)[];
  evals: readonly EvalRecord[];
}

/** x of each step of a run: the step, its cumulative num_tokens, or its cumulative step_time (s). */
export function xOfSteps(history: OverlayRun['history'], x: OverlayX): Map<number, number> {
  const out = new Map<number, number>([[0, 0]]);
  let t = 0;
  for (const h of history) {
    if (Number.isFinite(h.step_time)) t += h.step_time;
    out.set(h.step, x === 'step' ? h.step : x === 'tokens' ? (Number.isFinite(h.num_tokens) ? h.num_tokens : NaN) : t);
  }
  return out;
}

/** Merged rows of { x, s0, s1, ... } for one metric ("eval/pass@1" and "eval/reward_mean" read the evaluations). */
export function overlayRows(runs: readonly OverlayRun[], metric: string, x: OverlayX, smoothing: number): { x: number; [k: string]: number }[] {
  const rows = new Map<number, { x: number; [k: string]: number }>();
  runs.forEach((r, i) => {
    const xs = xOfSteps(r.history, x);
    let pts: [number, number][];
    if (metric === 'eval/pass@1' || metric === 'eval/reward_mean') {
      pts = r.evals.map((e) => [e.step, metric === 'eval/pass@1' ? e.passAt1 : e.rewardMean]);
    } else {
      const steps = r.history.filter((h) => h[metric] !== undefined);
      const sm = emaSmooth(steps.map((h) => h[metric]), smoothing);
      pts = steps.map((h, j) => [h.step, sm[j] ?? NaN]);
    }
    for (const [step, v] of pts) {
      const xv = step === 0 ? 0 : xs.get(step);
      if (xv === undefined || !Number.isFinite(xv) || !Number.isFinite(v)) continue;
      const row = rows.get(xv) ?? { x: xv };
      row[`s${i}`] = v;
      rows.set(xv, row);
    }
  });
  return [...rows.values()].sort((a, b) => a.x - b.x);
}
