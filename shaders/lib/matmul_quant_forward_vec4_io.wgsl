// Snippet (not a kernel): the forward variants that read x as vec4f (block, splitk, splitk_subgroup, tiled;
// K is whole blocks): lib/matmul_quant_forward_io.wgsl, x, the weight-row layout and the 4-column store.

@group(0) @binding(1) var<storage, read> x: array<vec4f>;

//#include matmul_quant_forward_io

// stores row r's sums of columns col .. col + 3 (those inside N)
fn store_sum(r: u32, col: u32, a: vec4f) {
  let o = r * p.N + col;
  let n = p.N - col;
  put(o, col, a.x);
  if (n > 1u) { put(o + 1u, col + 1u, a.y); }
  if (n > 2u) { put(o + 2u, col + 2u, a.z); }
  if (n > 3u) { put(o + 3u, col + 3u, a.w); }
}
