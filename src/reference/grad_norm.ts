// CPU reference of GradNorm (grad_norm_partial.wgsl + grad_norm_final.wgsl), same argument order as
// GradNorm.run with the gradients passed explicitly: out = [norm, clipScale], summed in float64.
import { clipsAt } from '../ops/grad_norm';

const F32_MAX = 3.4028234663852886e38;

export function gradNorm(out: Float32Array, grads: readonly Float32Array[], maxNorm: number): void {
  let sum = 0;
  let nonFinite = false;
  for (const g of grads) {
    for (let i = 0; i < g.length; i++) {
      const x = g[i];
      if (!Number.isFinite(x)) nonFinite = true;
      sum += x * x;
    }
  }
  const clip = clipsAt(maxNorm);
  if (nonFinite) {
    out[0] = NaN;
    out[1] = NaN;
  } else if (sum > F32_MAX) {
    // the GPU accumulates squares in f32, which overflows here (as PyTorch's float32 norm does)
    out[0] = Infinity;
    out[1] = clip ? 0 : 1;
  } else {
    const norm = Math.sqrt(sum);
    out[0] = norm;
    out[1] = clip ? Math.min(1, Math.fround(maxNorm) / (norm + 1e-6)) : 1;
  }
}
