// Snippet (not a kernel): one 4 x 4 register block of a LoRA product over the reduction range [kBegin, kEnd)
// (lora_forward.wgsl's and lora_backward.wgsl's chunk, lora_fused_forward.wgsl's first product):
//   block[j][c] = sum_{k in [kBegin, kEnd), in order} lora_in(rows[j] + k * sIk) * lora_w(k * sWk + cols[c])
// rows: the four output rows' offsets into the input (a projection's row * K, sIk 1; a weight gradient's column m of
// g, sIk M), cols: the four output columns' offsets (col * sWd), both clamped to the last row / column by the
// caller (their extra results are never stored). Summed in vec4 registers
// from zero, one k after another, so that every kernel that includes it adds in the same order, bit for bit.
// The includer defines lora_in(i: u32) -> f32 and lora_w(i: u32) -> f32 over its bindings.

fn lora_block4(rows: vec4u, cols: vec4u, kBegin: u32, kEnd: u32, sIk: u32, sWk: u32) -> array<vec4f, 4> {
  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  for (var k = kBegin; k < kEnd; k++) {
    let wk = k * sWk;
    let ik = k * sIk;
    let wv = vec4f(lora_w(wk + cols.x), lora_w(wk + cols.y), lora_w(wk + cols.z), lora_w(wk + cols.w));
    a0 += lora_in(rows.x + ik) * wv;
    a1 += lora_in(rows.y + ik) * wv;
    a2 += lora_in(rows.z + ik) * wv;
    a3 += lora_in(rows.w + ik) * wv;
  }
  return array<vec4f, 4>(a0, a1, a2, a3);
}
