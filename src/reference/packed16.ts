// CPU reference of the 16-bit frozen-weight kernels (matmul_packed16_forward/_backward.wgsl,
// embedding_packed16_forward.wgsl) and the host-side rounding that stores f32 weights in 16 bits.
// A packed (R, K) matrix is (R, K / 2) u32: low 16 bits element 2i, high 16 bits element 2i + 1.
// 'bf16' is the top half of an f32 (rounded to nearest even); 'f16' is IEEE half.

import { bf16FromBits, f16FromBits, type Format16 } from '../ops/float16';

export type { Format16 };

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** bfloat16 bits of x, rounded to nearest even (NaN stays NaN). */
export function bf16Bits(x: number): number {
  f32[0] = x;
  return bf16FromBits(u32[0]);
}

/** IEEE half bits of x, rounded to nearest even; |x| beyond the largest half (65504) becomes Inf. */
export function f16Bits(x: number): number {
  f32[0] = x;
  return f16FromBits(u32[0]);
}

/** The f32 value of 16 bits in the given format. */
export function from16(bits: number, format: Format16): number {
  if (format === 'bf16') {
    u32[0] = (bits & 0xffff) << 16;
    return f32[0];
  }
  const sign = bits & 0x8000 ? -1 : 1;
  const e = (bits >>> 10) & 0x1f;
  const m = bits & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

/** Rounds (R, K) f32 values to 16 bits and packs them as (R, K / 2) u32. K (the row length) must be even. */
export function pack16(values: ArrayLike<number>, format: Format16): Uint32Array {
  if (values.length % 2 !== 0) throw new Error(`pack16: ${values.length} values is not an even count`);
  const out = new Uint32Array(values.length / 2);
  const bits = format === 'bf16' ? bf16Bits : f16Bits;
  for (let i = 0; i < out.length; i++) out[i] = (bits(values[2 * i]) | (bits(values[2 * i + 1]) << 16)) >>> 0;
  return out;
}

/** The f32 values of a packed array. */
export function unpack16(packed: Uint32Array, format: Format16): Float32Array {
  const out = new Float32Array(packed.length * 2);
  for (let i = 0; i < packed.length; i++) {
    out[2 * i] = from16(packed[i] & 0xffff, format);
    out[2 * i + 1] = from16(packed[i] >>> 16, format);
  }
  return out;
}

/** The largest |x| of values, to check that they fit IEEE half (65504). */
export function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return m;
}

export type Floats = Float32Array | Float64Array;

/** out (M, N) = alpha * x (M, K) W^T (+ bias) (+ out when accumulate), W (N, K) packed in 16 bits. */
export function matmulPacked16Forward(
  out: Floats, x: Floats, w: Uint32Array, bias: Floats | null, M: number, K: number, N: number, format: Format16,
  alpha = 1, accumulate = false,
): void {
  const W = unpack16(w, format);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += x[i * K + k] * W[j * K + k];
      let r = alpha * s + (bias ? bias[j] : 0);
      if (accumulate) r += out[i * N + j];
      out[i * N + j] = r;
    }
  }
}

/** dx (M, K) = alpha * dy (M, N) W (+ dx when accumulate), W (N, K) packed in 16 bits (frozen: no dW). */
export function matmulPacked16Backward(
  dx: Floats, dy: Floats, w: Uint32Array, M: number, K: number, N: number, format: Format16, alpha = 1, accumulate = false,
): void {
  const W = unpack16(w, format);
  for (let i = 0; i < M; i++) {
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let j = 0; j < N; j++) s += dy[i * N + j] * W[j * K + k];
      const r = alpha * s;
      dx[i * K + k] = accumulate ? dx[i * K + k] + r : r;
    }
  }
}

/** out (N, C) = table[ids], table (V, C) packed in 16 bits; ids >= V give zero rows. */
export function embeddingPacked16Forward(out: Floats, ids: Uint32Array, table: Uint32Array, V: number, C: number, format: Format16): void {
  const T = unpack16(table, format);
  for (let n = 0; n < ids.length; n++) {
    for (let c = 0; c < C; c++) out[n * C + c] = ids[n] < V ? T[ids[n] * C + c] : 0;
  }
}
