// Snippet (not a kernel): the body of matmul_quant_splitk_forward.wgsl and matmul_quant_splitk_subgroup_forward.wgsl
// (params, bindings, the partial sums, the store); see those files' headers. A workgroup of 64 invocations
// computes a 4 x 4 block of out (rows row .. row + 3, columns col .. col + 3); invocation li takes the vec4s
// c = li, li + 64, ... of K, dequantises the 4 weight rows there (q_values4) and keeps one vec4 of partial
// sums per live row in part[r]. The kernels differ only in how the 64 partial blocks are summed.

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
@group(0) @binding(1) var<storage, read> x: array<vec4f>;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

//#include ggml_dequant

var<private> part: array<vec4f, 4>;

// this invocation's partial sums over its share of K, rows row .. row + live - 1
fn partial_sums(row: u32, col: u32, live: u32, li: u32) {
  let qk = q_block_size();
  let wpb = q_block_words();
  let sub = q_sub_size();
  let nb = p.K / qk;
  let K4 = p.K / 4u;
  let ln = p.N - 1u;
  let w0 = min(col, ln) * nb * wpb; let w1 = min(col + 1u, ln) * nb * wpb;
  let w2 = min(col + 2u, ln) * nb * wpb; let w3 = min(col + 3u, ln) * nb * wpb;
  for (var c = li; c < K4; c += 64u) {
    let b = (4u * c) / qk;
    let e = 4u * c - b * qk;
    let s = e / sub;
    let o = b * wpb;
    let wm = mat4x4f(
      q_values4(w0 + o, e, q_sub_params(w0 + o, s)), q_values4(w1 + o, e, q_sub_params(w1 + o, s)),
      q_values4(w2 + o, e, q_sub_params(w2 + o, s)), q_values4(w3 + o, e, q_sub_params(w3 + o, s)),
    );
    for (var r = 0u; r < live; r++) { part[r] += x[(row + r) * K4 + c] * wm; }
  }
}

fn put(o: u32, n: u32, v: f32) {
  var y = p.alpha * v;
  if (p.has_bias != 0u) { y += bias[n]; }
  if (p.accumulate != 0u) { y += out[o]; }
  out[o] = y;
}

// stores row r's sums (columns col .. col + 3, those inside N)
fn store_sum(r: u32, col: u32, a: vec4f) {
  let o = r * p.N + col;
  let n = p.N - col;
  put(o, col, a.x);
  if (n > 1u) { put(o + 1u, col + 1u, a.y); }
  if (n > 2u) { put(o + 2u, col + 2u, a.z); }
  if (n > 3u) { put(o + 3u, col + 3u, a.w); }
}
