// Snippet (not a kernel): what matmul.wgsl and matmul_subgroup.wgsl share: their params, bindings and
// transpose overrides (the same for both, so one descriptor layout serves both), the 8x8 block
// (matmul_block8.wgsl), four steps of k at a time, and the stores. Only the kernels' main() differ, in how
// they read a.

struct Params {
  M: u32,
  K: u32,
  N: u32,
  batches: u32,
  tiles_m: u32,
  wg_x: u32,
  stride_a: u32,
  stride_b: u32,
  stride_c: u32,
  alpha: f32,
  accumulate: u32,
  has_bias: u32,
}

override TRANS_A: bool = false;
override TRANS_B: bool = false;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4f>;
@group(0) @binding(2) var<storage, read> b: array<vec4f>;
@group(0) @binding(3) var<storage, read> bias: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4f>;

//#include matmul_block8

// acc + m * v, written as fma chains (SwiftShader runs `m * v` at half this speed)
fn mv(m: mat4x4f, v: vec4f, acc: vec4f) -> vec4f {
  return fma(m[3], vec4f(v.w), fma(m[2], vec4f(v.z), fma(m[1], vec4f(v.y), fma(m[0], vec4f(v.x), acc))));
}

// Four steps of k. alo[i] / ahi[i]: op(a) row i / i + 4 at k..k+3; blo[q] / bhi[q]: op(b) row k + q,
// columns 0..3 / 4..7 of the block.
fn block4(alo: mat4x4f, ahi: mat4x4f, blo: mat4x4f, bhi: mat4x4f) {
  c0 = mv(blo, alo[0], c0); d0 = mv(bhi, alo[0], d0);
  c1 = mv(blo, alo[1], c1); d1 = mv(bhi, alo[1], d1);
  c2 = mv(blo, alo[2], c2); d2 = mv(bhi, alo[2], d2);
  c3 = mv(blo, alo[3], c3); d3 = mv(bhi, alo[3], d3);
  c4 = mv(blo, ahi[0], c4); d4 = mv(bhi, ahi[0], d4);
  c5 = mv(blo, ahi[1], c5); d5 = mv(bhi, ahi[1], d5);
  c6 = mv(blo, ahi[2], c6); d6 = mv(bhi, ahi[2], d6);
  c7 = mv(blo, ahi[3], c7); d7 = mv(bhi, ahi[3], d7);
}

// out[o] (= vec4 column cv of its row) = alpha * v + bias (+ out[o])
fn put(o: u32, cv: u32, v: vec4f) {
  var r = p.alpha * v;
  if (p.has_bias != 0u) { r += bias[cv]; }
  if (p.accumulate != 0u) { r += out[o]; }
  out[o] = r;
}

fn store_row(out_off: u32, r: u32, col: u32, c: vec4f, d: vec4f) {
  if (r >= p.M) { return; }
  let cv = col / 4u;
  let o = out_off + r * (p.N / 4u) + cv;
  put(o, cv, c);
  if (col + 4u < p.N) { put(o + 1u, cv + 1u, d); }
}
