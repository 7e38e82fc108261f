// CPU reference of the l2 normalisation of Qwen3.5's linear-layer queries and keys (transformers' l2norm, as
// flash-linear-attention: x * rsqrt(sum x^2 + eps), eps 1e-6; shaders/l2norm_forward.wgsl / _backward.wgsl).
// x, out (N, W) rows of width W (one head each). Float64 sums.

type Floats = Float32Array | Float64Array;

/** out = x * r, r = 1 / sqrt(sum x^2 + eps) per row (overwrites); rstd (N) saved. */
export function l2normForward(out: Floats, rstd: Floats, x: Floats, N: number, W: number, eps: number): void {
  for (let n = 0; n < N; n++) {
    let ss = 0;
    for (let i = 0; i < W; i++) ss += x[n * W + i] * x[n * W + i];
    const r = 1 / Math.sqrt(ss + eps);
    rstd[n] = r;
    for (let i = 0; i < W; i++) out[n * W + i] = x[n * W + i] * r;
  }
}

/** dx += r * dout - x * r^3 * (x . dout) (accumulates). */
export function l2normBackward(dx: Floats, dout: Floats, x: Floats, rstd: Floats, N: number, W: number): void {
  for (let n = 0; n < N; n++) {
    const r = rstd[n];
    let dot = 0;
    for (let i = 0; i < W; i++) dot += x[n * W + i] * dout[n * W + i];
    for (let i = 0; i < W; i++) dx[n * W + i] += r * dout[n * W + i] - x[n * W + i] * r * r * r * dot;
  }
}
