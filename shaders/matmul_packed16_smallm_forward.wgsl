// Matrix multiply against a frozen 16-bit weight for few rows (decoding), split along K inside a workgroup
// (the GPU-class decode path of matmul_packed16_forward.wgsl; same result up to f32 summation order):
//   out (M, N) = alpha * x (M, K) @ W^T (+ bias) (+ out when accumulate = 1),   W (N, K) in 16 bits
// W is stored as (N, K / 2) u32 pairs (low 16 bits W[n, 2i], high W[n, 2i + 1]; FORMAT 0 = bfloat16,
// 1 = IEEE half), widened to f32; f32 accumulation.
// A workgroup of 64 computes a 4 x 8 block of out (rows m0..m0+3, columns n0..n0+7): invocation li takes the
// words i = li, li + 64, ... of the 8 weight rows (consecutive invocations read consecutive words) and the
// matching pairs of x, and the 64 partial blocks are summed by a tree in workgroup memory
// (shaders/lib/matmul_tree_sum8.wgsl).
// Bindings: 0 params; 1 x (read), 2 w (read, u32), 3 bias (read; any buffer when has_bias = 0), 4 out (read_write).
// Dispatch: (ceil(N / 8), Y, Z) with Y * Z >= tiles_m = ceil(M / 4) (split by grid()).
// Overwrites out, or accumulates (+=) when accumulate = 1. K must be even. Backward:
// matmul_packed16_smallm_backward.wgsl.

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
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

//#include packed16_unpack
//#include matmul_tree_sum8

// W[n, 2i], W[n, 2i + 1] (0 past the last row)
fn w_pair(n: u32, i: u32) -> vec2f {
  if (n >= p.N) { return vec2f(0.0); }
  return unpack(w[n * (p.K / 2u) + i]);
}

// x[r, 2i], x[r, 2i + 1] (0 past the last row)
fn x_pair(r: u32, i: u32) -> vec2f {
  if (r >= p.M) { return vec2f(0.0); }
  return vec2f(x[r * p.K + 2u * i], x[r * p.K + 2u * i + 1u]);
}

fn put(i: u32, j: u32, v: f32) {
  if (i >= p.M || j >= p.N) { return; }
  let o = i * p.N + j;
  var r = p.alpha * v;
  if (p.has_bias != 0u) { r += bias[j]; }
  if (p.accumulate != 0u) { r += out[o]; }
  out[o] = r;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let tile = wid.y + wid.z * nwg.y;
  if (tile >= p.tiles_m) { return; } // uniform across the workgroup
  let m0 = tile * 4u;
  let n0 = wid.x * 8u;
  for (var i = li; i < p.K / 2u; i += 64u) {
    let b0 = w_pair(n0, i); let b1 = w_pair(n0 + 1u, i); let b2 = w_pair(n0 + 2u, i); let b3 = w_pair(n0 + 3u, i);
    let b4 = w_pair(n0 + 4u, i); let b5 = w_pair(n0 + 5u, i); let b6 = w_pair(n0 + 6u, i); let b7 = w_pair(n0 + 7u, i);
    let lo0 = vec4f(b0.x, b1.x, b2.x, b3.x); let hi0 = vec4f(b4.x, b5.x, b6.x, b7.x); // k = 2i
    let lo1 = vec4f(b0.y, b1.y, b2.y, b3.y); let hi1 = vec4f(b4.y, b5.y, b6.y, b7.y); // k = 2i + 1
    for (var r = 0u; r < 4u; r++) {
      let a = x_pair(m0 + r, i);
      part[2u * r] = fma(vec4f(a.y), lo1, fma(vec4f(a.x), lo0, part[2u * r]));
      part[2u * r + 1u] = fma(vec4f(a.y), hi1, fma(vec4f(a.x), hi0, part[2u * r + 1u]));
    }
  }
  tree_sum8(li);
  if (li < 8u) {
    let s = red[li];
    let row = m0 + li / 2u;
    let col = n0 + 4u * (li % 2u);
    put(row, col, s.x);
    put(row, col + 1u, s.y);
    put(row, col + 2u, s.z);
    put(row, col + 3u, s.w);
  }
}
