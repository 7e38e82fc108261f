// Input gradient of matmul_quant_tiled_forward.wgsl (the 'tiled' variant of matmul_quant_backward.wgsl; the
// quantised weight is frozen: no weight gradient), with workgroup-memory tiles:
//   dx (M, K) = alpha * dy (M, N) @ W (+ dx when accumulate = 1),   W (N, K) in a ggml block format
// A workgroup of 64 computes a 32 x 64 tile of dx (rows m0.., columns k0..), stepping N by 32: each step the
// 32 weight rows' 64 values at k0 .. k0 + 63 are dequantised once per workgroup (invocation li decodes 32
// values, half a row, q_values4) into workgroup memory ws, dy's 32 x 32 into ts; then each invocation adds the
// 4 x 8 outer products of its rows and columns. f32 products and sums.
// Bindings: 0 params; 1 dy (read), 2 w (read, u32), 3 dx (read_write, as vec4f: K is whole blocks).
// Dispatch: (ceil(K / 64), Y) with Y >= tiles_m = ceil(M / 32), split over y and z by grid(). Override: QTYPE.
// Overwrites dx, or accumulates (+=) when accumulate = 1.

//#include matmul_quant_backward_vec4_io

//#include matmul_quant_tile_products
// here ts[n * 32 + r] is dy[m0 + r, n0 + n] and ws[n * 64 + c] is W[n0 + n, k0 + c] (0 past N or K)

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  q_begin(p.N, p.K); // NF4_DQ: where the side region starts (lib/ggml_dequant.wgsl)
  let tile = wid.y + wid.z * nwg.y;
  if (tile >= p.tiles_m) { return; } // uniform across the workgroup
  let m0 = tile * 32u;
  let k0 = wid.x * 64u;
  let qk = q_block_size();
  let wpb = q_block_words();
  let sub = q_sub_size();
  let nb = p.K / qk;
  let hr = li / 2u; // the tile row (n for ws, r for ts) this invocation loads, and which half
  let hh = li % 2u;
  let kc = k0 + 32u * hh; // its 32 weight columns
  let b = kc / qk;
  let e0 = kc - b * qk;
  let yrow = min(m0 + hr, p.M - 1u) * p.N;
  let tx = li % 8u; // columns 8 tx .. 8 tx + 7
  let ty = li / 8u; // rows 4 ty .. 4 ty + 3
  for (var n0 = 0u; n0 < p.N; n0 += 32u) {
    let n = n0 + hr;
    let live = n < p.N && kc < p.K;
    let base = (min(n, p.N - 1u) * nb + min(b, nb - 1u)) * wpb;
    for (var q = 0u; q < 8u; q++) {
      let e = e0 + 4u * q;
      var v = vec4f(0.0);
      if (live) { v = q_values4(base, e, q_sub_params(base, e / sub)); }
      let o = hr * 64u + 32u * hh + 4u * q;
      ws[o] = v.x; ws[o + 1u] = v.y; ws[o + 2u] = v.z; ws[o + 3u] = v.w;
    }
    for (var j = 0u; j < 16u; j++) {
      let nn = 16u * hh + j;
      var v = 0.0;
      if (n0 + nn < p.N) { v = dy[yrow + n0 + nn]; }
      ts[nn * 32u + hr] = v;
    }
    workgroupBarrier();
    tile_products(tx, ty);
    workgroupBarrier();
  }
  let row = m0 + 4u * ty;
  let col = k0 + 8u * tx;
  store_row(row, col, c0, d0);
  store_row(row + 1u, col, c1, d1);
  store_row(row + 2u, col, c2, d2);
  store_row(row + 3u, col, c3, d3);
}
