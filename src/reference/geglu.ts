// CPU reference of geglu_forward.wgsl and geglu_backward.wgsl (same argument order as the host wrappers
// in src/gpu/kernels/geglu.ts, with an explicit element count): Gemma's MLP gate with the tanh-approximated
// GELU (PyTorch's gelu(approximate='tanh'), Hugging Face's "gelu_pytorch_tanh"). Float64Array inputs work too.

type Floats = Float32Array | Float64Array;

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const CUBIC = 0.044715;

/** tanh without overflow for any finite u: sign(u) * (1 - e) / (1 + e), e = exp(-2|u|). */
export function stableTanh(u: number): number {
  const e = Math.exp(-2 * Math.abs(u));
  const t = (1 - e) / (1 + e);
  return u < 0 ? -t : t;
}

/** gelu_tanh(g) = 0.5 g (1 + tanh(sqrt(2/pi) (g + 0.044715 g^3))) */
export function geluTanh(g: number): number {
  return 0.5 * g * (1 + stableTanh(SQRT_2_OVER_PI * (g + CUBIC * g * g * g)));
}

/** d gelu_tanh / dg = 0.5 (1 + t) + 0.5 g (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 g^2) */
export function geluTanhGrad(g: number): number {
  const t = stableTanh(SQRT_2_OVER_PI * (g + CUBIC * g * g * g));
  return 0.5 * (1 + t) + 0.5 * g * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * CUBIC * g * g);
}

/** out[i] = gelu_tanh(gate[i]) * up[i] over n = N*H elements. */
export function gegluForward(out: Floats, gate: Floats, up: Floats, n = out.length): void {
  for (let i = 0; i < n; i++) out[i] = geluTanh(gate[i]) * up[i];
}

/** dgate[i] = dout * up * gelu_tanh'(gate), dup[i] = dout * gelu_tanh(gate). Overwrites. */
export function gegluBackward(dgate: Floats, dup: Floats, dout: Floats, gate: Floats, up: Floats, n = dgate.length): void {
  for (let i = 0; i < n; i++) {
    dgate[i] = dout[i] * up[i] * geluTanhGrad(gate[i]);
    dup[i] = dout[i] * geluTanh(gate[i]);
  }
}
