// CPU reference of the causal depthwise conv1d + SiLU of Qwen3.5's linear layers (transformers'
// causal_conv1d_fn with activation "silu"; shaders/causal_conv1d_forward.wgsl / _backward.wgsl). Channels last:
//   out[b, t, c] = silu(sum_{j<K} w[c, j] * x[b, t - (K-1) + j, c])   (x before t = 0: the state, else 0)
// x, out (B, T, D); weight (D, K) (the checkpoint's (D, 1, K)); state (B, D, K-1): the K-1 inputs before t = 0
// (decoding), oldest first; null means zeros. Float64 sums.

type Floats = Float32Array | Float64Array;

function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}

/** The pre-activation sum at (b, t, c). */
function convAt(x: Floats, weight: Floats, state: Floats | null, b: number, t: number, c: number, T: number, D: number, K: number): number {
  let acc = 0;
  for (let j = 0; j < K; j++) {
    const s = t - (K - 1) + j;
    let xv = 0;
    if (s >= 0) xv = x[(b * T + s) * D + c];
    else if (state) xv = state[(b * D + c) * (K - 1) + (K - 1 + s)];
    acc += weight[c * K + j] * xv;
  }
  return acc;
}

/** out = silu(conv(x)) (overwrites); newState (B, D, K-1) when given: the last K-1 inputs (state then x). */
export function causalConv1dForward(
  out: Floats, newState: Floats | null, x: Floats, weight: Floats, state: Floats | null, B: number, T: number, D: number, K: number,
): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) for (let c = 0; c < D; c++) out[(b * T + t) * D + c] = silu(convAt(x, weight, state, b, t, c, T, D, K));
    if (!newState) continue;
    for (let c = 0; c < D; c++) {
      for (let j = 0; j < K - 1; j++) {
        const s = T - (K - 1) + j; // position in x of the j-th kept input
        newState[(b * D + c) * (K - 1) + j] = s >= 0
          ? x[(b * T + s) * D + c]
          : state ? state[(b * D + c) * (K - 1) + (K - 1 + s)] : 0;
      }
    }
  }
}

/** dx (B, T, D) overwritten; dweight (D, K) accumulates (+=). The state (inputs before t = 0) gets no gradient. */
export function causalConv1dBackward(
  dx: Floats, dweight: Floats | null, dout: Floats, x: Floats, weight: Floats, state: Floats | null, B: number, T: number, D: number, K: number,
): void {
  dx.fill(0);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let c = 0; c < D; c++) {
        const pre = convAt(x, weight, state, b, t, c, T, D, K);
        const sg = 1 / (1 + Math.exp(-pre));
        const dpre = dout[(b * T + t) * D + c] * sg * (1 + pre * (1 - sg));
        for (let j = 0; j < K; j++) {
          const s = t - (K - 1) + j;
          let xv = 0;
          if (s >= 0) {
            xv = x[(b * T + s) * D + c];
            dx[(b * T + s) * D + c] += dpre * weight[c * K + j];
          } else if (state) xv = state[(b * D + c) * (K - 1) + (K - 1 + s)];
          if (dweight) dweight[c * K + j] += dpre * xv;
        }
      }
    }
  }
}
