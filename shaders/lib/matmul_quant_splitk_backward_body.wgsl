// Snippet (not a kernel): the body of matmul_quant_splitk_backward.wgsl and matmul_quant_splitk_subgroup_backward.wgsl
// (params, bindings, the partial sums, the store); see those files' headers. A workgroup of 64 invocations
// computes a 4 x 8 block of dx (rows row .. row + 3, columns kc .. kc + 7, inside one sub-block); invocation
// li takes n = li, li + 64, ..., dequantises W[n, kc .. kc + 7] (q_values4, the sub-block's scales once) and
// keeps two vec4s of partial sums per live row in part[2r], part[2r + 1]. The kernels differ only in how the
// 64 partial blocks are summed.

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
@group(0) @binding(3) var<storage, read_write> dx: array<vec4f>;

//#include ggml_dequant

var<private> part: array<vec4f, 8>;

// this invocation's partial sums over its share of N, rows row .. row + live - 1
fn partial_sums(row: u32, kc: u32, live: u32, li: u32) {
  let qk = q_block_size();
  let wpb = q_block_words();
  let nb = p.K / qk;
  let b = kc / qk;
  let e = kc - b * qk;
  let s = e / q_sub_size();
  for (var n = li; n < p.N; n += 64u) {
    let base = (n * nb + b) * wpb;
    let sp = q_sub_params(base, s);
    let va = q_values4(base, e, sp);
    let vb = q_values4(base, e + 4u, sp);
    for (var r = 0u; r < live; r++) {
      let d = vec4f(dy[(row + r) * p.N + n]);
      part[2u * r] = fma(d, va, part[2u * r]);
      part[2u * r + 1u] = fma(d, vb, part[2u * r + 1u]);
    }
  }
}

// stores vec4 h (0: columns kc .. kc + 3, 1: kc + 4 .. kc + 7) of row r
fn store_sum(r: u32, kc: u32, h: u32, a: vec4f) {
  let o = (r * p.K + kc) / 4u + h;
  var g = p.alpha * a;
  if (p.accumulate != 0u) { g += dx[o]; }
  dx[o] = g;
}
