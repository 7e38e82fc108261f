// CPU reference of the quantised-weight kernels (matmul_quant_forward/_backward.wgsl, embedding_quant_forward.wgsl):
// the weight is dequantised block by block exactly as ggml's dequantize_row_* (src/ops/ggml_dequant.ts), then
// multiplied in f32. W is given as the kernels store it: (R, K / QK * WPB) u32, word-aligned blocks.
import { dequantWords } from '../ops/ggml_dequant';
import type { GgmlTypeName } from '../ops/ggml_types';

type Floats = Float32Array | Float64Array;

export { dequantWords };

/** y (M, N) = alpha * x (M, K) W^T (+ bias) (+ y when accumulate). */
export function matmulQuantForward(
  y: Floats, x: Floats, w: Uint32Array, type: GgmlTypeName, bias: Floats | null, M: number, K: number, N: number,
  alpha = 1, accumulate = false,
): void {
  const W = dequantWords(w, type, N, K);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += x[m * K + k] * W[n * K + k];
      let v = alpha * s + (bias ? bias[n] : 0);
      if (accumulate) v += y[m * N + n];
      y[m * N + n] = v;
    }
  }
}

/** dx (M, K) = alpha * dy (M, N) W (+ dx when accumulate). */
export function matmulQuantBackward(
  dx: Floats, dy: Floats, w: Uint32Array, type: GgmlTypeName, M: number, K: number, N: number, alpha = 1, accumulate = false,
): void {
  const W = dequantWords(w, type, N, K);
  for (let m = 0; m < M; m++) {
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let n = 0; n < N; n++) s += dy[m * N + n] * W[n * K + k];
      dx[m * K + k] = alpha * s + (accumulate ? dx[m * K + k] : 0);
    }
  }
}

/** out (N, C) = rows ids of the quantised table (V, C) times scale; ids >= V give zeros. */
export function embeddingQuantForward(out: Float32Array, ids: Uint32Array, table: Uint32Array, type: GgmlTypeName, V: number, C: number, scale = 1): void {
  const T = dequantWords(table, type, V, C);
  ids.forEach((id, n) => {
    for (let c = 0; c < C; c++) out[n * C + c] = id < V ? Math.fround(T[id * C + c] * scale) : 0;
  });
}
