// Token-length histograms for the dataset panel: integer-width bins that cover the data and the
// configured maximum, and how many rows go past it.

export interface Bin {
  /** inclusive range of lengths in this bin */
  from: number;
  to: number;
  count: number;
  /** the bin lies (at least partly) beyond the limit */
  over: boolean;
}

export interface Histogram {
  bins: Bin[];
  /** rows longer than the limit */
  over: number;
  max: number;
  mean: number;
}

/** About `target` bins of whole-token width over 0..max(lengths, limit). */
export function lengthHistogram(lengths: ArrayLike<number>, limit: number, target = 24): Histogram {
  const n = lengths.length;
  let max = 0;
  let sum = 0;
  let over = 0;
  for (let i = 0; i < n; i++) {
    const v = lengths[i];
    if (v > max) max = v;
    sum += v;
    if (v > limit) over++;
  }
  const top = Math.max(max, Number.isFinite(limit) ? limit : 0, 1);
  const width = Math.max(1, Math.ceil((top + 1) / target));
  const count = Math.floor(top / width) + 1;
  const bins: Bin[] = Array.from({ length: count }, (_, b) => ({ from: b * width, to: b * width + width - 1, count: 0, over: b * width + width - 1 > limit }));
  for (let i = 0; i < n; i++) bins[Math.floor(lengths[i] / width)].count++;
  return { bins, over, max, mean: n ? sum / n : 0 };
}

/** Rows held out for evaluation, as src/data/split.ts computes it. */
export function evalRowCount(rows: number, evalSplit: number): number {
  if (!(evalSplit > 0) || rows < 2) return 0;
  return Math.min(rows - 1, Math.max(1, Math.round(evalSplit * rows)));
}
