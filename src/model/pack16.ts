// Host-side storage of f32 weights in 16 bits for upload: rounding to bfloat16 / IEEE half (nearest even)
// and packing pairs into u32 (low 16 bits element 2i, high 16 bits element 2i + 1), as
// matmul_packed16_*.wgsl read them. The rounding itself is src/ops/float16.ts, shared with the CPU reference
// (src/reference/packed16.ts); a test checks both pack alike.

import { round16FromBits, type Format16 } from '../ops/float16';

export type { Format16 };

/** (R, K) f32 values as (R, K / 2) u32 pairs in `format`; the count must be even. */
export function packWeights16(values: Float32Array, format: Format16): Uint32Array {
  if (values.length % 2 !== 0) throw new Error(`packing ${values.length} values in pairs needs an even count`);
  const u = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint32Array(values.length / 2);
  const round = round16FromBits(format);
  for (let i = 0; i < out.length; i++) out[i] = (round(u[2 * i]) | (round(u[2 * i + 1]) << 16)) >>> 0;
  return out;
}

/** The largest |x|, to check that values fit IEEE half (65504). */
export function maxAbs(values: Float32Array): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return m;
}
