// CPU reference of add_rmsnorm_forward.wgsl (same argument order as src/gpu/kernels/add_rmsnorm.ts, with
// explicit dims) and of its backward (rmsnorm_backward.wgsl on the saved h, plus the add's identity).
// h is rounded to f32 like the GPU's sum when the arrays are Float32Array; sums of squares in float64.
import { rmsnormBackward, rmsnormForward } from './rmsnorm';

type Floats = Float32Array | Float64Array;

/** h = a + b; rstd[n] = 1/sqrt(mean(h[n]^2) + eps); out[n, c] = h[n, c] * rstd[n] * weight[c]. */
export function addRmsnormForward(
  h: Floats,
  out: Floats,
  rstd: Floats,
  a: Floats,
  b: Floats,
  weight: Floats,
  N: number,
  C: number,
  eps: number,
  offset = 0,
): void {
  for (let i = 0; i < N * C; i++) h[i] = a[i] + b[i];
  rmsnormForward(out, rstd, h, weight, N, C, eps, offset);
}

/** Given dh (the gradient reaching h from later uses of the residual stream) and dout (of the normalised
 * output): da += g, db += g with g = dh + dL/dh through the norm; dweight += dL/dweight when not null.
 * h and rstd as saved by the forward. In the model a, b and h share one gradient buffer (the residual
 * stream's), so there it is one rmsnormBackward accumulating into that buffer. */
export function addRmsnormBackward(
  da: Floats,
  db: Floats,
  dweight: Floats | null,
  dh: Floats,
  dout: Floats,
  h: Floats,
  weight: Floats,
  rstd: Floats,
  N: number,
  C: number,
): void {
  const g = Float64Array.from(dh);
  rmsnormBackward(g, dweight, dout, h, weight, rstd, N, C);
  for (let i = 0; i < N * C; i++) {
    da[i] += g[i];
    db[i] += g[i];
  }
}
