// Snippet (not a kernel): what every quantised-matmul input-gradient kernel declares (matmul_quant_backward.wgsl
// and its variants: block, splitk, splitk_subgroup, tiled): struct Params, the bindings but dx (binding 3, which
// each kernel writes as f32 or vec4f), and ggml's block decoding.

struct Params {
  M: u32,
  K: u32,
  N: u32,
  tiles_m: u32,
  alpha: f32,
  accumulate: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<u32>;

//#include ggml_dequant
