// Snippet (not a kernel): the input-gradient variants that write dx as vec4f (block, splitk, splitk_subgroup,
// tiled; K is whole blocks): lib/matmul_quant_backward_io.wgsl, dx and its stores.

@group(0) @binding(3) var<storage, read_write> dx: array<vec4f>;

//#include matmul_quant_backward_io

// dx's vec4 o = alpha * a (+ dx's vec4 o when accumulate = 1)
fn put4(o: u32, a: vec4f) {
  var g = p.alpha * a;
  if (p.accumulate != 0u) { g += dx[o]; }
  dx[o] = g;
}

// stores row r's columns k .. k + 7 (a, b), unless r is past M or k past K (K is a multiple of 32: columns
// k .. k + 7 are all inside or all past it)
fn store_row(r: u32, k: u32, a: vec4f, b: vec4f) {
  if (r >= p.M || k >= p.K) { return; }
  let o = (r * p.K + k) / 4u;
  put4(o, a);
  put4(o + 1u, b);
}
