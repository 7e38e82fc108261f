// Snippet (not a kernel): reading 16-bit weights stored two to a u32 (low 16 bits element 2i, high 16 bits
// element 2i + 1), as src/model/pack16.ts packs them. Override FORMAT: 0 = bfloat16 (the top half of an
// f32), 1 = IEEE half (unpack2x16float). Both widen exactly to f32; no shader-f16 needed.

override FORMAT: u32 = 0u;

// the two f32 values of one packed word: (element 2i, element 2i + 1)
fn unpack(u: u32) -> vec2f {
  if (FORMAT == 1u) { return unpack2x16float(u); }
  return vec2f(bitcast<f32>(u << 16u), bitcast<f32>(u & 0xffff0000u));
}
