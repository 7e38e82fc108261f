// A run's metrics as files: one row per logged step in TRL's metric names (the same rows the command
// line writes to metrics.jsonl): step 0 holds the evaluation before training, and eval/pass@1 and
// eval/reward_mean join the step they were measured after.

export type MetricRow = { step: number } & Record<string, number>;

export interface EvalPoint {
  step: number;
  passAt1: number;
  rewardMean: number;
  /** with num_generations_eval: pass@k and mean@k by "pass@2", "mean@2", ... (written as eval/pass@2 ...) */
  atK?: Record<string, number>;
}

/** Steps and evaluations merged by step, in step order. */
export function mergeMetricRows(steps: readonly MetricRow[], evals: readonly EvalPoint[]): MetricRow[] {
  const byStep = new Map<number, MetricRow>();
  for (const s of steps) byStep.set(s.step, { ...s });
  for (const e of evals) {
    const row = byStep.get(e.step) ?? ({ step: e.step } as MetricRow);
    row['eval/pass@1'] = e.passAt1;
    row['eval/reward_mean'] = e.rewardMean;
    for (const [k, v] of Object.entries(e.atK ?? {})) if (k !== 'pass@1') row[`eval/${k}`] = v;
    byStep.set(e.step, row);
  }
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

/** Every metric name, `step` first, then in order of first appearance. */
export function metricColumns(rows: readonly MetricRow[]): string[] {
  const seen = new Set<string>(['step']);
  for (const r of rows) for (const k of Object.keys(r)) seen.add(k);
  return [...seen];
}

/** One JSON object per line; non-finite numbers (which JSON cannot hold) are written as null. */
export function metricsToJsonl(rows: readonly MetricRow[]): string {
  return rows.map((r) => JSON.stringify(r, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))).join('\n') + (rows.length ? '\n' : '');
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV with a header of every metric; a step without a metric (or a non-finite value) leaves its cell empty. */
export function metricsToCsv(rows: readonly MetricRow[]): string {
  const cols = metricColumns(rows);
  const lines = [cols.map(csvField).join(',')];
  for (const r of rows) {
    lines.push(cols.map((c) => (typeof r[c] === 'number' && Number.isFinite(r[c]) ? String(r[c]) : '')).join(','));
  }
  return lines.join('\n') + '\n';
}
