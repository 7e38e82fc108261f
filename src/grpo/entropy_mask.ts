// top_entropy_quantile (TRL v1.9, after "Beyond the 80/20 Rule", Wang et al. 2025): the threshold is the
// (1 - q) quantile of the entropies of the batch's active completion tokens, with linear interpolation
// between order statistics (torch.quantile's default); tokens at or above it keep their policy loss.

/** The entropy threshold for quantile q in (0, 1] over `values` (the active tokens' entropies); null when q >= 1 (no mask). */
export function entropyThreshold(values: ArrayLike<number>, q: number): number | null {
  if (q >= 1 || values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const pos = (1 - q) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  // rounded to f32 so that the GPU's `entropy >= threshold` compares like the CPU's
  return Math.fround(sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo));
}
