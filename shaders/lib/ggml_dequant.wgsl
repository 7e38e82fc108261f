// Snippet (not a kernel): one value of a ggml quantised block, as ggml-quants.c's dequantize_row_* gives it
// (src/ops/ggml_dequant.ts is the host's twin). The kernel declares the weight binding `w: array<u32>`.
// Blocks are stored word-aligned: each block's bytes at their ggml offsets, padded with zeros to whole u32
// words (src/model/gguf/quant_storage.ts repacks them at upload): Q8_0 34 -> 36 bytes, Q4_0 18 -> 20,
// Q5_0 22 -> 24, Q6_K 210 -> 212; Q4_1 (20), Q5_1 (24), Q4_K (144) and Q5_K (176) are already whole words.
// Override QTYPE: ggml's type id: 2 Q4_0, 3 Q4_1, 6 Q5_0, 7 Q5_1, 8 Q8_0, 12 Q4_K, 13 Q5_K, 14 Q6_K; and 100 NF4
// (not a ggml type: bitsandbytes' 4-bit NormalFloat quantised at load, src/ops/nf4_quantize.ts): 64 values in
// 9 words, word 0 the block's f32 absmax, then 32 bytes of codes, value 2j in the high nibble of byte j;
// value = NF4_LUT[code] * absmax. And 101 NF4_DQ (NF4 with bitsandbytes' double quantisation, stored as
// bitsandbytes stores it): 64-value blocks of 8 words of codes (the same bytes as NF4's words 1..8), all blocks of
// the tensor in row order, then a side region: block g's 8-bit absmax code at byte g (padded to a word), the f32
// absmax2 of blocks 256 k .. 256 k + 255 (global block numbers, across rows), the f32 offset (last word); the
// block's absmax = DQ_MAP[code] * absmax2 + offset (create_dynamic_map's 256 levels), value = NF4_LUT[q] * absmax.
// The side region's place depends on the tensor's block count: a kernel calls q_begin(rows, cols) (its weight's
// shape) before reading NF4_DQ blocks; the block at word `base` is global block base / 8.

override QTYPE: u32 = 8u;

// NF4_DQ: the blocks of the weight tensor (q_begin)
var<private> q_tensor_blocks: u32;

fn q_begin(rows: u32, cols: u32) {
  q_tensor_blocks = rows * (cols / 64u);
}

// bitsandbytes' create_dynamic_map(signed=True) as f32 bits (src/ops/nf4_quantize.ts createDynamicMap)
var<private> DQ_MAP: array<u32, 256> = array<u32, 256>(
  0xbf7e3333u, 0xbf7a999au, 0xbf770000u, 0xbf736666u, 0xbf6fcccdu, 0xbf6c3333u, 0xbf68999au, 0xbf650000u,
  0xbf616666u, 0xbf5dcccdu, 0xbf5a3333u, 0xbf56999au, 0xbf530000u, 0xbf4f6666u, 0xbf4bcccdu, 0xbf483333u,
  0xbf44999au, 0xbf410000u, 0xbf3d6667u, 0xbf39cccdu, 0xbf363333u, 0xbf32999au, 0xbf2f0000u, 0xbf2b6667u,
  0xbf27cccdu, 0xbf243333u, 0xbf20999au, 0xbf1d0000u, 0xbf196667u, 0xbf15cccdu, 0xbf123333u, 0xbf0e999au,
  0xbf0b0000u, 0xbf076666u, 0xbf03cccdu, 0xbf003333u, 0xbef93332u, 0xbef20000u, 0xbeeaccccu, 0xbee39999u,
  0xbedc6666u, 0xbed53332u, 0xbece0000u, 0xbec6ccccu, 0xbebf999au, 0xbeb86666u, 0xbeb13332u, 0xbeaa0000u,
  0xbea2ccccu, 0xbe9b999au, 0xbe946666u, 0xbe8d3333u, 0xbe860000u, 0xbe7d9999u, 0xbe6f3333u, 0xbe60cccdu,
  0xbe526666u, 0xbe440000u, 0xbe359999u, 0xbe273333u, 0xbe18cccdu, 0xbe0a6666u, 0xbdf80000u, 0xbddb3334u,
  0xbdc9eb85u, 0xbdc428f7u, 0xbdbe6667u, 0xbdb8a3d7u, 0xbdb2e148u, 0xbdad1eb8u, 0xbda75c2au, 0xbda1999au,
  0xbd9bd70bu, 0xbd96147bu, 0xbd9051ebu, 0xbd8a8f5du, 0xbd84cccdu, 0xbd7e147bu, 0xbd728f5du, 0xbd670a3du,
  0xbd5b8520u, 0xbd500000u, 0xbd447ae1u, 0xbd38f5c2u, 0xbd2d70a3u, 0xbd21eb85u, 0xbd166667u, 0xbd0ae147u,
  0xbcfeb852u, 0xbce7ae13u, 0xbcd0a3d7u, 0xbcb9999au, 0xbca28f5cu, 0xbc8b851fu, 0xbc68f5c3u, 0xbc3ae148u,
  0xbc1f3b64u, 0xbc160418u, 0xbc0ccccdu, 0xbc039581u, 0xbbf4bc6au, 0xbbe24dd3u, 0xbbcfdf3cu, 0xbbbd70a4u,
  0xbbab020du, 0xbb989374u, 0xbb8624ddu, 0xbb676c8au, 0xbb428f5cu, 0xbb1db22du, 0xbaf1a9fcu, 0xbaa7ef9du,
  0xba7765ffu, 0xba59e83eu, 0xba3c6a80u, 0xba1eecc1u, 0xba016f00u, 0xb9c7e282u, 0xb98ce705u, 0xb923d70bu,
  0xb8ba1f4bu, 0xb88aefb3u, 0xb8378034u, 0xb7b24206u, 0xb70205ffu, 0xb65a1a94u, 0xb513a3b7u, 0x00000000u,
  0x3513a3b7u, 0x365a1a94u, 0x370205ffu, 0x37b24206u, 0x38378034u, 0x388aefb3u, 0x38ba1f4bu, 0x3923d70bu,
  0x398ce705u, 0x39c7e282u, 0x3a016f00u, 0x3a1eecc1u, 0x3a3c6a80u, 0x3a59e83eu, 0x3a7765ffu, 0x3aa7ef9du,
  0x3af1a9fcu, 0x3b1db22du, 0x3b428f5cu, 0x3b676c8au, 0x3b8624ddu, 0x3b989374u, 0x3bab020du, 0x3bbd70a4u,
  0x3bcfdf3cu, 0x3be24dd3u, 0x3bf4bc6au, 0x3c039581u, 0x3c0ccccdu, 0x3c160418u, 0x3c1f3b64u, 0x3c3ae148u,
  0x3c68f5c3u, 0x3c8b851fu, 0x3ca28f5cu, 0x3cb9999au, 0x3cd0a3d7u, 0x3ce7ae13u, 0x3cfeb852u, 0x3d0ae147u,
  0x3d166667u, 0x3d21eb85u, 0x3d2d70a3u, 0x3d38f5c2u, 0x3d447ae1u, 0x3d500000u, 0x3d5b8520u, 0x3d670a3du,
  0x3d728f5du, 0x3d7e147bu, 0x3d84cccdu, 0x3d8a8f5du, 0x3d9051ebu, 0x3d96147bu, 0x3d9bd70bu, 0x3da1999au,
  0x3da75c2au, 0x3dad1eb8u, 0x3db2e148u, 0x3db8a3d7u, 0x3dbe6667u, 0x3dc428f7u, 0x3dc9eb85u, 0x3ddb3334u,
  0x3df80000u, 0x3e0a6666u, 0x3e18cccdu, 0x3e273333u, 0x3e359999u, 0x3e440000u, 0x3e526666u, 0x3e60cccdu,
  0x3e6f3333u, 0x3e7d9999u, 0x3e860000u, 0x3e8d3333u, 0x3e946666u, 0x3e9b999au, 0x3ea2ccccu, 0x3eaa0000u,
  0x3eb13332u, 0x3eb86666u, 0x3ebf999au, 0x3ec6ccccu, 0x3ece0000u, 0x3ed53332u, 0x3edc6666u, 0x3ee39999u,
  0x3eeaccccu, 0x3ef20000u, 0x3ef93332u, 0x3f003333u, 0x3f03cccdu, 0x3f076666u, 0x3f0b0000u, 0x3f0e999au,
  0x3f123333u, 0x3f15cccdu, 0x3f196667u, 0x3f1d0000u, 0x3f20999au, 0x3f243333u, 0x3f27cccdu, 0x3f2b6667u,
  0x3f2f0000u, 0x3f32999au, 0x3f363333u, 0x3f39cccdu, 0x3f3d6667u, 0x3f410000u, 0x3f44999au, 0x3f483333u,
  0x3f4bcccdu, 0x3f4f6666u, 0x3f530000u, 0x3f56999au, 0x3f5a3333u, 0x3f5dcccdu, 0x3f616666u, 0x3f650000u,
  0x3f68999au, 0x3f6c3333u, 0x3f6fcccdu, 0x3f736666u, 0x3f770000u, 0x3f7a999au, 0x3f7e3333u, 0x3f800000u,
);

// NF4_DQ: the rebuilt absmax of the block at word `base` (f32 product, then f32 sum, as dequantizeAbsmax)
fn q_dq_absmax(base: u32) -> f32 {
  let g = base >> 3u;
  let side = q_tensor_blocks * 8u;
  let scales = side + (q_tensor_blocks + 3u) / 4u;
  let code = (w[side + (g >> 2u)] >> ((g & 3u) * 8u)) & 0xffu;
  let scaled = bitcast<f32>(DQ_MAP[code]) * bitcast<f32>(w[scales + (g >> 8u)]);
  return scaled + bitcast<f32>(w[scales + (q_tensor_blocks + 255u) / 256u]);
}

// bitsandbytes' nf4_dequantization_lut
var<private> NF4_LUT: array<f32, 16> = array<f32, 16>(
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334,
  -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
  0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
);

// the NF4 level of value e of the block at word `base`
fn q_nf4(base: u32, e: u32) -> f32 {
  let codes = select(4u, 0u, QTYPE == 101u); // NF4: after the absmax word; NF4_DQ: the block is its codes
  return NF4_LUT[(q_byte(base, codes + (e >> 1u)) >> (4u - (e & 1u) * 4u)) & 15u];
}

// values per block
fn q_block_size() -> u32 {
  if (QTYPE == 100u || QTYPE == 101u) { return 64u; }
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
    case 101u: { return 8u; } // NF4_DQ: the codes (the absmax in the side region)
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
    case 101u: { return q_nf4(base, e) * q_dq_absmax(base); } // NF4_DQ: level * rebuilt absmax
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
    case 100u, 101u: { return 64u; }
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
    case 101u: { return vec2f(q_dq_absmax(base), 0.0); }
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
    case 100u, 101u: { return q_nf4(base, e); } // NF4 / NF4_DQ: the level itself (not an integer)
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
    case 100u, 101u: { return vec4f(q_nf4(base, e), q_nf4(base, e + 1u), q_nf4(base, e + 2u), q_nf4(base, e + 3u)); } // NF4 levels
    default: { return vec4f((bitcast<vec4i>(q_bytes4(base, 2u + e) << vec4u(24u))) >> vec4u(24u)); }
  }
}

// values e .. e + 3 (e a multiple of 4) given their sub-block's sp = q_sub_params(base, e / q_sub_size())
fn q_values4(base: u32, e: u32, sp: vec2f) -> vec4f {
  return fma(vec4f(sp.x), q_int4(base, e), vec4f(sp.y));
}
