// CPU reference of the final logit soft-cap (Gemma 2 and Gemma 4's final_logit_softcapping):
// out = cap * tanh(x / cap), elementwise; its backward dx = dout * (1 - tanh(x / cap)^2) (overwrites).
// Sums in float64; Float64Array inputs work too (finite-difference tests).

import { stableTanh } from './geglu';

type Floats = Float32Array | Float64Array;

export function softcapForward(out: Floats, x: Floats, cap: number, n = out.length): void {
  for (let i = 0; i < n; i++) out[i] = cap * stableTanh(x[i] / cap);
}

export function softcapBackward(dx: Floats, dout: Floats, x: Floats, cap: number, n = dx.length): void {
  for (let i = 0; i < n; i++) {
    const t = stableTanh(x[i] / cap);
    dx[i] = dout[i] * (1 - t * t);
  }
}
