// Turning the run's metric rows into chart data: exponential smoothing (TensorBoard's, debiased so the
// first points are not pulled towards 0) and downsampling to a bounded number of points, so charts stay
// fast over thousands of steps. The store keeps every point; only what is drawn is reduced.

export type Row = { step: number } & Record<string, number | undefined>;

/** Smooths one series in place of its values: s_t = w*s_{t-1} + (1-w)*x_t, divided by (1 - w^n) where n
 * counts the finite values so far. Non-finite or missing values stay missing and do not move the average. */
export function emaSmooth(values: readonly (number | undefined)[], weight: number): (number | undefined)[] {
  if (!(weight > 0)) return values.slice();
  const w = Math.min(weight, 0.999);
  let acc = 0;
  let n = 0;
  return values.map((v) => {
    if (v === undefined || !Number.isFinite(v)) return undefined;
    acc = w * acc + (1 - w) * v;
    n++;
    return acc / (1 - w ** n);
  });
}

/** Rows of `step` and `keys` only, with `keys` smoothed (a chart needs nothing else, and narrow rows keep
 * thousands of steps cheap to redraw). */
export function smoothRows(rows: readonly Row[], keys: readonly string[], weight: number): Row[] {
  if (!(weight > 0) || rows.length === 0) return rows as Row[];
  const out: Row[] = rows.map((r) => ({ step: r.step }));
  for (const k of keys) {
    const s = emaSmooth(
      rows.map((r) => r[k]),
      weight,
    );
    out.forEach((r, i) => (r[k] = s[i]));
  }
  return out;
}

/** At most `maxPoints` rows: consecutive rows are grouped into equal buckets, each drawn as one row at its
 * last step holding the mean of each key's finite values (missing when the bucket has none). The first
 * and last rows are kept as they are, so a chart always starts and ends at the true values. */
export function downsampleRows(rows: readonly Row[], keys: readonly string[], maxPoints: number): Row[] {
  const n = rows.length;
  if (n <= maxPoints || maxPoints < 3) return rows as Row[];
  const inner = maxPoints - 2;
  const out: Row[] = [rows[0]];
  const span = (n - 2) / inner;
  for (let b = 0; b < inner; b++) {
    const lo = 1 + Math.floor(b * span);
    const hi = 1 + Math.floor((b + 1) * span);
    if (hi <= lo) continue;
    const row: Row = { step: rows[hi - 1].step };
    for (const k of keys) {
      let sum = 0;
      let count = 0;
      for (let i = lo; i < hi; i++) {
        const v = rows[i][k];
        if (v !== undefined && Number.isFinite(v)) {
          sum += v;
          count++;
        }
      }
      row[k] = count ? sum / count : undefined;
    }
    out.push(row);
  }
  out.push(rows[n - 1]);
  return out;
}

/** Smoothing, then downsampling: what a chart draws. */
export function chartRows(rows: readonly Row[], keys: readonly string[], smoothing: number, maxPoints: number): Row[] {
  return downsampleRows(smoothRows(rows, keys, smoothing), keys, maxPoints);
}

/** A number for a tooltip or axis: short, readable, exact enough. */
export function formatValue(v: number | undefined | null): string {
  if (v === undefined || v === null || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e5 || a < 1e-3) return v.toExponential(2);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toPrecision(3).replace(/\.?0+$/, '');
}

/** A chart's y axis: its range, round ticks and how they are written. */
export interface YAxisSpec {
  domain: [number, number];
  ticks: number[];
  format: (v: number) => string;
}

/** The y axis a chart shows: the data's range with a little room, never an empty span (a constant series
 * gets a band around its value instead of a range that floating-point noise fills), rounded outwards to
 * ticks at 1, 2 or 5 × 10^k, each written with just enough decimals to tell it from its neighbours.
 * Shares (percent) use [0, cap], cap the smallest of 1%, 2%, 5%, 10%, 20%, 50%, 100% that holds them. */
export function yAxis(rows: readonly Row[], keys: readonly string[], percent = false): YAxisSpec {
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of rows) {
    for (const k of keys) {
      const v = r[k];
      if (v === undefined || !Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (percent) {
    const top = hi > 0 ? hi : 0;
    const cap = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5].find((c) => top <= c) ?? 1;
    const step = cap / 4;
    const decimals = decimalsOf(step * 100);
    return { domain: [0, cap], ticks: [0, 1, 2, 3, 4].map((i) => i * step), format: (v) => `${(v * 100).toFixed(decimals)}%` };
  }
  let a: number;
  let b: number;
  if (!Number.isFinite(lo)) [a, b] = [0, 1];
  else {
    const scale = Math.max(Math.abs(lo), Math.abs(hi));
    const pad = hi - lo <= 1e-6 * scale ? (scale > 0 ? scale * 0.1 : 1) : (hi - lo) * 0.05;
    [a, b] = [lo - pad, hi + pad];
    // non-negative data (lengths, norms, rates) keeps a non-negative axis
    if (lo >= 0 && a < 0) a = 0;
  }
  const step = niceStep((b - a) / 4);
  const first = Math.floor(a / step + 1e-9);
  const last = Math.ceil(b / step - 1e-9);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(Number((i * step).toPrecision(12)));
  const big = Math.max(Math.abs(ticks[0]), Math.abs(ticks[ticks.length - 1]));
  const decimals = decimalsOf(step);
  const format = big >= 1e5 || (big < 1e-3 && big > 0) ? (v: number) => (v === 0 ? '0' : v.toExponential(Math.max(0, Math.ceil(Math.log10(big / step)) - 1))) : (v: number) => v.toFixed(decimals);
  return { domain: [ticks[0], ticks[ticks.length - 1]], ticks, format };
}

/** The y range alone (see yAxis). */
export function yDomain(rows: readonly Row[], keys: readonly string[], percent = false): [number, number] {
  return yAxis(rows, keys, percent).domain;
}

/** Decimals that write a multiple of `step` exactly (0.25 -> 2, 0.5 -> 1, 5 -> 0). */
function decimalsOf(step: number): number {
  for (let d = 0; d < 8; d++) {
    const x = step * 10 ** d;
    if (Math.abs(x - Math.round(x)) < 1e-6 * Math.max(1, x)) return d;
  }
  return 8;
}

function niceStep(x: number): number {
  const p = 10 ** Math.floor(Math.log10(x));
  const m = x / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}
