// CPU reference of the Gated DeltaNet's per-token, per-value-head gates (Qwen3.5's linear layers;
// shaders/gdn_gates_forward.wgsl / _backward.wgsl):
//   beta = sigmoid(b);   g = -exp(A_log) * softplus(a + dt_bias)
// b, a, beta, g (N, NV); A_log, dt_bias (NV). softplus as torch's: x for x > 20, else log(1 + exp(x)). Float64.

type Floats = Float32Array | Float64Array;

function softplus(x: number): number {
  return x > 20 ? x : Math.log1p(Math.exp(x));
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** beta, g overwritten. */
export function gdnGatesForward(beta: Floats, g: Floats, b: Floats, a: Floats, aLog: Floats, dtBias: Floats, N: number, NV: number): void {
  for (let n = 0; n < N; n++) {
    for (let h = 0; h < NV; h++) {
      const i = n * NV + h;
      beta[i] = sigmoid(b[i]);
      g[i] = -Math.exp(aLog[h]) * softplus(a[i] + dtBias[h]);
    }
  }
}

/** db, da (N, NV) overwritten; dALog, dDtBias (NV) accumulate (+=) when given. */
export function gdnGatesBackward(
  db: Floats, da: Floats, dALog: Floats | null, dDtBias: Floats | null, dbeta: Floats, dg: Floats, b: Floats, a: Floats, aLog: Floats, dtBias: Floats,
  N: number, NV: number,
): void {
  for (let n = 0; n < N; n++) {
    for (let h = 0; h < NV; h++) {
      const i = n * NV + h;
      const s = sigmoid(b[i]);
      db[i] = dbeta[i] * s * (1 - s);
      const x = a[i] + dtBias[h];
      const A = Math.exp(aLog[h]);
      // d softplus / dx = sigmoid(x) (1 above the threshold)
      const dsp = x > 20 ? 1 : sigmoid(x);
      da[i] = -dg[i] * A * dsp;
      if (dDtBias) dDtBias[h] += da[i];
      if (dALog) dALog[h] += -dg[i] * A * softplus(x);
    }
  }
}
