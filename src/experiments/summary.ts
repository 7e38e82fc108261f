// A sweep's summary, from each run's own metric rows (metrics.jsonl's rows: steps with TRL's names, and
// eval/pass@1, eval/reward_mean at the steps evaluated). Per run: held-out pass@1 before training, best
// (over evaluations after step 0) and last; the training reward and KL averaged over the last
// FINAL_WINDOW steps; the gap between that training reward and the last held-out reward (a large gap is
// what reward hacking or overfitting looks like); training time. Per arm: each as mean ± std over seeds
// (sample std, n - 1; 0 for one seed), with the per-seed values.

export type Row = { step: number } & Record<string, number | null | undefined>;

/** Steps the final reward and KL are averaged over (fewer when the run is shorter). */
export const FINAL_WINDOW = 10;

export interface RunStats {
  name: string;
  arm: string;
  seed: number;
  steps: number;
  pass_before: number | null;
  pass_best: number | null;
  pass_last: number | null;
  /** mean training reward over the last FINAL_WINDOW steps */
  reward_final: number | null;
  kl_final: number | null;
  eval_reward_last: number | null;
  /** reward_final - eval_reward_last */
  gap: number | null;
  /** sum of step_time (seconds of training, evaluations excluded) */
  train_time_s: number;
  /** wall time of the run, when measured (evaluations included) */
  wall_time_s: number | null;
}

export interface Stat {
  mean: number | null;
  std: number | null;
  values: (number | null)[];
}

export interface ArmSummary {
  arm: string;
  value: unknown;
  runs: string[];
  seeds: number[];
  pass_before: Stat;
  pass_best: Stat;
  pass_last: Stat;
  reward_final: Stat;
  kl_final: Stat;
  gap: Stat;
  train_time_s: Stat;
  wall_time_s: Stat;
}

export interface SweepSummary {
  format: 'grpo-playground-sweep-summary';
  name: string;
  final_window: number;
  arms: ArmSummary[];
  runs: RunStats[];
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function meanOf(xs: number[]): number | null {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/** One run's numbers from its rows. */
export function runStats(name: string, arm: string, seed: number, rows: readonly Row[], wallTimeS: number | null = null): RunStats {
  const sorted = [...rows].sort((a, b) => a.step - b.step);
  const stepRows = sorted.filter((r) => r.step >= 1 && num(r.reward) !== null);
  const evals = sorted.filter((r) => num(r['eval/pass@1']) !== null);
  const window = stepRows.slice(-FINAL_WINDOW);
  const rewardFinal = meanOf(window.map((r) => r.reward as number));
  const klVals = window.map((r) => num(r.kl)).filter((x): x is number => x !== null);
  const before = evals.find((r) => r.step === 0);
  const after = evals.filter((r) => r.step >= 1);
  const last = evals.at(-1);
  const evalRewardLast = last ? num(last['eval/reward_mean']) : null;
  return {
    name,
    arm,
    seed,
    steps: stepRows.length ? stepRows[stepRows.length - 1].step : 0,
    pass_before: before ? (before['eval/pass@1'] as number) : null,
    pass_best: after.length ? Math.max(...after.map((r) => r['eval/pass@1'] as number)) : before ? (before['eval/pass@1'] as number) : null,
    pass_last: last ? (last['eval/pass@1'] as number) : null,
    reward_final: rewardFinal,
    kl_final: meanOf(klVals),
    eval_reward_last: evalRewardLast,
    gap: rewardFinal !== null && evalRewardLast !== null ? rewardFinal - evalRewardLast : null,
    train_time_s: stepRows.reduce((a, r) => a + (num(r.step_time) ?? 0), 0),
    wall_time_s: wallTimeS,
  };
}

/** Mean and sample standard deviation (n - 1) of the values that exist. */
export function stat(values: (number | null)[]): Stat {
  const xs = values.filter((x): x is number => x !== null);
  const mean = meanOf(xs);
  const std = mean === null ? null : xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1));
  return { mean, std, values };
}

/** The summary of runs grouped by arm (arms in the order given). */
export function summarize(name: string, arms: readonly { arm: string; value: unknown }[], runs: readonly RunStats[]): SweepSummary {
  return {
    format: 'grpo-playground-sweep-summary',
    name,
    final_window: FINAL_WINDOW,
    arms: arms.map(({ arm, value }) => {
      const rs = runs.filter((r) => r.arm === arm);
      const s = (k: keyof RunStats) => stat(rs.map((r) => r[k] as number | null));
      return {
        arm,
        value,
        runs: rs.map((r) => r.name),
        seeds: rs.map((r) => r.seed),
        pass_before: s('pass_before'),
        pass_best: s('pass_best'),
        pass_last: s('pass_last'),
        reward_final: s('reward_final'),
        kl_final: s('kl_final'),
        gap: s('gap'),
        train_time_s: s('train_time_s'),
        wall_time_s: s('wall_time_s'),
      };
    }),
    runs: [...runs],
  };
}

/** "0.750 ± 0.021" (or "-"). */
export function formatStat(s: Stat, digits = 3, percent = false): string {
  if (s.mean === null) return '-';
  const f = (x: number) => (percent ? `${(x * 100).toFixed(Math.max(0, digits - 2))}%` : x.toFixed(digits));
  return s.values.filter((v) => v !== null).length > 1 ? `${f(s.mean)} ± ${f(s.std ?? 0)}` : f(s.mean);
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The summary as CSV: one row per arm (mean and std columns), then one row per run. */
export function summaryToCsv(summary: SweepSummary): string {
  const keys = ['pass_before', 'pass_best', 'pass_last', 'reward_final', 'kl_final', 'gap', 'train_time_s', 'wall_time_s'] as const;
  const f = (x: number | null | undefined) => (x === null || x === undefined ? '' : String(x));
  const lines = [['arm', 'runs', ...keys.flatMap((k) => [`${k}_mean`, `${k}_std`])].join(',')];
  for (const a of summary.arms) lines.push([csvField(a.arm), String(a.runs.length), ...keys.flatMap((k) => [f(a[k].mean), f(a[k].std)])].join(','));
  lines.push('');
  lines.push(['run', 'arm', 'seed', 'steps', ...keys].join(','));
  for (const r of summary.runs) lines.push([csvField(r.name), csvField(r.arm), String(r.seed), String(r.steps), ...keys.map((k) => f(r[k]))].join(','));
  return lines.join('\n') + '\n';
}
