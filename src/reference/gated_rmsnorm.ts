// CPU reference of Qwen3.5's gated output norm of the linear layers (Qwen3_5RMSNormGated: plain w, not 1 + w;
// shaders/gated_rmsnorm_forward.wgsl / _backward.wgsl):
//   out[n, c] = x[n, c] * r[n] * w[c] * silu(z[n, c]),  r = 1 / sqrt(mean_c x^2 + eps)
// x, z, out (N, C) rows of one value head each (C = DV); w (C). Float64 sums.

import { rmsnormBackward, rmsnormForward } from './rmsnorm';

type Floats = Float32Array | Float64Array;

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** out (overwrites), rstd (N) saved. */
export function gatedRmsnormForward(out: Floats, rstd: Floats, x: Floats, z: Floats, weight: Floats, N: number, C: number, eps: number): void {
  rmsnormForward(out, rstd, x, weight, N, C, eps);
  for (let i = 0; i < N * C; i++) out[i] *= z[i] * sigmoid(z[i]);
}

/** dx, dz and dweight accumulate (+=; dweight skipped when null). */
export function gatedRmsnormBackward(
  dx: Floats, dz: Floats, dweight: Floats | null, dout: Floats, x: Floats, z: Floats, weight: Floats, rstd: Floats, N: number, C: number,
): void {
  const dn = new Float64Array(N * C); // d loss / d (rmsnorm(x) * w)
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const i = n * C + c;
      const s = sigmoid(z[i]);
      const normed = x[i] * rstd[n] * weight[c];
      dn[i] = dout[i] * z[i] * s;
      dz[i] += dout[i] * normed * s * (1 + z[i] * (1 - s));
    }
  }
  rmsnormBackward(dx, dweight, dn, x, weight, rstd, N, C);
}
