// CPU reference of scale_forward.wgsl / scale_backward.wgsl: out (+)= alpha * x; dx (+)= alpha * dout.
// Float64Array inputs work too (finite-difference tests).

type Floats = Float32Array | Float64Array;

/** accumulate: out += alpha * x, else out = alpha * x. */
export function scaleForward(out: Floats, x: Floats, alpha: number, accumulate = false, n = out.length): void {
  for (let i = 0; i < n; i++) out[i] = (accumulate ? out[i] : 0) + alpha * x[i];
}

/** accumulate: dx += alpha * dout, else dx = alpha * dout. */
export function scaleBackward(dx: Floats, dout: Floats, alpha: number, accumulate: boolean, n = dx.length): void {
  for (let i = 0; i < n; i++) dx[i] = (accumulate ? dx[i] : 0) + alpha * dout[i];
}
