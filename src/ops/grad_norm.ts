// Gradient clipping's rule for maxNorm, shared by GradNorm (src/gpu/kernels/grad_norm.ts) and its CPU
// reference (src/reference/grad_norm.ts).

/** Whether maxNorm asks for clipping: maxNorm <= 0, Infinity (or beyond f32) and NaN mean no clipping. */
export function clipsAt(maxNorm: number): boolean {
  return maxNorm > 0 && Number.isFinite(Math.fround(maxNorm));
}
