// Snippet (not a kernel): the body of matmul_packed16_tiled_backward.wgsl and its shader-f16 twin
// matmul_packed16_tiled_f16_backward.wgsl (params, bindings, tile loads, epilogue); see those files' headers.
// The including kernel defines tile_s / tile_v (the weight tile's types) and pair16(word) -> vec2<tile_s>.

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

//#include matmul_packed16_tile

fn a_at(i: u32, n: u32) -> f32 {
  if (i >= p.M || n >= p.N) { return 0.0; }
  return dy[i * p.N + n];
}

// Bs[nn][cc] = W[k0 + nn, n0 + cc] (here k0 steps over W's rows, n0 over its columns): word
// (k0 + nn, n0 / 2 + c2) holds cc = 2 c2 and 2 c2 + 1
fn fill_b(li: u32, threads: u32, n0: u32, k0: u32) {
  let half_tn = TILE_N / 2u;
  let K2 = p.K / 2u;
  for (var e = li; e < TK * half_tn; e += threads) {
    let nn = e / half_tn;
    let c2 = e % half_tn;
    var v = vec2<tile_s>(0.0);
    if (k0 + nn < p.N && n0 + 2u * c2 < p.K) { v = pair16(w[(k0 + nn) * K2 + n0 / 2u + c2]); }
    let cc = 2u * c2;
    Bs[nn * WG_X + cc / 4u][cc % 4u] = v.x;
    Bs[nn * WG_X + cc / 4u][cc % 4u + 1u] = v.y;
  }
}

fn put(i: u32, j: u32, v: f32) {
  if (i >= p.M || j >= p.K) { return; }
  let o = i * p.K + j;
  var r = p.alpha * v;
  if (p.accumulate != 0u) { r += dx[o]; }
  dx[o] = r;
}

// the tiled product's inner dimension (the entry point is matmul_packed16_tile.wgsl's)
fn inner_dim() -> u32 { return p.N; }
