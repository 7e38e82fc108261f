// Snippet (not a kernel): the body of matmul_packed16_tiled_forward.wgsl and its shader-f16 twin
// matmul_packed16_tiled_f16_forward.wgsl (params, bindings, tile loads, epilogue); see those files' headers.
// The including kernel defines tile_s / tile_v (the weight tile's types) and pair16(word) -> vec2<tile_s>.

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

//#include matmul_packed16_tile

fn a_at(i: u32, k: u32) -> f32 {
  if (i >= p.M || k >= p.K) { return 0.0; }
  return x[i * p.K + k];
}

// Bs[kk][jj] = W[n0 + jj, k0 + kk]: word (n0 + jj, k0 / 2 + i2) holds kk = 2 i2 and 2 i2 + 1
fn fill_b(li: u32, threads: u32, n0: u32, k0: u32) {
  let half_tk = TK / 2u;
  let K2 = p.K / 2u;
  for (var e = li; e < TILE_N * half_tk; e += threads) {
    let jj = e / half_tk;
    let i2 = e % half_tk;
    var v = vec2<tile_s>(0.0);
    if (n0 + jj < p.N && k0 + 2u * i2 < p.K) { v = pair16(w[(n0 + jj) * K2 + k0 / 2u + i2]); }
    Bs[2u * i2 * WG_X + jj / 4u][jj % 4u] = v.x;
    Bs[(2u * i2 + 1u) * WG_X + jj / 4u][jj % 4u] = v.y;
  }
}

fn put(i: u32, j: u32, v: f32) {
  if (i >= p.M || j >= p.N) { return; }
  let o = i * p.N + j;
  var r = p.alpha * v;
  if (p.has_bias != 0u) { r += bias[j]; }
  if (p.accumulate != 0u) { r += out[o]; }
  out[o] = r;
}

// the tiled product's inner dimension (the entry point is matmul_packed16_tile.wgsl's)
fn inner_dim() -> u32 { return p.K; }
