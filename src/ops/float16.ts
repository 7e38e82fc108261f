// Rounding f32 bit patterns to 16-bit floats (nearest even), shared by the upload packing
// (src/model/pack16.ts) and the CPU reference of the 16-bit kernels (src/reference/packed16.ts).
// 'bf16' is the top half of an f32; 'f16' is IEEE half. Inputs and outputs are bit patterns (u32 in,
// 16 bits out), so callers choose how they read the f32 (a typed-array view, or one scratch value).

export type Format16 = 'bf16' | 'f16';

/** bfloat16 bits of the f32 with bit pattern `b`, rounded to nearest even (NaN stays NaN). */
export function bf16FromBits(b: number): number {
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) return (b >>> 16) | 0x40;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

/** IEEE half bits of the f32 with bit pattern `b`, rounded to nearest even; beyond 65504 becomes Inf. */
export function f16FromBits(b: number): number {
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

/** The rounding for `format`, on f32 bit patterns. */
export function round16FromBits(format: Format16): (b: number) => number {
  return format === 'bf16' ? bf16FromBits : f16FromBits;
}
