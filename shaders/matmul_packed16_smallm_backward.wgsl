// Backward of matmul_packed16_smallm_forward.wgsl with respect to x (the 16-bit weight is frozen: no dW),
// for few rows, split along N inside a workgroup (the GPU-class decode path of matmul_packed16_backward.wgsl):
//   dx (M, K) = alpha * dy (M, N) @ W (+ dx when accumulate = 1),   W (N, K) stored as (N, K / 2) u32 pairs
// (low 16 bits W[n, 2i], high W[n, 2i + 1]; FORMAT 0 = bfloat16, 1 = IEEE half), f32 accumulation.
// A workgroup of 64 computes a 4 x 8 block of dx (rows m0..m0+3, columns c0..c0+7 = 4 words of a row of W):
// invocation li takes the rows n = li, li + 64, ... of W and dy's columns n, and the 64 partial blocks are
// summed by a tree in workgroup memory (shaders/lib/matmul_tree_sum8.wgsl).
// Bindings: 0 params; 1 dy (read), 2 w (read, u32), 3 dx (read_write).
// Dispatch: (ceil(K / 8), Y, Z) with Y * Z >= tiles_m = ceil(M / 4) (split by grid()).
// Overwrites dx, or accumulates (+=) when accumulate = 1. K must be even.

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
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

//#include packed16_unpack
//#include matmul_tree_sum8

// W[n, c], W[n, c + 1] for an even c (0 past the last column)
fn w_pair(n: u32, c: u32) -> vec2f {
  if (c >= p.K) { return vec2f(0.0); }
  return unpack(w[n * (p.K / 2u) + c / 2u]);
}

fn dy_at(r: u32, n: u32) -> f32 {
  if (r >= p.M) { return 0.0; }
  return dy[r * p.N + n];
}

fn put(i: u32, j: u32, v: f32) {
  if (i >= p.M || j >= p.K) { return; }
  let o = i * p.K + j;
  var r = p.alpha * v;
  if (p.accumulate != 0u) { r += dx[o]; }
  dx[o] = r;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let tile = wid.y + wid.z * nwg.y;
  if (tile >= p.tiles_m) { return; } // uniform across the workgroup
  let m0 = tile * 4u;
  let c0 = wid.x * 8u;
  for (var n = li; n < p.N; n += 64u) {
    let b0 = w_pair(n, c0); let b1 = w_pair(n, c0 + 2u); let b2 = w_pair(n, c0 + 4u); let b3 = w_pair(n, c0 + 6u);
    let lo = vec4f(b0, b1);
    let hi = vec4f(b2, b3);
    for (var r = 0u; r < 4u; r++) {
      let a = vec4f(dy_at(m0 + r, n));
      part[2u * r] = fma(a, lo, part[2u * r]);
      part[2u * r + 1u] = fma(a, hi, part[2u * r + 1u]);
    }
  }
  tree_sum8(li);
  if (li < 8u) {
    let s = red[li];
    let row = m0 + li / 2u;
    let col = c0 + 4u * (li % 2u);
    put(row, col, s.x);
    put(row, col + 1u, s.y);
    put(row, col + 2u, s.z);
    put(row, col + 3u, s.w);
  }
}
