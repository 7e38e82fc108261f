// Matmul against a frozen ggml block-format weight with workgroup-memory tiles (the 'tiled' variant of
// matmul_quant_forward.wgsl; host: src/gpu/kernels/matmul_quant_variants.ts; for hardware adapters):
//   out (M, N) = alpha * x (M, K) @ W^T (+ bias) (+ out when accumulate = 1),   W (N, K) quantised
// W is (N, K / QK * WPB) u32 as in matmul_quant_forward.wgsl (lib/ggml_dequant.wgsl). A workgroup of 64
// computes a 32 x 64 tile of out, stepping K by 32 (a Q8_0-style block, or an eighth of a K-quant block): each
// step the 64 weight rows' 32 values are dequantised once per workgroup (invocation li decodes row n0 + li,
// q_values4) into workgroup memory ws, x's 32 x 32 into ts; then each invocation adds the 4 x 8 outer
// products of its rows and columns. f32 products and sums (the order differs from 'plain' only by rounding).
// Bindings: 0 params; 1 x (read, as vec4f: K is whole blocks), 2 w (read, u32), 3 bias (read; any buffer when
//   has_bias = 0), 4 out (read_write).
// Dispatch: (ceil(N / 64), Y) with Y >= tiles_m = ceil(M / 32), split over y and z by grid(). Override: QTYPE.
// Overwrites out, or accumulates (+=) when accumulate = 1. Backward: matmul_quant_tiled_backward.wgsl.

//#include matmul_quant_forward_vec4_io

//#include matmul_quant_tile_products
// here ts[k * 32 + r] is x[m0 + r, k0 + k] and ws[k * 64 + c] is W[n0 + c, k0 + k]

fn put_at(r: u32, n: u32, v: f32) {
  if (r < p.M && n < p.N) { put(r * p.N + n, n, v); }
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  q_begin(p.N, p.K); // NF4_DQ: where the side region starts (lib/ggml_dequant.wgsl)
  let tile = wid.y + wid.z * nwg.y;
  if (tile >= p.tiles_m) { return; } // uniform across the workgroup
  let m0 = tile * 32u;
  let n0 = wid.x * 64u;
  let qk = q_block_size();
  let wpb = q_block_words();
  let sub = q_sub_size();
  let nb = p.K / qk;
  let K4 = p.K / 4u;
  let wrow = min(n0 + li, p.N - 1u) * nb * wpb; // this invocation's weight row (clamped: columns past N are not stored)
  let xr = li / 2u; // this invocation's x row in the tile, and which half of the 32 k
  let xh = li % 2u;
  let xrow = min(m0 + xr, p.M - 1u) * K4;
  let tx = li % 8u; // columns 8 tx .. 8 tx + 7
  let ty = li / 8u; // rows 4 ty .. 4 ty + 3
  for (var k0 = 0u; k0 < p.K; k0 += 32u) {
    let b = k0 / qk;
    let base = wrow + b * wpb;
    let e0 = k0 - b * qk;
    for (var q = 0u; q < 8u; q++) {
      let e = e0 + 4u * q;
      let v = q_values4(base, e, q_sub_params(base, e / sub));
      ws[(4u * q) * 64u + li] = v.x;
      ws[(4u * q + 1u) * 64u + li] = v.y;
      ws[(4u * q + 2u) * 64u + li] = v.z;
      ws[(4u * q + 3u) * 64u + li] = v.w;
    }
    for (var j = 0u; j < 4u; j++) {
      let kk = 16u * xh + 4u * j;
      let v = x[xrow + (k0 + kk) / 4u];
      ts[kk * 32u + xr] = v.x;
      ts[(kk + 1u) * 32u + xr] = v.y;
      ts[(kk + 2u) * 32u + xr] = v.z;
      ts[(kk + 3u) * 32u + xr] = v.w;
    }
    workgroupBarrier();
    tile_products(tx, ty);
    workgroupBarrier();
  }
  let row = m0 + 4u * ty;
  let col = n0 + 8u * tx;
  let cs = array<vec4f, 4>(c0, c1, c2, c3);
  let ds = array<vec4f, 4>(d0, d1, d2, d3);
  for (var r = 0u; r < 4u; r++) {
    for (var c = 0u; c < 4u; c++) {
      put_at(row + r, col + c, cs[r][c]);
      put_at(row + r, col + 4u + c, ds[r][c]);
    }
  }
}
