// CPU reference of rope_forward.wgsl and rope_backward.wgsl (same argument order as the host wrappers in
// src/gpu/kernels/rope.ts, with the row count N explicit). The angle is the f32 product pos * invFreq[i],
// as on the GPU (and in Hugging Face and llama2.c); its cos and sin are taken in float64. rotaryDim (default HS):
// partial RoPE (Qwen3.5) rotates the first rotaryDim channels of each head (pairs within them; invFreq has
// rotaryDim/2 entries) and passes the rest through.

import type { RopeConvention } from '../ops/rope';

type Floats = Float32Array | Float64Array;

/** Applies the rotation (sign 1) or its transpose (sign -1) to every pair of every head of every row. */
function rotate(
  dst: Floats,
  src: Floats,
  positions: Uint32Array,
  invFreq: Floats,
  N: number,
  nHeads: number,
  headDim: number,
  convention: RopeConvention,
  sign: 1 | -1,
  rotaryDim: number,
): void {
  const half = rotaryDim / 2;
  for (let n = 0; n < N; n++) {
    for (let h = 0; h < nHeads; h++) {
      const base = (n * nHeads + h) * headDim;
      for (let i = rotaryDim; i < headDim; i++) dst[base + i] = src[base + i];
      for (let i = 0; i < half; i++) {
        const angle = Math.fround(positions[n] * invFreq[i]);
        const c = Math.cos(angle);
        const s = sign * Math.sin(angle);
        const a = convention === 'interleaved' ? base + 2 * i : base + i;
        const b = convention === 'interleaved' ? a + 1 : a + half;
        const xa = src[a];
        const xb = src[b];
        dst[a] = xa * c - xb * s;
        dst[b] = xa * s + xb * c;
      }
    }
  }
}

/** out = x with each pair (a, b) of each head rotated by positions[n] * invFreq[i]. x, out (N, NH*HS). */
export function ropeForward(
  out: Floats,
  x: Floats,
  positions: Uint32Array,
  invFreq: Floats,
  N: number,
  nHeads: number,
  headDim: number,
  convention: RopeConvention,
  rotaryDim = headDim,
): void {
  rotate(out, x, positions, invFreq, N, nHeads, headDim, convention, 1, rotaryDim);
}

/** dx = the transposed rotation applied to dout (overwrites). */
export function ropeBackward(
  dx: Floats,
  dout: Floats,
  positions: Uint32Array,
  invFreq: Floats,
  N: number,
  nHeads: number,
  headDim: number,
  convention: RopeConvention,
  rotaryDim = headDim,
): void {
  rotate(dx, dout, positions, invFreq, N, nHeads, headDim, convention, -1, rotaryDim);
}
