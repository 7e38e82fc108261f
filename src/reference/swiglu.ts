// CPU reference of swiglu_forward.wgsl and swiglu_backward.wgsl (same argument order as the host wrappers
// in src/gpu/kernels/swiglu.ts, with an explicit element count). Float64Array inputs work too.

type Floats = Float32Array | Float64Array;

export function sigmoid(g: number): number {
  const e = Math.exp(-Math.abs(g));
  return g >= 0 ? 1 / (1 + e) : e / (1 + e);
}

/** out[i] = silu(gate[i]) * up[i] over n = N*H elements. */
export function swigluForward(out: Floats, gate: Floats, up: Floats, n = out.length): void {
  for (let i = 0; i < n; i++) out[i] = gate[i] * sigmoid(gate[i]) * up[i];
}

/** dgate[i] = dout * up * s * (1 + g * (1 - s)), dup[i] = dout * g * s with s = sigmoid(g). Overwrites. */
export function swigluBackward(dgate: Floats, dup: Floats, dout: Floats, gate: Floats, up: Floats, n = dgate.length): void {
  for (let i = 0; i < n; i++) {
    const g = gate[i];
    const s = sigmoid(g);
    dgate[i] = dout[i] * up[i] * s * (1 + g * (1 - s));
    dup[i] = dout[i] * g * s;
  }
}
