// 16-bit storage of f32 values, two per u32 (low 16 bits the first, high 16 bits the second), as
// src/model/pack16.ts and src/reference/packed16.ts store them. FORMAT (an override the including shader
// declares): 0 = bfloat16 (the top half of the f32), 1 = IEEE half. Rounding is to nearest even, done with
// integer arithmetic so that every adapter gives the host's bits exactly (WGSL leaves pack2x16float's
// rounding to the implementation); |x| beyond half's largest (65504) becomes Inf in f16; NaN stays NaN.

fn round_bf16(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  if ((b & 0x7f800000u) == 0x7f800000u && (b & 0x7fffffu) != 0u) { return (b >> 16u) | 0x40u; }
  return ((b + 0x7fffu + ((b >> 16u) & 1u)) >> 16u) & 0xffffu;
}

fn round_f16(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  let sign = (b >> 16u) & 0x8000u;
  let exp = i32((b >> 23u) & 0xffu);
  var mant = b & 0x7fffffu;
  if (exp == 0xff) { return sign | 0x7c00u | select(0u, 0x200u, mant != 0u); }
  var e = exp - 127 + 15;
  if (e >= 0x1f) { return sign | 0x7c00u; }
  if (e <= 0) {
    if (e < -10) { return sign; }
    mant |= 0x800000u;
    let shift = u32(14 - e);
    let half = 1u << (shift - 1u);
    let rest = mant & ((1u << shift) - 1u);
    var m = mant >> shift;
    if (rest > half || (rest == half && (m & 1u) != 0u)) { m++; }
    return sign | m;
  }
  let rest = mant & 0x1fffu;
  var m = mant >> 13u;
  if (rest > 0x1000u || (rest == 0x1000u && (m & 1u) != 0u)) {
    m++;
    if (m == 0x400u) {
      m = 0u;
      e++;
      if (e >= 0x1f) { return sign | 0x7c00u; }
    }
  }
  return sign | (u32(e) << 10u) | m;
}

// two f32 values rounded to FORMAT and packed into one word
fn pack16x2(v: vec2f) -> u32 {
  if (FORMAT == 1u) { return round_f16(v.x) | (round_f16(v.y) << 16u); }
  return round_bf16(v.x) | (round_bf16(v.y) << 16u);
}

// the two f32 values of a packed word (exact: every 16-bit value is an f32)
fn unpack16x2(u: u32) -> vec2f {
  if (FORMAT == 1u) { return unpack2x16float(u); }
  return vec2f(bitcast<f32>(u << 16u), bitcast<f32>(u & 0xffff0000u));
}
