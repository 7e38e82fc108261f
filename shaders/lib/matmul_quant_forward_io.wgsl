// Snippet (not a kernel): what every quantised-matmul forward kernel declares (matmul_quant_forward.wgsl and its
// variants: block, splitk, splitk_subgroup, tiled): struct Params, the bindings but x (binding 1, which each
// kernel reads as f32 or vec4f), ggml's block decoding, and the store of one output value.

struct Params {
  M: u32,
  K: u32,
  N: u32,
  tiles_m: u32,
  alpha: f32,
  accumulate: u32,
  has_bias: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

//#include ggml_dequant

// out[o] (column n) = alpha * v (+ bias[n] when has_bias = 1) (+ out[o] when accumulate = 1)
fn put(o: u32, n: u32, v: f32) {
  var y = p.alpha * v;
  if (p.has_bias != 0u) { y += bias[n]; }
  if (p.accumulate != 0u) { y += out[o]; }
  out[o] = y;
}
