// Snippet (not a kernel): what the GPU-class matmuls (matmul_tiled.wgsl, matmul_smallm.wgsl,
// matmul_smallm_subgroup.wgsl) share: params with element strides (every transpose form and any shape, as
// matmul_scalar.wgsl), bindings, strided element reads that return 0 past the edge, and the scalar store.
//   op(a)[i, k] of batch t = a[t * stride_a + i * a_rs + k * a_ks]
//   op(b)[k, j] of batch t = b[t * stride_b + k * b_ks + j * b_cs]

struct Params {
  M: u32,
  K: u32,
  N: u32,
  batches: u32,
  tiles_m: u32,
  stride_a: u32,
  stride_b: u32,
  stride_c: u32,
  a_rs: u32,
  a_ks: u32,
  b_ks: u32,
  b_cs: u32,
  alpha: f32,
  accumulate: u32,
  has_bias: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

// op(a)[i, k] (0 outside the matrix)
fn load_a(a_off: u32, i: u32, k: u32) -> f32 {
  if (i >= p.M || k >= p.K) { return 0.0; }
  return a[a_off + i * p.a_rs + k * p.a_ks];
}

// op(b)[k, j] (0 outside the matrix)
fn load_b(b_off: u32, k: u32, j: u32) -> f32 {
  if (k >= p.K || j >= p.N) { return 0.0; }
  return b[b_off + k * p.b_ks + j * p.b_cs];
}

// out[i, j] of this batch = alpha * v + bias[j] (+ out[i, j]); nothing outside the matrix
fn put(out_off: u32, i: u32, j: u32, v: f32) {
  if (i >= p.M || j >= p.N) { return; }
  let o = out_off + i * p.N + j;
  var r = p.alpha * v;
  if (p.has_bias != 0u) { r += bias[j]; }
  if (p.accumulate != 0u) { r += out[o]; }
  out[o] = r;
}
