// Host-side storage of f32 weights in 16 bits for upload: rounding to bfloat16 / IEEE half (nearest even)
// and packing pairs into u32 (low 16 bits element 2i, high 16 bits element 2i + 1), as
// matmul_packed16_*.wgsl read them. The CPU reference (src/reference/packed16.ts) has its own copy; a test
// checks both agree.

export type Format16 = 'bf16' | 'f16';

function bf16(b: number): number {
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) return (b >>> 16) | 0x40; // NaN stays NaN
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

function f16(b: number): number {
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let m = mant >>> shift;
    if (rest > half || (rest === half && (m & 1))) m++;
    return sign | m;
  }
  const rest = mant & 0x1fff;
  let m = mant >>> 13;
  if (rest > 0x1000 || (rest === 0x1000 && (m & 1))) {
    m++;
    if (m === 0x400) {
      m = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

/** (R, K) f32 values as (R, K / 2) u32 pairs in `format`; the count must be even. */
export function packWeights16(values: Float32Array, format: Format16): Uint32Array {
  if (values.length % 2 !== 0) throw new Error(`packing ${values.length} values in pairs needs an even count`);
  const u = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint32Array(values.length / 2);
  const round = format === 'bf16' ? bf16 : f16;
  for (let i = 0; i < out.length; i++) out[i] = (round(u[2 * i]) | (round(u[2 * i + 1]) << 16)) >>> 0;
  return out;
}

/** The largest |x|, to check that values fit IEEE half (65504). */
export function maxAbs(values: Float32Array): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return m;
}
