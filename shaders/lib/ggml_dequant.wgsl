// Snippet (not a kernel): one value of a ggml quantised block, as ggml-quants.c's dequantize_row_* gives it
// (src/ops/ggml_dequant.ts is the host's twin). The kernel declares the weight binding `w: array<u32>`.
// Blocks are stored word-aligned: each block's bytes at their ggml offsets, padded with zeros to whole u32
// words (src/model/gguf/quant_storage.ts repacks them at upload): Q8_0 34 -> 36 bytes, Q4_0 18 -> 20,
// Q5_0 22 -> 24, Q6_K 210 -> 212; Q4_1 (20), Q5_1 (24), Q4_K (144) and Q5_K (176) are already whole words.
// Override QTYPE: ggml's type id: 2 Q4_0, 3 Q4_1, 6 Q5_0, 7 Q5_1, 8 Q8_0, 12 Q4_K, 13 Q5_K, 14 Q6_K; and 100 NF4
// (not a ggml type: bitsandbytes' 4-bit NormalFloat quantised at load, src/ops/nf4_quantize.ts): 64 values in
// 9 words, word 0 the block's f32 absmax, then 32 bytes of codes, value 2j in the high nibble of byte j;
// value = NF4_LUT[code] * absmax.

override QTYPE: u32 = 8u;

// bitsandbytes' nf4_dequantization_lut
var<private> NF4_LUT: array<f32, 16> = array<f32, 16>(
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334,
  -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
  0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
);

// the NF4 level of value e of the block at word `base`
fn q_nf4(base: u32, e: u32) -> f32 {
  return NF4_LUT[(q_byte(base, 4u + (e >> 1u)) >> (4u - (e & 1u) * 4u)) & 15u];
}

// values per block
fn q_block_size() -> u32 {
  if (QTYPE == 100u) { return 64u; }
  return select(32u, 256u, QTYPE >= 12u);
}

// u32 words per stored block
fn q_block_words() -> u32 {
  switch QTYPE {
    case 2u, 3u: { return 5u; }
    case 6u, 7u: { return 6u; }
    case 12u: { return 36u; }
    case 13u: { return 44u; }
    case 14u: { return 53u; }
    default: { return 9u; } // Q8_0, NF4
  }
}

// byte `off` of the block starting at word `base`
fn q_byte(base: u32, off: u32) -> u32 {
  return (w[base + (off >> 2u)] >> ((off & 3u) * 8u)) & 0xffu;
}

fn q_i8(base: u32, off: u32) -> f32 {
  return f32((i32(q_byte(base, off)) << 24u) >> 24u);
}

// the IEEE half at an even byte offset
fn q_half(base: u32, off: u32) -> f32 {
  let word = w[base + (off >> 2u)];
  return unpack2x16float(select(word & 0xffffu, word >> 16u, (off & 2u) != 0u)).x;
}

// ggml's get_scale_min_k4: the 6-bit scale and min j (0..7) of a Q4_K / Q5_K block (12 bytes from byte 4)
fn q_scale_min_k4(base: u32, j: u32) -> vec2f {
  if (j < 4u) {
    return vec2f(f32(q_byte(base, 4u + j) & 63u), f32(q_byte(base, 8u + j) & 63u));
  }
  let a = q_byte(base, 8u + j);
  let sc = (a & 15u) | ((q_byte(base, j) >> 6u) << 4u);
  let mn = (a >> 4u) | ((q_byte(base, 4u + j) >> 6u) << 4u);
  return vec2f(f32(sc), f32(mn));
}

// value e (0 <= e < q_block_size()) of the block whose first word is `base`
fn q_value(base: u32, e: u32) -> f32 {
  switch QTYPE {
    case 2u: { // Q4_0: (q - 8) * d; values e and e + 16 share byte 2 + e % 16
      let q = (q_byte(base, 2u + (e & 15u)) >> ((e >> 4u) * 4u)) & 15u;
      return (f32(q) - 8.0) * q_half(base, 0u);
    }
    case 3u: { // Q4_1: q * d + m
      let q = (q_byte(base, 4u + (e & 15u)) >> ((e >> 4u) * 4u)) & 15u;
      return f32(q) * q_half(base, 0u) + q_half(base, 2u);
    }
    case 6u: { // Q5_0: the fifth bit of value e is bit e of the u32 at bytes 2..5
      let hb = (q_byte(base, 2u + (e >> 3u)) >> (e & 7u)) & 1u;
      let q = ((q_byte(base, 6u + (e & 15u)) >> ((e >> 4u) * 4u)) & 15u) | (hb << 4u);
      return (f32(q) - 16.0) * q_half(base, 0u);
    }
    case 7u: { // Q5_1: high bits in word 1
      let hb = (w[base + 1u] >> e) & 1u;
      let q = ((q_byte(base, 8u + (e & 15u)) >> ((e >> 4u) * 4u)) & 15u) | (hb << 4u);
      return f32(q) * q_half(base, 0u) + q_half(base, 2u);
    }
    case 12u, 13u: { // Q4_K / Q5_K: d * sc * q - dmin * m over 8 sub-blocks of 32
      let sub = e >> 5u;
      let l = e & 31u;
      let qs = select(16u, 48u, QTYPE == 13u);
      var q = (q_byte(base, qs + (e >> 6u) * 32u + l) >> ((sub & 1u) * 4u)) & 15u;
      if (QTYPE == 13u) { q = q | (((q_byte(base, 16u + l) >> sub) & 1u) << 4u); }
      let sm = q_scale_min_k4(base, sub);
      return (q_half(base, 0u) * sm.x) * f32(q) - q_half(base, 2u) * sm.y;
    }
    case 14u: { // Q6_K: d * sc * (q - 32), 16 int8 scales of 16 values
      let k = e & 127u;
      let g = k >> 5u;
      let l = k & 31u;
      let n = e >> 7u;
      let lo = (q_byte(base, n * 64u + l + (g & 1u) * 32u) >> ((g >> 1u) * 4u)) & 15u;
      let hi = (q_byte(base, 128u + n * 32u + l) >> (2u * g)) & 3u;
      return (q_half(base, 208u) * q_i8(base, 192u + (e >> 4u))) * (f32(lo | (hi << 4u)) - 32.0);
    }
    case 100u: { return q_nf4(base, e) * bitcast<f32>(w[base]); } // NF4: level * absmax
    default: { // Q8_0: q * d
      return q_i8(base, 2u + e) * q_half(base, 0u);
    }
  }
}

// The same values split as value = mult * q_int(e) + off with (mult, off) = q_sub_params(s) constant over each
// sub-block s of q_sub_size() values (the block for Q8_0, NF4 and the 32-value types, 32 for Q4_K / Q5_K, 16 for
// Q6_K): a kernel reads the scales once per sub-block instead of once per value. Equal to q_value up to the
// rounding of one fused multiply-add.
fn q_sub_size() -> u32 {
  switch QTYPE {
    case 12u, 13u: { return 32u; }
    case 14u: { return 16u; }
    case 100u: { return 64u; }
    default: { return 32u; }
  }
}

fn q_sub_params(base: u32, s: u32) -> vec2f {
  switch QTYPE {
    case 3u, 7u: { return vec2f(q_half(base, 0u), q_half(base, 2u)); }
    case 12u, 13u: {
      let sm = q_scale_min_k4(base, s);
      return vec2f(q_half(base, 0u) * sm.x, -(q_half(base, 2u) * sm.y));
    }
    case 14u: { return vec2f(q_half(base, 208u) * q_i8(base, 192u + s), 0.0); }
    case 100u: { return vec2f(bitcast<f32>(w[base]), 0.0); }
    default: { return vec2f(q_half(base, 0u), 0.0); }
  }
}

// the integer of value e (centred for the symmetric types: Q4_0 q - 8, Q5_0 q - 16, Q6_K q - 32, Q8_0 int8)
fn q_int(base: u32, e: u32) -> f32 {
  switch QTYPE {
    case 2u: { return f32((q_byte(base, 2u + (e & 15u)) >> ((e >> 4u) * 4u)) & 15u) - 8.0; }
    case 3u: { return f32((q_byte(base, 4u + (e & 15u)) >> ((e >> 4u) * 4u)) & 15u); }
    case 6u: {
      let hb = (q_byte(base, 2u + (e >> 3u)) >> (e & 7u)) & 1u;
      return f32(((q_byte(base, 6u + (e & 15u)) >> ((e >> 4u) * 4u)) & 15u) | (hb << 4u)) - 16.0;
    }
    case 7u: {
      let hb = (w[base + 1u] >> e) & 1u;
      return f32(((q_byte(base, 8u + (e & 15u)) >> ((e >> 4u) * 4u)) & 15u) | (hb << 4u));
    }
    case 12u, 13u: {
      let sub = e >> 5u;
      let l = e & 31u;
      let qs = select(16u, 48u, QTYPE == 13u);
      var q = (q_byte(base, qs + (e >> 6u) * 32u + l) >> ((sub & 1u) * 4u)) & 15u;
      if (QTYPE == 13u) { q = q | (((q_byte(base, 16u + l) >> sub) & 1u) << 4u); }
      return f32(q);
    }
    case 14u: {
      let k = e & 127u;
      let g = k >> 5u;
      let l = k & 31u;
      let n = e >> 7u;
      let lo = (q_byte(base, n * 64u + l + (g & 1u) * 32u) >> ((g >> 1u) * 4u)) & 15u;
      let hi = (q_byte(base, 128u + n * 32u + l) >> (2u * g)) & 3u;
      return f32(lo | (hi << 4u)) - 32.0;
    }
    case 100u: { return q_nf4(base, e); } // NF4: the level itself (not an integer)
    default: { return q_i8(base, 2u + e); }
  }
}

// Four values at once, for the block-tiled kernels (matmul_quant_block_*, matmul_quant_splitk*): q_int4(base, e)
// is vec4f(q_int(base, e), .., q_int(base, e + 3)) for e a multiple of 4, read as 4-byte vectors. For every
// type the four quants lie in four consecutive bytes at one nibble shift (and their high bits at one bit
// shift), and in one sub-block, so value e + i = fma(mult, q_int4(base, e)[i], off) with (mult, off) =
// q_sub_params(base, e / q_sub_size()): q_values4. The same integers as q_int (checked against the CPU
// reference, src/ops/ggml_dequant.ts, by src/selftest/kernels/matmul_quant_variants.ts).

// the little-endian u32 at byte `off` (any alignment; off + 3 inside the block) of the block at word `base`
fn q_u32(base: u32, off: u32) -> u32 {
  let i = base + (off >> 2u);
  let s = (off & 3u) * 8u;
  if (s == 0u) { return w[i]; }
  return (w[i] >> s) | (w[i + 1u] << (32u - s));
}

// bytes off .. off + 3
fn q_bytes4(base: u32, off: u32) -> vec4u {
  return (vec4u(q_u32(base, off)) >> vec4u(0u, 8u, 16u, 24u)) & vec4u(0xffu);
}

// the nibbles at `shift` (0 or 4) of bytes off .. off + 3
fn q_nib4(base: u32, off: u32, shift: u32) -> vec4u {
  return (q_bytes4(base, off) >> vec4u(shift)) & vec4u(15u);
}

// bits b .. b + 3 of u32 `v`, one per lane
fn q_bits4(v: u32, b: u32) -> vec4u {
  return (vec4u(v >> b) >> vec4u(0u, 1u, 2u, 3u)) & vec4u(1u);
}

fn q_int4(base: u32, e: u32) -> vec4f {
  switch QTYPE {
    case 2u: { return vec4f(q_nib4(base, 2u + (e & 15u), (e >> 4u) * 4u)) - 8.0; }
    case 3u: { return vec4f(q_nib4(base, 4u + (e & 15u), (e >> 4u) * 4u)); }
    case 6u: { return vec4f(q_nib4(base, 6u + (e & 15u), (e >> 4u) * 4u) | (q_bits4(q_u32(base, 2u), e) << vec4u(4u))) - 16.0; }
    case 7u: { return vec4f(q_nib4(base, 8u + (e & 15u), (e >> 4u) * 4u) | (q_bits4(w[base + 1u], e) << vec4u(4u))); }
    case 12u, 13u: {
      let sub = e >> 5u;
      let l = e & 31u;
      let qs = select(16u, 48u, QTYPE == 13u);
      var q = q_nib4(base, qs + (e >> 6u) * 32u + l, (sub & 1u) * 4u);
      if (QTYPE == 13u) { q = q | (((q_bytes4(base, 16u + l) >> vec4u(sub)) & vec4u(1u)) << vec4u(4u)); }
      return vec4f(q);
    }
    case 14u: {
      let k = e & 127u;
      let g = k >> 5u;
      let l = k & 31u;
      let n = e >> 7u;
      let lo = q_nib4(base, n * 64u + l + (g & 1u) * 32u, (g >> 1u) * 4u);
      let hi = (q_bytes4(base, 128u + n * 32u + l) >> vec4u(2u * g)) & vec4u(3u);
      return vec4f(lo | (hi << vec4u(4u))) - 32.0;
    }
    case 100u: { return vec4f(q_nf4(base, e), q_nf4(base, e + 1u), q_nf4(base, e + 2u), q_nf4(base, e + 3u)); } // NF4 levels
    default: { return vec4f((bitcast<vec4i>(q_bytes4(base, 2u + e) << vec4u(24u))) >> vec4u(24u)); }
  }
}

// values e .. e + 3 (e a multiple of 4) given their sub-block's sp = q_sub_params(base, e / q_sub_size())
fn q_values4(base: u32, e: u32, sp: vec2f) -> vec4f {
  return fma(vec4f(sp.x), q_int4(base, e), vec4f(sp.y));
}
