// CPU reference of rmsnorm_forward.wgsl and rmsnorm_backward*.wgsl (same argument order as the host
// wrappers in src/gpu/kernels/rmsnorm.ts, with explicit dims). Sums in float64. Float64Array inputs work
// too (finite-difference tests).

type Floats = Float32Array | Float64Array;

/** rstd[n] = 1/sqrt(mean(x[n]^2) + eps); out[n, c] = x[n, c] * rstd[n] * (weight[c] + offset). x, out (N, C).
 * offset 1 is Gemma's x * (1 + w); (weight + offset) is rounded to f32 first, as Hugging Face does. */
export function rmsnormForward(
  out: Floats,
  rstd: Floats,
  x: Floats,
  weight: Floats,
  N: number,
  C: number,
  eps: number,
  offset = 0,
): void {
  const w = effectiveWeight(weight, offset);
  for (let n = 0; n < N; n++) {
    let ss = 0;
    for (let c = 0; c < C; c++) ss += x[n * C + c] * x[n * C + c];
    const r = 1 / Math.sqrt(ss / C + eps);
    rstd[n] = r;
    for (let c = 0; c < C; c++) out[n * C + c] = x[n * C + c] * r * w[c];
  }
}

/** weight + offset, in the weight's own precision (f32 weights stay f32 as on the GPU). */
function effectiveWeight(weight: Floats, offset: number): Floats {
  if (offset === 0) return weight;
  const w = weight instanceof Float32Array ? new Float32Array(weight.length) : new Float64Array(weight.length);
  for (let c = 0; c < weight.length; c++) w[c] = weight[c] + offset;
  return w;
}

/** dx += dL/dx; dweight += dL/dweight when not null (both accumulate). rstd as saved by the forward;
 * w = weight + offset as in the forward:
 * dx[n, c] += r * w[c] * dout[n, c] - x[n, c] * r^3 / C * sum_j dout[n, j] * w[j] * x[n, j]
 * dweight[c] += sum_n dout[n, c] * x[n, c] * r[n] */
export function rmsnormBackward(
  dx: Floats,
  dweight: Floats | null,
  dout: Floats,
  x: Floats,
  weight: Floats,
  rstd: Floats,
  N: number,
  C: number,
  offset = 0,
): void {
  const w = effectiveWeight(weight, offset);
  for (let n = 0; n < N; n++) {
    const r = rstd[n];
    let sum = 0;
    for (let c = 0; c < C; c++) sum += dout[n * C + c] * w[c] * x[n * C + c];
    const k = (r * r * r * sum) / C;
    for (let c = 0; c < C; c++) dx[n * C + c] += r * w[c] * dout[n * C + c] - k * x[n * C + c];
  }
  if (!dweight) return;
  for (let c = 0; c < C; c++) {
    let acc = 0;
    for (let n = 0; n < N; n++) acc += dout[n * C + c] * x[n * C + c] * rstd[n];
    dweight[c] += acc;
  }
}
